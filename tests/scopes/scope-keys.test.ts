import { readFileSync } from 'node:fs';
import t from 'tap';
import { capabilityScopeKey as sdkScopeKey } from '../../plugin-sdk/protocol/scope-keys.ts';
import { CapabilityTokens } from '../../runtime/capabilities/capability-tokens.ts';
import { capabilityScopeKey, secretScopeKey } from '../../runtime/scopes/scope-keys.ts';

t.test('a secret scope key is access-secret:<name>, the same for host and SDK', async (t) => {
  t.equal(secretScopeKey('API_KEY'), 'access-secret:API_KEY');
  t.equal(capabilityScopeKey('access-secret', 'DB'), sdkScopeKey('access-secret', 'DB'));
});

t.test('the tokens handed out at welcome are keyed by secretScopeKey', async (t) => {
  const tokens = new CapabilityTokens().forSecrets('01LAUNCH', ['API_KEY', 'DB']);
  t.same(Object.keys(tokens), [secretScopeKey('API_KEY'), secretScopeKey('DB')]);
});

t.test('the shared scope-key module imports nothing, so Deno runs it in the SDK as is', async (t) => {
  const source = readFileSync(new URL('../../plugin-sdk/protocol/scope-keys.ts', import.meta.url), 'utf8');
  t.notMatch(source, /^\s*(import|export)\b[^;]*\bfrom\b/m);
});
