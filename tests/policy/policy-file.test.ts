import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';
import { loadPolicyFile, resolvePolicy } from '../../runtime/policy/resolved-policy.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';
import { issuesOf } from '../helpers/schema-issues.ts';

/** The issue paths of the policy_invalid error `run` throws. */
function issuePaths(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    const { code, details } = error as { code?: string; details?: { issues?: SchemaIssue[] } };
    if (code !== 'policy_invalid') throw error;
    return (details?.issues ?? []).map((issue) => issue.path);
  }
  return ['(accepted)'];
}

t.test('policy_invalid names every bad field', async (t) => {
  const cases: [unknown, string[]][] = [
    [{ plugins: { echo: { 'access-network': [5] } } }, ['plugins.echo.access-network.0']],
    [{ plugins: { echo: { 'access-filesystem': { read: [''], exec: [] } } } }, ['plugins.echo.access-filesystem.read.0', 'plugins.echo.access-filesystem.exec']],
    [{ plugins: { 'Bad Name': {} } }, ['plugins.Bad Name']],
    [{ plugins: { echo: { 'provide-tools': 'yes', 'access-secret': ['lower'] } } }, ['plugins.echo.provide-tools', 'plugins.echo.access-secret.0']],
    [{ plugins: { echo: { 'access-everything': true } } }, ['plugins.echo.access-everything']],
    [{ deny: { hosts: 'x' } }, ['deny.hosts']],
    [{ deny: { paths: [''], everything: true } }, ['deny.paths.0', 'deny.everything']],
    [{ extra: 1 }, ['extra']],
    ['a string', ['(root)']],
  ];
  for (const [input, paths] of cases) t.same(issuePaths(() => resolvePolicy(input, '/')), paths, JSON.stringify(input));
});

t.test('a deny CIDR that could never match is refused rather than silently denying nothing', async (t) => {
  t.same(issuePaths(() => resolvePolicy({ deny: { hosts: ['10.0.0/8', '10.0.0.0/33', '::1/129', '10.0.0.0/8', 'fd00::/8', 'example.com'] } }, '/')), [
    'deny.hosts.0',
    'deny.hosts.1',
    'deny.hosts.2',
  ]);
});

t.test('a valid policy is accepted, with defaults for what it leaves out', async (t) => {
  const policy = resolvePolicy({ plugins: { echo: {} } }, '/');
  t.same(policy.deny, { paths: [], hosts: [] });
  const { provideTools, network, secrets, read, write } = policy.plugins.get('echo')!;
  t.same({ provideTools, network, secrets, read, write }, { provideTools: undefined, network: [], secrets: [], read: [], write: [] }, 'nothing allowed but what is named');
});

t.test('a policy file that is not JSON, or missing, is policy_invalid', async (t) => {
  const dir = t.testdir({ 'broken.json': '{ "plugins": ', 'bad.json': JSON.stringify({ plugins: { echo: { 'access-network': 'x' } } }) });
  t.throws(() => loadPolicyFile(path.join(dir, 'broken.json')), { code: 'policy_invalid' });
  t.throws(() => loadPolicyFile(path.join(dir, 'missing.json')), { code: 'policy_invalid' });
  t.same(issuePaths(() => loadPolicyFile(path.join(dir, 'bad.json'))), ['plugins.echo.access-network']);
});

t.test('an unknown policy key names the keys valid there and the one meant', async (t) => {
  const issues = issuesOf(() => resolvePolicy({ plugins: { echo: { 'access-networks': [], limits: { heap: 1 } } } }, '/'), 'policy_invalid');
  t.match(issues, [
    { path: 'plugins.echo.limits.heap', message: /did you mean "heapMb"\?/ },
    { path: 'plugins.echo.access-networks', message: /did you mean "access-network"\?.*provide-tools, access-network, access-secret, access-filesystem, limits/ },
  ]);
});

t.test('a policy file with a JSON syntax error names its line and column', async (t) => {
  const dir = t.testdir({ 'policy.json': '{\n  "plugins": {\n    "echo": { "provide-tools": true, }\n  }\n}\n' });
  const [issue] = issuesOf(() => loadPolicyFile(path.join(dir, 'policy.json')), 'policy_invalid');
  t.match(issue, { path: '(root)', message: /^not valid JSON at line 3, column 36: a trailing comma/ });
  t.match(issue?.message, /\n {4}3 \| {5}"echo": \{ "provide-tools": true, \}\n/);
});

t.test("relative paths in a policy file resolve against the file's folder and are canonicalised", async (t) => {
  const dir = realpathSync(t.testdir({ policies: {}, real: { data: {} } }));
  symlinkSync(path.join(dir, 'real'), path.join(dir, 'policies', 'via-link'));
  mkdirSync(path.join(dir, 'policies', 'own'));
  const file = path.join(dir, 'policies', 'policy.json');
  writeFileSync(
    file,
    JSON.stringify({
      plugins: { notes: { 'access-filesystem': { read: ['./own', './via-link/data'], write: ['./not-yet/there'] } } },
      deny: { paths: ['../real'] },
    }),
  );
  const policy = loadPolicyFile(file);
  t.same(policy.plugins.get('notes')?.read, [path.join(dir, 'policies', 'own'), path.join(dir, 'real', 'data')]);
  t.same(policy.plugins.get('notes')?.write, [path.join(dir, 'policies', 'not-yet', 'there')]);
  t.same(policy.deny.paths, [path.join(dir, 'real')]);
});

t.test('createRuntime refuses an invalid policy, from a file or an object, before anything runs', async (t) => {
  const dir = realpathSync(t.testdir({ 'bad.json': JSON.stringify({ plugins: { echo: { 'provide-tools': 1 } } }) }));
  const stateDir = path.join(dir, 'state');
  t.throws(() => createRuntime({ stateDir, policy: path.join(dir, 'bad.json') }), { code: 'policy_invalid' });
  t.throws(() => createRuntime({ stateDir, policy: { deny: { hosts: ['10.0.0.0/99'] } } as never }), {
    code: 'policy_invalid',
    details: { issues: [{ path: 'deny.hosts.0' }] },
  });
});

t.test('a missing policy file is named by the absolute path looked for, and where a relative one was taken from', async (t) => {
  const dir = t.testdir({});
  const absolute = path.join(dir, 'missing.json');
  t.match(issuesOf(() => loadPolicyFile(absolute), 'policy_invalid'), [{ path: '(root)', message: `no policy file at ${absolute}` }]);
  const relative = path.relative(process.cwd(), absolute);
  const [issue] = issuesOf(() => loadPolicyFile(relative), 'policy_invalid');
  t.match(issue!.message, `no policy file at ${absolute} (a relative path is taken from the current folder, ${process.cwd()})`);
});
