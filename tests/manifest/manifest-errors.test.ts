import { execFileSync } from 'node:child_process';
import { realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError, type PluginRuntimeError } from '../../runtime/errors.ts';
import { loadManifest, parseManifest } from '../../runtime/manifest/load-manifest.ts';
import { manifestObject, PLUGIN_SOURCE } from '../helpers/fixture-manifest.ts';
import { issuesOf } from '../helpers/schema-issues.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

/** The error `run` throws (the test fails if it throws none). */
function caught(run: () => unknown): PluginRuntimeError {
  try {
    run();
  } catch (error) {
    if (isPluginRuntimeError(error)) return error;
    throw error;
  }
  throw new Error('expected an error');
}

t.test('an unknown key names the keys valid at its place and the one meant', async (t) => {
  const dir = t.testdir({
    'plugin.ts': PLUGIN_SOURCE,
    'manifest.json': JSON.stringify(
      manifestObject({
        capabilities: { 'provide-tools': true, 'access-network-all': ['example.com'] },
        tols: {},
        tools: { x: { description: 'x', input: {}, timeout: 5, sandbox: { netwrk: [] } } },
      }),
    ),
  });
  const issues = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  const byPath = new Map(issues.map((issue) => [issue.path, issue.message]));
  t.same([...byPath.keys()].sort(), ['capabilities.access-network-all', 'tols', 'tools.x.sandbox.netwrk', 'tools.x.timeout']);
  t.match(byPath.get('capabilities.access-network-all'), /did you mean "access-network"\?/);
  t.match(byPath.get('capabilities.access-network-all'), /provide-tools, access-network, access-secret, access-filesystem/);
  t.match(byPath.get('tols'), /did you mean "tools"\?.*\$schema, name, version, description, entry, capabilities, tools/);
  t.match(byPath.get('tools.x.timeout'), /did you mean "timeoutMs"\?/);
  t.match(byPath.get('tools.x.sandbox.netwrk'), /did you mean "network"\?.*network, filesystem, secrets/);
  for (const message of byPath.values()) t.notMatch(message, /Expected never/);
});

t.test('an unknown key far from every valid one lists them without a guess', async (t) => {
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(manifestObject({ colour: 'red' })) });
  const [issue] = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  t.equal(issue?.path, 'colour');
  t.notMatch(issue?.message, /did you mean/);
  t.match(issue?.message, /unknown key "colour".*name, version/);
});

t.test('a missing required key says so, without valibot wording', async (t) => {
  const { version: _, ...rest } = manifestObject();
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(rest) });
  t.match(issuesOf(() => loadManifest(path.join(dir, 'manifest.json'))), [
    { path: 'version', message: 'missing required key "version"', received: '' },
  ]);
});

t.test('the message lists every issue once, one line each, after a summary', async (t) => {
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(manifestObject({ colour: 'red', name: 'Bad Name' })) });
  const error = caught(() => loadManifest(path.join(dir, 'manifest.json')));
  t.equal(error.code, 'manifest_invalid');
  const lines = error.message.split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0], /^manifest .*manifest\.json has 2 problems:$/);
  t.match(lines.slice(1).sort(), [/^ {2}colour: unknown key/, /^ {2}name: /]);
});

t.test('a missing manifest is manifest_not_found naming its absolute path', async (t) => {
  const dir = t.testdir({});
  const cwd = process.cwd();
  process.chdir(dir);
  t.teardown(() => process.chdir(cwd));
  const error = caught(() => loadManifest('nope.json'));
  t.equal(error.code, 'manifest_not_found');
  const expected = path.join(process.cwd(), 'nope.json');
  t.same(error.details, { manifestPath: expected });
  t.match(error.message, expected);
  t.notMatch(error.message, /ENOENT|lstat/);
});

t.test('a folder stands for its manifest.json', async (t) => {
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(manifestObject()) });
  const loaded = loadManifest(dir);
  t.equal(loaded.manifestPath, path.join(realpathSync(dir), 'manifest.json'));
  t.equal(loaded.pluginDir, realpathSync(dir));
});

t.test('a symlink to a plugin folder stands for the manifest.json of its target', async (t) => {
  const dir = t.testdir({ plugin: { 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(manifestObject()) } });
  symlinkSync(path.join(dir, 'plugin'), path.join(dir, 'link'));
  t.equal(loadManifest(path.join(dir, 'link')).pluginDir, realpathSync(path.join(dir, 'plugin')));
});

t.test('a symlinked manifest still loads from its target folder', async (t) => {
  const dir = t.testdir({ plugin: { 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': JSON.stringify(manifestObject()) } });
  symlinkSync(path.join(dir, 'plugin', 'manifest.json'), path.join(dir, 'elsewhere.json'));
  t.equal(loadManifest(path.join(dir, 'elsewhere.json')).pluginDir, realpathSync(path.join(dir, 'plugin')));
});

t.test('a folder without manifest.json is manifest_not_found naming <folder>/manifest.json', async (t) => {
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE });
  const error = caught(() => loadManifest(dir));
  t.equal(error.code, 'manifest_not_found');
  t.same(error.details, { manifestPath: path.join(dir, 'manifest.json') });
  t.match(error.message, path.join(dir, 'manifest.json'));
});

t.test('a dangling symlink is manifest_not_found that says what it is', async (t) => {
  const dir = t.testdir({});
  symlinkSync(path.join(dir, 'gone.json'), path.join(dir, 'manifest.json'));
  const error = caught(() => loadManifest(path.join(dir, 'manifest.json')));
  t.equal(error.code, 'manifest_not_found');
  t.match(error.message, /symlink whose target does not exist/);
});

t.test("a folder whose manifest.json is a FIFO is refused without blocking", async (t) => {
  const { runtime } = testRuntime(t);
  const dir = t.testdir({ 'plugin.ts': '' });
  execFileSync('mkfifo', [path.join(dir, 'manifest.json')]);
  const error = await runtime.load(dir).then(
    () => null,
    (reason: unknown) => reason,
  );
  t.ok(isPluginRuntimeError(error, 'manifest_invalid'), 'a typed error');
  t.match((error as PluginRuntimeError<'manifest_invalid'>).details?.issues, [{ path: '(root)', message: /FIFO/ }]);
});

t.test('a JSON syntax error is placed by line and column, with the line and a caret', async (t) => {
  const text = '{\n  "name": "fixture",\n  "entry": "plugin.ts"\n  "tools": {}\n}\n';
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': text });
  const [issue, ...rest] = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  t.same(rest, []);
  t.equal(issue?.path, '(root)');
  const [summary, shown, caret] = issue!.message.split('\n');
  t.match(summary, /^not valid JSON at line 3, column 23: .*','/);
  t.equal(shown, '    3 |   "entry": "plugin.ts"');
  t.equal(caret, `      | ${' '.repeat(22)}^`);
});

t.test('the JSON excerpt escapes control characters and cuts a long line around the column', async (t) => {
  const text = `{"description": "${'a'.repeat(500)}\u001b[2J${'b'.repeat(500)}"}`;
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE, 'manifest.json': text });
  const [issue] = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  const [summary, shown, caret] = issue!.message.split('\n');
  t.match(summary, /line 1, column 518: character U\+001B inside a string/);
  t.notMatch(issue!.message, /\u001b/, 'no raw escape character');
  t.match(shown, /^ {4}1 \| …a+\\u001b\[2Jb+…$/);
  t.ok(shown!.length < 120, 'cut to a sane width');
  t.equal(caret!.indexOf('^'), shown!.indexOf('\\u001b'), 'the caret is under the offending character');
});

t.test('a missing entry names the absolute path looked for and the field entry', async (t) => {
  const dir = t.testdir({ 'manifest.json': JSON.stringify(manifestObject({ entry: 'main.ts' })) });
  const [issue] = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  t.equal(issue?.path, 'entry');
  t.match(issue?.message, `no file at ${path.join(realpathSync(dir), 'main.ts')}`);
});

t.test('unknown keys in a manifest given as an object (parseManifest) get the same hints', async (t) => {
  t.match(issuesOf(() => parseManifest(manifestObject({ entyr: 'plugin.ts' }))), [{ path: 'entyr', message: /did you mean "entry"\?/ }]);
});
