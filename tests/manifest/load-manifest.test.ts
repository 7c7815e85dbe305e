import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { loadManifest } from '../../runtime/manifest/load-manifest.ts';
import { MAX_INPUT_SCHEMA_BYTES } from '../../runtime/manifest/input-validator.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';
import { manifestJson as manifest, PLUGIN_SOURCE } from '../helpers/fixture-manifest.ts';

/** The issues of the `manifest_invalid` error loadManifest throws; `[]` if it loads. */
function loadIssues(manifestPath: string): SchemaIssue[] {
  try {
    loadManifest(manifestPath);
  } catch (error) {
    if (!isPluginRuntimeError(error, 'manifest_invalid')) throw error;
    return error.details!['issues'] as SchemaIssue[];
  }
  return [];
}

t.test('loadManifest resolves the plugin folder and the entry canonically', async (t) => {
  const dir = t.testdir({ 'manifest.json': manifest(), 'plugin.ts': PLUGIN_SOURCE });
  const loaded = loadManifest(path.join(dir, 'manifest.json'));
  t.equal(loaded.pluginDir, realpathSync(dir));
  t.equal(loaded.entryPath, path.join(realpathSync(dir), 'plugin.ts'));
  t.equal(loaded.manifestPath, path.join(realpathSync(dir), 'manifest.json'));
  t.equal(loaded.manifest.name, 'fixture');
});

t.test('loadManifest compiles each tool input schema into a validator naming the bad argument', async (t) => {
  const input = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  const validate = loadManifest(path.join(dir, 'manifest.json')).inputValidators.get('x')!;
  t.same(validate({ n: 1 }), []);
  t.match(validate({ n: 'one' }), [{ path: '/n' }]);
});

t.test('loadManifest refuses a manifest that is not JSON, at the root', async (t) => {
  const dir = t.testdir({ 'manifest.json': '{ "name": ', 'plugin.ts': PLUGIN_SOURCE });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: '(root)' }]);
});

t.test('loadManifest refuses a manifest file that does not exist with manifest_not_found', async (t) => {
  const dir = t.testdir({});
  t.throws(() => loadManifest(path.join(dir, 'manifest.json')), { code: 'manifest_not_found' });
});

t.test('loadManifest refuses an absolute entry', async (t) => {
  // Absolute even though it points inside the folder: entries are relative by contract.
  const dir = t.testdir({ 'plugin.ts': PLUGIN_SOURCE });
  const absolute = path.join(dir, 'plugin.ts');
  const manifestPath = path.join(dir, 'manifest.json');
  writeFileSync(manifestPath, manifest({ entry: absolute }));
  t.match(loadIssues(manifestPath), [{ path: 'entry', received: absolute }]);
});

t.test('loadManifest refuses an entry that climbs out of the plugin folder', async (t) => {
  const dir = t.testdir({
    'outside.ts': PLUGIN_SOURCE,
    plugin: { 'manifest.json': manifest({ entry: '../outside.ts' }) },
  });
  t.match(loadIssues(path.join(dir, 'plugin', 'manifest.json')), [{ path: 'entry', received: '../outside.ts' }]);
});

t.test('loadManifest refuses an entry that is a symlink leading out of the plugin folder', async (t) => {
  const dir = t.testdir({
    'outside.ts': PLUGIN_SOURCE,
    plugin: { 'manifest.json': manifest(), 'plugin.ts': t.fixture('symlink', '../outside.ts') },
  });
  t.match(loadIssues(path.join(dir, 'plugin', 'manifest.json')), [{ path: 'entry' }]);
});

t.test('loadManifest refuses an entry that does not exist', async (t) => {
  const dir = t.testdir({ 'manifest.json': manifest({ entry: 'missing.ts' }) });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'entry', received: 'missing.ts' }]);
});

t.test('loadManifest refuses an entry that is a folder', async (t) => {
  const dir = t.testdir({ 'manifest.json': manifest({ entry: 'src' }), src: { 'plugin.ts': PLUGIN_SOURCE } });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'entry', received: 'src' }]);
});

t.test('loadManifest refuses an input schema that does not compile, naming tools.<name>.input', async (t) => {
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input: { type: 'not-a-type' } } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'tools.x.input' }]);
});

t.test('loadManifest refuses an input schema with a remote $ref instead of fetching it', async (t) => {
  // Port 9 (discard) on loopback: nothing should ever try to reach it.
  const input = { $ref: 'http://127.0.0.1:9/schema.json' };
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'tools.x.input' }]);
});

t.test('loadManifest refuses an oversized input schema, naming tools.<name>.input', async (t) => {
  const input = { type: 'object', description: 'x'.repeat(MAX_INPUT_SCHEMA_BYTES) };
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'tools.x.input' }]);
});

t.test('loadManifest reports a bad entry and every bad input schema together', async (t) => {
  const dir = t.testdir({
    'manifest.json': manifest({
      entry: 'missing.ts',
      tools: {
        a: { description: 'a', input: { type: 'nope' } },
        b: { description: 'b', input: { type: 'object' } },
        c: { description: 'c', input: { minimum: 'zero' } },
      },
    }),
  });
  t.same(loadIssues(path.join(dir, 'manifest.json')).map((issue) => issue.path).sort(), ['entry', 'tools.a.input', 'tools.c.input']);
});

t.test('loadManifest compiles a tool output schema into a value validator; a tool without one has none', async (t) => {
  const output = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input: { type: 'object' }, output }, y: { description: 'y', input: { type: 'object' } } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  const loaded = loadManifest(path.join(dir, 'manifest.json'));
  const validate = loaded.outputValidators.get('x')!;
  t.same(validate({ n: 1 }), []);
  t.match(validate({ n: 'one' }), [{ path: '/n' }]);
  t.notOk(loaded.outputValidators.has('y'));
});

t.test('loadManifest names tools.<tool>.output when an output schema does not compile', async (t) => {
  const dir = t.testdir({
    'manifest.json': manifest({ tools: { x: { description: 'x', input: { type: 'object' }, output: { type: 'no-such-type' } } } }),
    'plugin.ts': PLUGIN_SOURCE,
  });
  t.match(loadIssues(path.join(dir, 'manifest.json')), [{ path: 'tools.x.output' }]);
});

t.test('an argument validator names a missing or an unexpected property by its own path', async (t) => {
  const input = { type: 'object', properties: { n: { type: 'integer' }, 'a/b': { type: 'object', properties: {}, additionalProperties: false } }, required: ['n'], additionalProperties: false };
  const dir = t.testdir({ 'manifest.json': manifest({ tools: { x: { description: 'x', input } } }), 'plugin.ts': PLUGIN_SOURCE });
  const validate = loadManifest(path.join(dir, 'manifest.json')).inputValidators.get('x')!;
  t.match(validate({}), [{ path: '/n', message: 'is required' }]);
  t.match(validate({ n: 1, colour: 'red' }), [{ path: '/colour', message: /not allowed/ }]);
  t.match(validate({ n: 1, 'a/b': { 'x~y': 1 } }), [{ path: '/a~1b/x~0y' }], 'as a JSON Pointer, escaped');
});
