import t from 'tap';
import { LAUNCH_TOKEN_BYTES } from '../../runtime/handshake/launch-token.ts';
import { TokenRegistry } from '../../runtime/handshake/token-registry.ts';

const NOW = 1_700_000_000_000;
const TIMEOUT_MS = 10_000;

t.test('a token is 32 random bytes, base64url, different for each launch', async (t) => {
  const registry = new TokenRegistry();
  const a = registry.issue('launch-a', TIMEOUT_MS, NOW);
  const b = registry.issue('launch-b', TIMEOUT_MS, NOW);
  t.match(a, /^[A-Za-z0-9_-]+$/);
  t.equal(Buffer.from(a, 'base64url').byteLength, LAUNCH_TOKEN_BYTES);
  t.not(a, b);
});

t.test('the right token succeeds once', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', token, NOW + 1), null);
});

t.test('presenting the same token a second time is a replay', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', token, NOW + 1), null);
  t.equal(registry.redeem('launch-a', token, NOW + 2), 'replay');
});

t.test('a wrong token is bad_token', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
  t.equal(registry.redeem('launch-a', wrong, NOW + 1), 'bad_token');
  t.equal(registry.redeem('launch-a', '', NOW + 1), 'bad_token');
});

t.test('a wrong guess burns the token: the right one fails afterwards', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', 'guess', NOW + 1), 'bad_token');
  t.not(registry.redeem('launch-a', token, NOW + 2), null);
});

t.test('a token minted for another launch is a replay', async (t) => {
  const registry = new TokenRegistry();
  registry.issue('launch-a', TIMEOUT_MS, NOW);
  const other = registry.issue('launch-b', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', other, NOW + 1), 'replay');
});

t.test('a token presented after its deadline is a timeout, and is burned', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', token, NOW + TIMEOUT_MS + 1), 'timeout');
  t.not(registry.redeem('launch-a', token, NOW + 1), null, 'not good again even with an earlier clock');
});

t.test('a token presented exactly at its deadline is still in time', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', token, NOW + TIMEOUT_MS), null);
});

t.test('a burned launch refuses its token', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  registry.burn('launch-a');
  t.equal(registry.redeem('launch-a', token, NOW + 1), 'replay');
});

t.test('a retired launch refuses its token, and a retired token is a replay elsewhere', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-a', token, NOW + 1), null);
  registry.retire('launch-a');
  t.equal(registry.redeem('launch-a', token, NOW + 2), 'replay');
  registry.issue('launch-b', TIMEOUT_MS, NOW);
  t.equal(registry.redeem('launch-b', token, NOW + 3), 'replay');
});

t.test('an unknown launch id is refused', async (t) => {
  const registry = new TokenRegistry();
  const token = registry.issue('launch-a', TIMEOUT_MS, NOW);
  t.not(registry.redeem('launch-z', token, NOW + 1), null);
});
