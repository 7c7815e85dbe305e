import t from 'tap';
import { computeGrants, type GrantPolicy, type ResolvedCapabilities } from '../../runtime/grants/compute-grants.ts';
import type { GrantDecision } from '../../runtime/grants/grants.ts';
import type { PolicyInput } from '../../runtime/policy/policy-schema.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

const PLUGIN = 'plug';

function decide(declared: ResolvedCapabilities, policy: PolicyInput | undefined, extra: Partial<GrantPolicy> = {}) {
  return computeGrants(
    declared,
    { allowDeclared: false, policy: policy === undefined ? undefined : resolvePolicy(policy, '/'), ...extra },
    PLUGIN,
  );
}

function decisionFor(decisions: GrantDecision[], scope: string): GrantDecision | undefined {
  return decisions.find((decision) => decision.scope === scope);
}

t.test('with no policy, nothing but provide-tools is granted, and each refusal says so', async (t) => {
  const { grants, decisions } = decide(
    {
      'provide-tools': true,
      'access-network': ['example.com'],
      'access-secret': ['API_KEY'],
      'access-filesystem': { read: ['/srv/data'], write: ['/srv/out'] },
    },
    undefined,
  );
  t.same(grants, { provideTools: true, network: [], secrets: [], read: [], write: [] });
  t.same(decisionFor(decisions, '*'), {
    capability: 'provide-tools',
    scope: '*',
    granted: true,
    rule: 'default: provide-tools is granted when declared',
  });
  for (const scope of ['example.com', 'API_KEY', 'read:/srv/data', 'write:/srv/out']) {
    t.same(decisionFor(decisions, scope)?.rule, 'default: nothing but provide-tools without a policy', scope);
    t.equal(decisionFor(decisions, scope)?.granted, false);
  }
  t.equal(decisions.length, 5, 'one decision per declared scope');
});

t.test('network grants are declared ∩ policy, matched as exact host or host:port strings', async (t) => {
  const { grants, decisions } = decide(
    { 'access-network': ['api.example.com', 'api.example.com:443', 'cdn.example.com:8443', 'other.example.com', 'cdn.example.com'] },
    { plugins: { [PLUGIN]: { 'access-network': ['api.example.com', 'cdn.example.com:8443'] }, other: { 'access-network': ['*'] } } },
  );
  t.same(grants.network, ['api.example.com', 'api.example.com:443', 'cdn.example.com:8443']);
  t.same(decisionFor(decisions, 'api.example.com:443')?.rule, 'policy plugins.plug.access-network[0] ("api.example.com")');
  t.same(decisionFor(decisions, 'cdn.example.com:8443')?.rule, 'policy plugins.plug.access-network[1] ("cdn.example.com:8443")');
  t.same(decisionFor(decisions, 'other.example.com'), {
    capability: 'access-network',
    scope: 'other.example.com',
    granted: false,
    rule: 'not in policy plugins.plug.access-network',
  });
  t.equal(decisionFor(decisions, 'cdn.example.com')?.granted, false, 'a host:port policy entry does not grant every port');
});

t.test('secret grants are declared ∩ policy', async (t) => {
  const { grants, decisions } = decide(
    { 'access-secret': ['API_KEY', 'DB_PASSWORD'] },
    { plugins: { [PLUGIN]: { 'access-secret': ['DB_PASSWORD', 'UNUSED'] } } },
  );
  t.same(grants.secrets, ['DB_PASSWORD'], 'a policy entry the manifest does not declare grants nothing');
  t.same(decisionFor(decisions, 'API_KEY')?.rule, 'not in policy plugins.plug.access-secret');
  t.same(decisionFor(decisions, 'DB_PASSWORD')?.rule, 'policy plugins.plug.access-secret[0]');
});

t.test('filesystem grants are declared ∩ policy per mode, with folder boundaries respected', async (t) => {
  const { grants, decisions } = decide(
    {
      'access-filesystem': {
        read: ['/srv/app/data', '/srv/app2/data', '/srv/other'],
        write: ['/srv/app/cache', '/srv/app/data'],
      },
    },
    { plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/srv/app'], write: ['/srv/app/cache'] } } } },
  );
  t.same(grants.read, ['/srv/app/data']);
  t.same(grants.write, ['/srv/app/cache']);
  t.same(decisionFor(decisions, 'read:/srv/app/data')?.rule, 'policy plugins.plug.access-filesystem.read[0] ("/srv/app")');
  t.same(
    decisionFor(decisions, 'read:/srv/app2/data')?.rule,
    'not inside policy plugins.plug.access-filesystem.read',
    '/srv/app does not cover /srv/app2',
  );
  t.same(decisionFor(decisions, 'write:/srv/app/data')?.granted, false, 'a read allowance does not grant write');
});

t.test('provide-tools is granted when declared unless the policy says false', async (t) => {
  const off = decide({ 'provide-tools': true }, { plugins: { [PLUGIN]: { 'provide-tools': false } } });
  t.equal(off.grants.provideTools, false);
  t.same(off.decisions, [
    { capability: 'provide-tools', scope: '*', granted: false, rule: 'policy plugins.plug.provide-tools is false' },
  ]);
  t.equal(decide({ 'provide-tools': true }, { plugins: {} }).grants.provideTools, true);
  t.equal(decide({}, { plugins: {} }).grants.provideTools, false, 'not declared, not granted');
});

t.test('global deny paths override a plugin policy that allows them, and allowDeclared', async (t) => {
  const declared = { 'access-filesystem': { read: ['/srv/app/keys/k1', '/srv/app', '/srv/app/public'] } };
  const policy = { plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/srv'] } } }, deny: { paths: ['/srv/app/keys'] } };
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = decide(declared, policy, { allowDeclared });
    t.same(decisionFor(decisions, 'read:/srv/app/keys/k1')?.rule, 'policy deny.paths[0] ("/srv/app/keys")');
    t.same(decisionFor(decisions, 'read:/srv/app')?.rule, 'policy deny.paths[0] ("/srv/app/keys")', 'a folder holding a denied path is refused too');
    t.same(grants.read, ['/srv/app/public'], `allowDeclared ${allowDeclared}`);
  }
});

t.test('global deny hosts override plugin allows: names, addresses in any spelling, and CIDR ranges', async (t) => {
  const declared = {
    'access-network': [
      'evil.example',
      'EVIL.example:443',
      '203.0.113.7',
      '[::ffff:203.0.113.7]',
      '3405803783',
      '203.0.113.7:8080',
      '[2001:db8::1]:443',
      'good.example',
    ],
  };
  const policy = {
    plugins: { [PLUGIN]: { 'access-network': ['*', ...declared['access-network']] } },
    deny: { hosts: ['evil.example', '203.0.113.0/24', '2001:db8::/32'] },
  };
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = decide(declared, policy, { allowDeclared });
    t.same(grants.network, ['good.example'], `allowDeclared ${allowDeclared}`);
    t.same(decisionFor(decisions, 'EVIL.example:443')?.rule, 'policy deny.hosts[0] ("evil.example")');
    for (const spelling of ['203.0.113.7', '[::ffff:203.0.113.7]', '3405803783', '203.0.113.7:8080']) {
      t.same(decisionFor(decisions, spelling)?.rule, 'policy deny.hosts[1] ("203.0.113.0/24")', spelling);
    }
    t.same(decisionFor(decisions, '[2001:db8::1]:443')?.rule, 'policy deny.hosts[2] ("2001:db8::/32")');
  }
});

t.test('"*" grants public hosts only; special ranges need the policy to name them exactly', async (t) => {
  const special = [
    '127.0.0.1',
    '127.0.0.1:8080',
    '[::1]',
    '[::1]:8080',
    'localhost',
    'LOCALHOST:80',
    'app.localhost',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.0.10:80',
    '169.254.169.254',
    '169.254.1.1',
    '100.100.100.200',
    '[fd00:ec2::254]',
    '[fe80::1]',
    '[fc00::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::ffff:169.254.169.254]:80',
    '0.0.0.0',
    '[::]',
    'metadata.google.internal',
    '2130706433',
    '127.1',
    '0x7f000001',
    '0177.0.0.1',
    '2852039166:80',
  ];
  const publicHosts = ['example.com', '93.184.216.34:443', '172.32.0.1', '[2606:4700::1111]'];
  const declared = { 'access-network': [...special, ...publicHosts] };

  const star = decide(declared, { plugins: { [PLUGIN]: { 'access-network': ['*'] } } });
  t.same(star.grants.network, publicHosts);
  for (const host of special) {
    const decision = decisionFor(star.decisions, host);
    t.equal(decision?.granted, false, `${host} refused under "*"`);
    t.match(decision?.rule, new RegExp(`^(loopback|private|link-local|metadata|unspecified) address: "\\*" covers public hosts only; name "${host.replace(/[.[\]*]/g, '\\$&')}"`));
  }
  t.same(decisionFor(star.decisions, 'example.com')?.rule, 'policy plugins.plug.access-network[0] ("*")');

  const named = decide(declared, { plugins: { [PLUGIN]: { 'access-network': special } } });
  t.same(named.grants.network, special, 'each granted when named exactly');
  t.equal(decisionFor(named.decisions, '127.0.0.1:8080')?.rule, 'policy plugins.plug.access-network[0] ("127.0.0.1")');

  const otherForm = decide({ 'access-network': ['localhost:8080'] }, { plugins: { [PLUGIN]: { 'access-network': ['127.0.0.1:8080'] } } });
  t.same(otherForm.grants.network, [], 'naming one form of loopback does not grant another');
});

t.test('sensitive paths are refused unless the policy names them', async (t) => {
  const declared = { 'access-filesystem': { read: ['/etc', '/etc/ssl/certs', '/proc/self', '/sys', '/dev/shm', '/', '/home/alice/.ssh', '/home/alice/.config/app', '/home', '/home/alice/projects'] } };
  const broad = decide(declared, { plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/'] } } } });
  t.same(broad.grants.read, ['/home/alice/projects'], 'only an ordinary folder: "/" holds /proc, which is never granted');
  t.same(decisionFor(broad.decisions, 'read:/etc')?.rule, 'sensitive path: /etc touches /etc, which the policy does not name');
  t.same(decisionFor(broad.decisions, 'read:/home/alice/.ssh')?.rule, 'sensitive path: /home/alice/.ssh touches /home/alice/.ssh, which the policy does not name');
  t.match(decisionFor(broad.decisions, 'read:/home')?.rule, /^sensitive path: \/home touches /);

  const named = decide(declared, {
    plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/etc', '/home/alice/.ssh', '/home/alice/.config'] } } },
  });
  t.same(named.grants.read, ['/etc', '/etc/ssl/certs', '/home/alice/.ssh', '/home/alice/.config/app']);

  const homes = decide({ 'access-filesystem': { read: ['/home/alice/.ssh'] } }, { plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/home'] } } } });
  t.same(homes.grants.read, [], 'allowing /home does not name anyone\'s dot-files');
});

t.test('protected paths are never granted, whatever the policy or allowDeclared say', async (t) => {
  const declared = { 'access-filesystem': { read: ['/var/lib/manasvi/state/bundles', '/var/lib/manasvi', '/var/lib/other'], write: ['/etc/manasvi/secrets.json'] } };
  const policy = {
    plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/var/lib/manasvi/state/bundles', '/var/lib'], write: ['/etc/manasvi/secrets.json'] } } },
  };
  for (const allowDeclared of [false, true]) {
    const { grants, decisions } = decide(declared, policy, {
      allowDeclared,
      protectedPaths: ['/var/lib/manasvi/state', '/etc/manasvi/secrets.json'],
    });
    t.same(grants.read, ['/var/lib/other']);
    t.same(grants.write, []);
    t.same(decisionFor(decisions, 'read:/var/lib/manasvi/state/bundles')?.rule, 'runtime-protected path /var/lib/manasvi/state is never granted');
    t.same(decisionFor(decisions, 'read:/var/lib/manasvi')?.rule, 'runtime-protected path /var/lib/manasvi/state is never granted', 'nor a folder holding one');
    t.same(decisionFor(decisions, 'write:/etc/manasvi/secrets.json')?.rule, 'runtime-protected path /etc/manasvi/secrets.json is never granted');
  }
});

t.test('allowDeclared grants everything declared, naming the development rule', async (t) => {
  const { grants, decisions } = decide(
    { 'provide-tools': true, 'access-network': ['127.0.0.1:9'], 'access-secret': ['K'], 'access-filesystem': { read: ['/srv/x'] } },
    undefined,
    { allowDeclared: true },
  );
  t.same(grants, { provideTools: true, network: ['127.0.0.1:9'], secrets: ['K'], read: ['/srv/x'], write: [] });
  for (const decision of decisions.filter((d) => d.capability !== 'provide-tools')) {
    t.equal(decision.rule, 'allow-declared (development): everything declared is granted');
  }
});
