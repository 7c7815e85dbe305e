import t from 'tap';
import { computeGrants, type GrantPolicy, type ResolvedCapabilities } from '../../runtime/grants/compute-grants.ts';
import type { GrantDecision } from '../../runtime/grants/grants.ts';
import { type LocalNames, parseHostsFile } from '../../runtime/policy/local-names.ts';
import type { PolicyInput } from '../../runtime/policy/policy-schema.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

const PLUGIN = 'plug';

function decide(declared: string[], policy: PolicyInput | undefined, extra: Partial<GrantPolicy> = {}) {
  const capabilities: ResolvedCapabilities = { 'access-network': declared };
  return computeGrants(
    capabilities,
    { allowDeclared: false, policy: policy === undefined ? undefined : resolvePolicy(policy, '/'), ...extra },
    PLUGIN,
  );
}

const allow = (...entries: string[]): PolicyInput => ({ plugins: { [PLUGIN]: { 'access-network': entries } } });
const ruleOf = (decisions: GrantDecision[], scope: string) => decisions.find((decision) => decision.scope === scope)?.rule;

t.test('a policy wildcard grants declared names below it and narrower or equal wildcards, naming the entry', async (t) => {
  const { grants, decisions } = decide(
    ['api.example.com', 'a.b.example.com:443', '*.example.com', '*.cdn.example.com:8443', 'example.com', 'example.com:443', 'aexample.com', 'example.com.evil.test', '*.com.example'],
    allow('exact.example.org', '*.example.com'),
  );
  t.same(grants.network, ['api.example.com', 'a.b.example.com:443', '*.example.com', '*.cdn.example.com:8443']);
  for (const scope of grants.network) t.equal(ruleOf(decisions, scope), 'policy plugins.plug.access-network[1] ("*.example.com")', scope);
  for (const scope of ['example.com', 'example.com:443']) {
    t.equal(ruleOf(decisions, scope), 'not in policy plugins.plug.access-network', `${scope}: the apex is never covered by its wildcard`);
  }
  t.equal(ruleOf(decisions, 'aexample.com'), 'not in policy plugins.plug.access-network', 'a label boundary, not a text suffix');
});

t.test('a policy wildcard with a port grants that port only', async (t) => {
  const { grants } = decide(['a.example.com:443', '*.a.example.com:443', 'a.example.com', 'a.example.com:8443', '*.example.com', '*.example.com:443'], allow('*.example.com:443'));
  t.same(grants.network, ['a.example.com:443', '*.a.example.com:443', '*.example.com:443']);
});

t.test('an exact policy entry never grants a declared wildcard, nor a wider wildcard a narrower one', async (t) => {
  const { grants, decisions } = decide(['*.example.com', '*.api.example.com'], allow('example.com', 'api.example.com', '*.b.example.com'));
  t.same(grants.network, []);
  t.equal(ruleOf(decisions, '*.example.com'), 'not in policy plugins.plug.access-network');
});

t.test('a policy wildcard grants a special name below it: the operator named the domain', async (t) => {
  const { grants, decisions } = decide(['db.svc.localhost', '*.svc.localhost:5432'], allow('*.svc.localhost'));
  t.same(grants.network, ['db.svc.localhost', '*.svc.localhost:5432']);
  t.equal(ruleOf(decisions, 'db.svc.localhost'), 'policy plugins.plug.access-network[0] ("*.svc.localhost")');
});

const LOCAL: LocalNames = {
  hosts: parseHostsFile('10.1.2.3 db.internal.example\n93.184.216.34 www.public.example\n127.0.0.1 localhost4\n'),
  ownNames: new Set(['buildbox', 'buildbox.corp.example']),
  ownAddresses: new Set(['203.0.113.7']),
};

t.test('"*" grants a declared wildcard over a public domain, naming the "*" entry', async (t) => {
  const { grants, decisions } = decide(['*.example.com', '*.api.example.com:8443', '*.public.example'], allow('*'), { localNames: LOCAL });
  t.same(grants.network, ['*.example.com', '*.api.example.com:8443', '*.public.example'], 'a hosts-file name with a public address is public');
  t.equal(ruleOf(decisions, '*.example.com'), 'policy plugins.plug.access-network[0] ("*")');
});

t.test('"*" refuses a declared wildcard whose domain is special, naming why and how to grant it', async (t) => {
  const cases: [string, RegExp][] = [
    ['*.app.localhost', /^loopback domain app\.localhost: "\*" covers public hosts only; name "\*\.app\.localhost" in the policy to grant it$/],
    ['*.localhost.localdomain:8080', /^loopback domain localhost\.localdomain: "\*" covers public hosts only; name "\*\.localhost\.localdomain:8080"/],
    ['*.metadata.google.internal', /^metadata domain metadata\.google\.internal: /],
    ['*.buildbox.corp.example', /^"buildbox\.corp\.example" is this machine's own name: "\*" covers public hosts only/],
    ['*.corp.example', /^"buildbox\.corp\.example" is this machine's own name, and "\*\.corp\.example" covers it: "\*" covers public hosts only; name "\*\.corp\.example" in the policy to grant it$/],
    ['*.internal.example:5432', /^\/etc\/hosts maps "db\.internal\.example" to 10\.1\.2\.3 \(private\), and "\*\.internal\.example:5432" covers it: /],
  ];
  const { grants, decisions } = decide(cases.map(([host]) => host), allow('*'), { localNames: LOCAL });
  t.same(grants.network, []);
  for (const [host, rule] of cases) t.match(ruleOf(decisions, host), rule, host);

  const named = decide(cases.map(([host]) => host), allow('*', ...cases.map(([host]) => host)), { localNames: LOCAL });
  t.same(named.grants.network, cases.map(([host]) => host), 'each is granted when the policy names it');
});

t.test('a deny wildcard denies every name and wildcard below it on every port, never its apex, whatever allows them', async (t) => {
  const declared = ['a.evil.example', 'x.y.evil.example:443', '*.evil.example', '*.a.evil.example:8443', 'evil.example', 'notevil.example', 'good.example'];
  const policy: PolicyInput = { ...allow('*', ...declared), deny: { hosts: ['10.0.0.0/8', '*.evil.example:443'] } };
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = decide(declared, policy, { allowDeclared });
    t.same(grants.network, ['evil.example', 'notevil.example', 'good.example'], `allowDeclared ${allowDeclared}`);
    for (const scope of declared.slice(0, 4)) t.equal(ruleOf(decisions, scope), 'policy deny.hosts[1] ("*.evil.example:443")', scope);
  }
});

t.test('a deny wildcard refuses a declared wildcard only when it covers it', async (t) => {
  const { grants, decisions } = decide(['*.example.com', '*.a.example.com', '*.b.example.com'], { ...allow('*'), deny: { hosts: ['*.a.example.com', 'api.example.com', 'b.example.com'] } });
  t.same(grants.network, ['*.example.com', '*.b.example.com'], 'a deny name below a declared wildcard is for the gateway to apply per connection');
  t.equal(ruleOf(decisions, '*.a.example.com'), 'policy deny.hosts[0] ("*.a.example.com")');
});

t.test('a declared wildcard is granted by allowDeclared and refused without a policy', async (t) => {
  t.same(decide(['*.example.com'], undefined, { allowDeclared: true }).grants.network, ['*.example.com']);
  const none = decide(['*.example.com'], undefined);
  t.same(none.grants.network, []);
  t.equal(ruleOf(none.decisions, '*.example.com'), 'default: nothing but provide-tools without a policy');
});
