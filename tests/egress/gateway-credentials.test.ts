import fc from 'fast-check';
import t from 'tap';
import { GatewayCredentials } from '../../runtime/egress/gateway-credentials.ts';

const basic = (text: string) => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;

t.test('the right credential stands for its value', async (t) => {
  const credentials = new GatewayCredentials<{ launch: string }>();
  const value = { launch: 'one' };
  const { user, password } = credentials.issue('01HZX-launch', value);
  t.equal(user, '01HZX-launch');
  t.match(password, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
  t.equal(credentials.verify(basic(`${user}:${password}`)), value);
  t.equal(credentials.verify(`basic   ${Buffer.from(`${user}:${password}`).toString('base64')}  `), value, 'the scheme in any case, spaces around');
  t.equal(credentials.verify(basic(`${encodeURIComponent(user)}:${password}`)), value, 'a percent-encoded user name');
});

t.test('a wrong password, an unknown user or another launch’s password is refused', async (t) => {
  const credentials = new GatewayCredentials<string>();
  const a = credentials.issue('launch-a', 'A');
  const b = credentials.issue('launch-b', 'B');
  t.not(a.password, b.password, 'each launch gets its own password');
  t.equal(credentials.verify(basic(`launch-a:${a.password}x`)), undefined, 'wrong password');
  t.equal(credentials.verify(basic(`launch-a:${a.password.slice(0, -1)}`)), undefined, 'a prefix of the password');
  t.equal(credentials.verify(basic('launch-a:')), undefined, 'empty password');
  t.equal(credentials.verify(basic(`launch-a:${b.password}`)), undefined, "another launch's password");
  t.equal(credentials.verify(basic(`launch-c:${a.password}`)), undefined, 'unknown user');
  t.equal(credentials.verify(basic(`LAUNCH-A:${a.password}`)), undefined, 'user names are exact');
  t.equal(credentials.verify(basic(`launch-b:${b.password}`)), 'B');
});

t.test('a malformed header is refused, never thrown on', async (t) => {
  const credentials = new GatewayCredentials<string>();
  const { user, password } = credentials.issue('launch-a', 'A');
  const good = Buffer.from(`${user}:${password}`).toString('base64');
  const headers: (string | undefined)[] = [
    undefined,
    '',
    'Basic',
    'Basic ',
    `Bearer ${good}`,
    good,
    `Basic ${good} extra`,
    `Basic ${good.replace(/=+$/, '')}!`,
    basic(`${user}${password}`), // no colon
    basic(`%E0%A4%A:${password}`), // a malformed escape in the user name
    basic(`%:${password}`),
    `Basic ${'A'.repeat(600)}`, // past the length a credential can have
  ];
  for (const header of headers) {
    t.doesNotThrow(() => credentials.verify(header), JSON.stringify(header));
    t.equal(credentials.verify(header), undefined, JSON.stringify(header));
  }
});

t.test('a revoked credential is refused; the others live on', async (t) => {
  const credentials = new GatewayCredentials<string>();
  const a = credentials.issue('launch-a', 'A');
  const b = credentials.issue('launch-b', 'B');
  credentials.revoke('launch-a');
  t.equal(credentials.verify(basic(`launch-a:${a.password}`)), undefined);
  t.equal(credentials.verify(basic(`launch-b:${b.password}`)), 'B');
  credentials.revoke('never-issued');
  t.equal(credentials.verify(basic(`launch-b:${b.password}`)), 'B', 'revoking an unknown user changes nothing');
});

t.test('issuing again for a user replaces the old password', async (t) => {
  const credentials = new GatewayCredentials<string>();
  const first = credentials.issue('launch-a', 'first');
  const second = credentials.issue('launch-a', 'second');
  t.equal(credentials.verify(basic(`launch-a:${first.password}`)), undefined);
  t.equal(credentials.verify(basic(`launch-a:${second.password}`)), 'second');
});

t.test('property: no header but the issued one is accepted, and none throws', async (t) => {
  const credentials = new GatewayCredentials<string>();
  const { user, password } = credentials.issue('launch-p', 'P');
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string().map(basic), fc.tuple(fc.string(), fc.string()).map(([u, p]) => basic(`${u}:${p}`)), fc.string().map((p) => basic(`${user}:${p}`))), (header) => {
      const value = credentials.verify(header);
      return value === undefined || header === basic(`${user}:${password}`);
    }),
    { numRuns: 2000 },
  );
  t.pass('no counterexample');
});
