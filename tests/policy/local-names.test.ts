import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { computeGrants } from '../../runtime/grants/compute-grants.ts';
import { type LocalNames, parseHostsFile, readLocalNames } from '../../runtime/policy/local-names.ts';
import { localNameReason } from '../../runtime/policy/network-ranges.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';

const LOCAL: LocalNames = {
  hosts: parseHostsFile('127.0.0.1 localhost4 localhost4.localdomain4\n::1 ip6-loopback\n10.1.2.3 db.internal\n93.184.216.34 public.example\n'),
  ownNames: new Set(['buildbox', 'buildbox.corp']),
  ownAddresses: new Set(['203.0.113.7']),
};

const star = resolvePolicy({ plugins: { plug: { 'access-network': ['*'] } } }, '/');
const decide = (host: string, localNames: LocalNames = LOCAL) =>
  computeGrants({ 'access-network': [host] }, { allowDeclared: false, policy: star, localNames }, 'plug').decisions[0]!;

t.test('a hosts file is read as the resolver reads it: first address wins, comments and bad lines skipped, names lower-cased', async (t) => {
  const names = parseHostsFile('# comment\n127.0.0.1\tLocalHost4 lh4.  # trailing\nnot-an-address name\n10.0.0.1 localhost4\nfe80::1%eth0 linklocal\n');
  t.same([...names], [
    ['localhost4', '127.0.0.1'],
    ['lh4', '127.0.0.1'],
    ['linklocal', 'fe80::1'],
  ]);
});

t.test('under "*", a name this machine maps to a special address, its own name or its own address is refused, naming why', async (t) => {
  t.match(decide('localhost4:8080'), { granted: false, rule: /\/etc\/hosts maps "localhost4" to 127\.0\.0\.1 \(loopback\): "\*" covers public hosts only/ });
  t.match(decide('ip6-loopback'), { granted: false, rule: /maps "ip6-loopback" to ::1 \(loopback\)/ });
  t.match(decide('DB.internal:5432'), { granted: false, rule: /maps "db\.internal" to 10\.1\.2\.3 \(private\)/ });
  t.match(decide('buildbox:22'), { granted: false, rule: /"buildbox" is this machine's own name/ });
  t.match(decide('203.0.113.7:443'), { granted: false, rule: /203\.0\.113\.7 is an address of this machine/ });
  t.match(decide('public.example:443'), { granted: true }, 'a hosts-file name with a public address is public');
  t.match(decide('api.example.com:443'), { granted: true }, 'a name nothing local maps is judged as written');
  t.equal(localNameReason('api.example.com', LOCAL), null);
});

t.test('naming the host in the policy still grants it: the operator decides', async (t) => {
  const named = resolvePolicy({ plugins: { plug: { 'access-network': ['localhost4:8080', '*'] } } }, '/');
  const decision = computeGrants({ 'access-network': ['localhost4:8080'] }, { allowDeclared: false, policy: named, localNames: LOCAL }, 'plug').decisions[0]!;
  t.match(decision, { granted: true, rule: /access-network\[0\]/ });
});

t.test("this machine's own host name is never public under \"*\"", async (t) => {
  const local = readLocalNames();
  t.ok(local.ownNames.has(os.hostname().toLowerCase()));
  t.match(decide(`${os.hostname()}:80`, local), { granted: false });
});

// The hosts file of this machine is never changed: the runtime runs in a mount namespace
// of its own with a private file bound over /etc/hosts.
const unshare = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']);
const noNamespace = unshare.status === 0 ? false : 'cannot create a mount namespace here';

t.test('a runtime reads the real hosts file at load: a name it maps to loopback is refused under "*"', { skip: noNamespace }, async (t) => {
  const dir = t.testdir({
    hosts: '127.0.0.1 localhost\n127.0.0.1 evil-loopback\n::1 evil-six\n',
    plugin: {
      'plugin.ts': "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { noop: () => null } });\n",
      'manifest.json': JSON.stringify({
        name: 'plug',
        version: '1.0.0',
        entry: 'plugin.ts',
        capabilities: { 'provide-tools': true, 'access-network': ['evil-loopback:8080', 'evil-six:8080', 'api.example.com:443'] },
        tools: { noop: { description: 'Does nothing.', input: { type: 'object' } } },
      }),
    },
  });
  const script = path.join(dir, 'decide.ts');
  writeFileSync(
    script,
    [
      `import { createRuntime } from ${JSON.stringify(path.join(REPO_ROOT, 'runtime/index.ts'))};`,
      "const runtime = createRuntime({ policy: { plugins: { plug: { 'access-network': ['*'] } } }, stateDir: process.argv[3] });",
      'try {',
      '  const { decisions } = await runtime.inspect(process.argv[2]);',
      "  process.stdout.write(JSON.stringify(decisions.filter((decision) => decision.capability === 'access-network')));",
      '} finally {',
      '  await runtime.close();',
      '}',
    ].join('\n'),
  );
  const run = spawnSync(
    'unshare',
    ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount --bind "$1" /etc/hosts && shift && exec "$@"', 'sh', path.join(dir, 'hosts'), process.execPath, '--import=tsx', script, path.join(dir, 'plugin', 'manifest.json'), path.join(dir, 'state')],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  t.equal(run.status, 0, run.stderr);
  const decisions = JSON.parse(run.stdout) as { scope: string; granted: boolean; rule: string }[];
  t.match(decisions, [
    { scope: 'evil-loopback:8080', granted: false, rule: /maps "evil-loopback" to 127\.0\.0\.1 \(loopback\)/ },
    { scope: 'evil-six:8080', granted: false, rule: /maps "evil-six" to ::1 \(loopback\)/ },
    { scope: 'api.example.com:443', granted: true },
  ]);
});
