import { readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { exampleManifest, REPO_ROOT, stage } from '../helpers/fixtures.ts';
import { expectExit, jsonOut, runCli } from './cli-process.ts';

interface ValidateOutput {
  ok: boolean;
  manifests: { manifest: string; ok: boolean; issues: { path: string; message: string }[] }[];
}

const EXAMPLES = readdirSync(path.join(REPO_ROOT, 'manifests', 'examples'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
/** The one example that exists to be refused. */
const REFUSED = 'rogue-import';

t.test('every example manifest validates, except rogue-import', async (t) => {
  const loadable = EXAMPLES.filter((name) => name !== REFUSED);
  t.ok(loadable.includes('echo') && loadable.includes('notes') && loadable.includes('fetcher') && loadable.includes('rogue'));
  const result = await runCli(['validate', ...loadable.map(exampleManifest), '--json']);
  expectExit(t, result, 0);
  const out = jsonOut(result) as ValidateOutput;
  for (const report of out.manifests) t.same(report.issues, [], report.manifest);
});

t.test('validate reports rogue-import\'s escaping import against the entry, naming it', async (t) => {
  const result = await runCli(['validate', exampleManifest(REFUSED)]);
  expectExit(t, result, 1);
  t.match(result.stdout, /^INVALID {2}.*rogue-import\/manifest\.json$/m);
  t.match(result.stdout, /^ {2}entry: import_refused: import "\.\.\/\.\.\/\.\.\/package\.json"/m);
});

t.test('validate names the field path of every issue in a broken manifest', async (t) => {
  const dir = t.testdir({
    'plugin.ts': "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: {} });\n",
    'manifest.json': JSON.stringify({
      name: 'Not A Name',
      version: '1',
      entry: 'plugin.ts',
      capabilities: { 'provide-tools': true, 'access-network': ['http://example.com/'] },
      tools: { t: { description: 'x', input: {} } },
      colour: 'red',
    }),
  });
  const manifest = path.join(dir, 'manifest.json');
  const json = jsonOut(await runCli(['validate', manifest, '--json'])) as ValidateOutput;
  t.equal(json.ok, false);
  t.same(
    json.manifests[0]!.issues.map((issue) => issue.path).sort(),
    ['capabilities.access-network.0', 'colour', 'name', 'version'],
  );

  const text = await runCli(['validate', manifest]);
  expectExit(t, text, 1);
  t.match(text.stdout, /^ {2}name: /m);
  t.match(text.stdout, /^ {2}capabilities\.access-network\.0: /m);
});

t.test('validate names a tool sandbox that asks for more than the manifest declares', async (t) => {
  const dir = t.testdir({});
  stage(path.dirname(exampleManifest('echo')), dir);
  const manifest = path.join(dir, 'manifest.json');
  const parsed = JSON.parse(readFileSync(manifest, 'utf8'));
  parsed.tools.echo.sandbox = { network: ['127.0.0.1:9'] };
  writeFileSync(manifest, JSON.stringify(parsed));
  const result = await runCli(['validate', manifest]);
  expectExit(t, result, 1);
  t.match(result.stdout, /^ {2}tools\.echo\.sandbox\.network\.0: /m);
});

t.test('validate without a manifest is a usage error', async (t) => {
  expectExit(t, await runCli(['validate']), 2);
});

t.test('validate --json reports handler issues per manifest, for several manifests at once', async (t) => {
  const missing = path.join(REPO_ROOT, 'tests/fixtures/plugins/handler-probe/manifest-missing.json');
  const undeclared = path.join(REPO_ROOT, 'tests/fixtures/plugins/handler-probe/manifest-undeclared.json');
  const result = await runCli(['validate', exampleManifest('echo'), missing, undeclared, '--json']);
  expectExit(t, result, 1);
  const out = jsonOut(result) as ValidateOutput;
  t.equal(out.ok, false);
  t.same(out.manifests.map((report) => report.ok), [true, false, false]);
  t.match(out.manifests[1]!.issues, [{ path: 'tools.beta', message: /registers no handler for it/ }]);
  t.match(out.manifests[2]!.issues, [{ path: 'entry', message: /registers a handler for `gamma`, which the manifest does not declare/ }]);
});

t.test('validate says which key was meant for an unknown one, once per issue', async (t) => {
  const dir = t.testdir({});
  stage(path.dirname(exampleManifest('echo')), dir);
  const manifest = path.join(dir, 'manifest.json');
  const parsed = JSON.parse(readFileSync(manifest, 'utf8'));
  parsed.capabilities['access-network-all'] = ['example.com'];
  writeFileSync(manifest, JSON.stringify(parsed));
  const result = await runCli(['validate', manifest]);
  expectExit(t, result, 1);
  const lines = result.stdout.trimEnd().split('\n');
  t.equal(lines.length, 2, 'a header and one line for the one issue');
  t.match(lines[1], /^ {2}capabilities\.access-network-all: unknown key "access-network-all": did you mean "access-network"\? Valid keys here: provide-tools, access-network/);
  const json = jsonOut(await runCli(['validate', manifest, '--json'])) as ValidateOutput;
  t.match(json.manifests[0]!.issues, [{ path: 'capabilities.access-network-all', message: /did you mean "access-network"/ }]);
});

t.test('validate takes a plugin folder for its manifest.json, and names <folder>/manifest.json when it has none', async (t) => {
  expectExit(t, await runCli(['validate', path.dirname(exampleManifest('echo'))]), 0);
  const dir = t.testdir({ empty: {} });
  const result = await runCli(['validate', path.join(dir, 'empty'), path.join(dir, 'missing.json')]);
  expectExit(t, result, 1);
  t.match(result.stdout, new RegExp(`^ {2}\\(root\\): manifest_not_found: no manifest at ${path.join(dir, 'empty', 'manifest.json')}: `, 'm'));
  t.match(result.stdout, new RegExp(`^ {2}\\(root\\): manifest_not_found: no manifest at ${path.join(dir, 'missing.json')}: `, 'm'));
  t.notMatch(result.stdout, /ENOENT|EISDIR/);
});

t.test('validate places a JSON syntax error by line and column, with the line and a caret', async (t) => {
  const dir = t.testdir({ 'manifest.json': '{\n  "name": "x",\n  "version": "1.0.0",,\n}\n' });
  const result = await runCli(['validate', path.join(dir, 'manifest.json')]);
  expectExit(t, result, 1);
  t.match(result.stdout, /^ {2}\(root\): not valid JSON at line 3, column 22: expected a double-quoted property name, found ','\n {4}3 \| {3}"version": "1\.0\.0",,\n {6}\| {22}\^\n/m);
});

t.test('validate names the absolute path a missing entry was looked for at', async (t) => {
  const dir = t.testdir({});
  stage(path.dirname(exampleManifest('echo')), dir);
  const manifest = path.join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ ...JSON.parse(readFileSync(manifest, 'utf8')), entry: 'main.ts' }));
  const result = await runCli(['validate', manifest]);
  expectExit(t, result, 1);
  t.match(result.stdout, new RegExp(`^ {2}entry: no file at ${realpathSync(dir)}/main\\.ts`, 'm'));
});
