import t from 'tap';
import { computeGrants, declaredScopes, type GrantPolicy, type ResolvedCapabilities } from '../../runtime/grants/compute-grants.ts';
import type { GrantDecision, SecretInjection } from '../../runtime/grants/grants.ts';
import { parseManifest } from '../../runtime/manifest/load-manifest.ts';
import type { PolicyInput } from '../../runtime/policy/policy-schema.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

const PLUGIN = 'plug';

/** Declared capabilities as the manifest loader gives them (the inject format defaulted). */
function declare(entries: unknown[]): ResolvedCapabilities {
  return parseManifest({
    name: PLUGIN,
    version: '1.0.0',
    entry: 'plugin.ts',
    capabilities: { 'access-secret': entries },
    tools: { x: { description: 'x', input: { type: 'object' } } },
  }).capabilities;
}

function decide(entries: unknown[], policy: PolicyInput | undefined, extra: Partial<GrantPolicy> = {}) {
  return computeGrants(
    declare(entries),
    { allowDeclared: false, policy: policy === undefined ? undefined : resolvePolicy(policy, '/'), ...extra },
    PLUGIN,
  );
}

const allow = (...entries: unknown[]): PolicyInput => ({ plugins: { [PLUGIN]: { 'access-secret': entries as NonNullable<PolicyInput['plugins']>[string]['access-secret'] } } });
const decisionFor = (decisions: GrantDecision[], scope: string) => decisions.find((decision) => decision.scope === scope);

const bearer = { name: 'API_KEY', inject: { host: 'api.example.com', header: 'Authorization', format: 'Bearer {}' } };
const bearerInjection: SecretInjection = { name: 'API_KEY', host: 'api.example.com', port: 443, header: 'Authorization', format: 'Bearer {}' };
const SCOPE = 'API_KEY→api.example.com:443 Authorization';

t.test('an injection the policy writes the same way is granted for injection only: in injections, never in grants.secrets', async (t) => {
  const { grants, decisions, injections } = decide([bearer, 'DB_PASSWORD'], allow('DB_PASSWORD', bearer));
  t.same(grants.secrets, ['DB_PASSWORD'], 'only the plain name can be read');
  t.same(injections, [bearerInjection]);
  t.same(decisionFor(decisions, SCOPE), { capability: 'access-secret', scope: SCOPE, granted: true, rule: 'policy plugins.plug.access-secret[1]' });
  t.same(decisionFor(decisions, 'DB_PASSWORD'), { capability: 'access-secret', scope: 'DB_PASSWORD', granted: true, rule: 'policy plugins.plug.access-secret[0]' });
});

t.test('the policy host matches in any letter case, and a port of 443 is the same as none', async (t) => {
  const declared = { name: 'API_KEY', inject: { host: 'API.Example.com:443', header: 'Authorization', format: 'Bearer {}' } };
  const { injections } = decide([declared], allow({ ...bearer, inject: { ...bearer.inject, host: 'api.EXAMPLE.com' } }));
  t.same(injections, [bearerInjection]);
  const plainFormat = decide([{ name: 'API_KEY', inject: { host: 'api.example.com', header: 'X-Key' } }], allow({ name: 'API_KEY', inject: { host: 'api.example.com', header: 'X-Key', format: '{}' } }));
  t.same(plainFormat.injections, [{ name: 'API_KEY', host: 'api.example.com', port: 443, header: 'X-Key', format: '{}' }], 'an omitted format is "{}" on both sides');
});

t.test('an injection the policy writes differently is refused, naming the policy entry it differs from', async (t) => {
  const differing: [string, Record<string, unknown>][] = [
    ['another host', { host: 'other.example.com' }],
    ['another port', { host: 'api.example.com:8443' }],
    ['another header', { header: 'X-Api-Key' }],
    ['the header in another letter case', { header: 'authorization' }],
    ['another format', { format: 'Token {}' }],
    ['no format', { format: undefined }],
  ];
  for (const [label, fields] of differing) {
    const { grants, injections, decisions } = decide([bearer], allow({ name: 'API_KEY', inject: { ...bearer.inject, ...fields } }));
    t.same([grants.secrets, injections], [[], []], label);
    const decision = decisionFor(decisions, SCOPE);
    t.equal(decision?.granted, false, label);
    t.match(decision?.rule, /^policy plugins\.plug\.access-secret\[0\] grants API_KEY for another injection \(API_KEY→.*\): host, port, header and format must match$/, label);
  }
});

t.test('a policy name grants only reading the secret, never injecting it', async (t) => {
  const { grants, injections, decisions } = decide([bearer], allow('API_KEY'));
  t.same([grants.secrets, injections], [[], []]);
  t.same(decisionFor(decisions, SCOPE), {
    capability: 'access-secret',
    scope: SCOPE,
    granted: false,
    rule: 'policy plugins.plug.access-secret[0] lets API_KEY be read, which does not grant injecting it',
  });
});

t.test('a policy inject entry grants only that injection, never reading the secret', async (t) => {
  const { grants, injections, decisions } = decide(['API_KEY'], allow(bearer));
  t.same([grants.secrets, injections], [[], []]);
  t.same(decisionFor(decisions, 'API_KEY'), {
    capability: 'access-secret',
    scope: 'API_KEY',
    granted: false,
    rule: `policy plugins.plug.access-secret[0] grants API_KEY for injection only (${SCOPE}), not to be read`,
  });
});

t.test('a policy listing a name in both forms grants the form the manifest declares', async (t) => {
  const policy = allow('API_KEY', { name: 'API_KEY', inject: { host: 'elsewhere.example.com', header: 'X' } }, bearer);
  const injected = decide([bearer], policy);
  t.same([injected.grants.secrets, injected.injections], [[], [bearerInjection]]);
  t.equal(decisionFor(injected.decisions, SCOPE)?.rule, 'policy plugins.plug.access-secret[2]');
  const read = decide(['API_KEY'], policy);
  t.same([read.grants.secrets, read.injections], [['API_KEY'], []]);
});

t.test('a secret the policy does not mention is refused in either form', async (t) => {
  const { decisions, injections } = decide([bearer, 'DB_PASSWORD'], allow('OTHER'));
  t.same(injections, []);
  for (const scope of [SCOPE, 'DB_PASSWORD']) t.equal(decisionFor(decisions, scope)?.rule, 'not in policy plugins.plug.access-secret', scope);
});

t.test('allowDeclared grants both forms as declared; no policy grants neither', async (t) => {
  const declared = decide([bearer, 'DB_PASSWORD'], undefined, { allowDeclared: true });
  t.same(declared.grants.secrets, ['DB_PASSWORD']);
  t.same(declared.injections, [bearerInjection]);
  t.ok(declared.decisions.every((decision) => decision.rule === 'allow-declared (development): everything declared is granted'));
  const none = decide([bearer, 'DB_PASSWORD'], undefined);
  t.same([none.grants.secrets, none.injections], [[], []]);
  t.equal(decisionFor(none.decisions, SCOPE)?.rule, 'default: nothing but provide-tools without a policy');
});

t.test('the declared ceiling names secrets of both forms, so a sandbox may name an injected one', async (t) => {
  t.same(declaredScopes(declare([bearer, 'DB_PASSWORD'])).secrets, ['API_KEY', 'DB_PASSWORD']);
});

t.test('the injections returned are copies: changing one changes neither the policy nor the next load', async (t) => {
  const policy = resolvePolicy(allow(bearer), '/');
  const declared = declare([bearer]);
  const first = computeGrants(declared, { allowDeclared: false, policy }, PLUGIN);
  first.injections[0]!.host = 'evil.example';
  t.same(policy.plugins.get(PLUGIN)!.secrets, [bearerInjection]);
  t.same(computeGrants(declared, { allowDeclared: false, policy }, PLUGIN).injections, [bearerInjection]);
});
