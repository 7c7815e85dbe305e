import t from 'tap';
import { isPluginRuntimeError, type PluginRuntimeError } from '../../runtime/errors.ts';
import { parseManifest } from '../../runtime/manifest/load-manifest.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';

const good = {
  name: 'good',
  version: '1.0.0',
  entry: 'plugin.ts',
  capabilities: { 'provide-tools': true },
  tools: { x: { description: 'a tool', input: { type: 'object' } } },
};

/** The issue paths of the `manifest_invalid` error parseManifest throws; `['(accepted)']` if it throws nothing. */
function issuePaths(input: unknown): string[] {
  try {
    parseManifest(input);
  } catch (error) {
    if (!isPluginRuntimeError(error, 'manifest_invalid')) throw error;
    return (error.details!['issues'] as SchemaIssue[]).map((issue) => issue.path);
  }
  return ['(accepted)'];
}

t.test('parseManifest accepts a well-formed manifest and defaults capabilities to none', async (t) => {
  const { capabilities, ...withoutCapabilities } = good;
  t.same(parseManifest(withoutCapabilities).capabilities, {});
  t.same(parseManifest(good).capabilities, capabilities);
});

const singleFieldCases: [label: string, manifest: unknown, path: string][] = [
  ['a name with capitals and spaces', { ...good, name: 'Bad Name' }, 'name'],
  ['a name over 64 characters', { ...good, name: 'a'.repeat(65) }, 'name'],
  ['a version that is not semver', { ...good, version: 'v1' }, 'version'],
  ['an empty entry', { ...good, entry: '' }, 'entry'],
  ['a missing entry', { ...good, entry: undefined }, 'entry'],
  ['provide-tools other than true', { ...good, capabilities: { 'provide-tools': 'yes' } }, 'capabilities.provide-tools'],
  ['a network entry with a scheme', { ...good, capabilities: { 'access-network': ['https://a.test'] } }, 'capabilities.access-network.0'],
  ['a network entry with a wildcard', { ...good, capabilities: { 'access-network': ['ok.test', '*.a.test'] } }, 'capabilities.access-network.1'],
  ['a network entry with a path', { ...good, capabilities: { 'access-network': ['a.test/x'] } }, 'capabilities.access-network.0'],
  ['a port out of range', { ...good, capabilities: { 'access-network': ['a.test:65536'] } }, 'capabilities.access-network.0'],
  ['a repeated network entry', { ...good, capabilities: { 'access-network': ['a.test', 'a.test'] } }, 'capabilities.access-network'],
  ['a lower-case secret name', { ...good, capabilities: { 'access-secret': ['api_key'] } }, 'capabilities.access-secret.0'],
  ['an empty read path', { ...good, capabilities: { 'access-filesystem': { read: [''] } } }, 'capabilities.access-filesystem.read.0'],
  ['an input schema that is not an object', { ...good, tools: { x: { ...good.tools.x, input: 'string' } } }, 'tools.x.input'],
  ['a tool without a description', { ...good, tools: { x: { input: {} } } }, 'tools.x.description'],
  [
    'an empty sandbox read path',
    { ...good, tools: { x: { ...good.tools.x, sandbox: { filesystem: { read: [''] } } } } },
    'tools.x.sandbox.filesystem.read.0',
  ],
  [
    'a sandbox network entry with a scheme',
    { ...good, tools: { x: { ...good.tools.x, sandbox: { network: ['http://a.test'] } } } },
    'tools.x.sandbox.network.0',
  ],
  ['a tool timeout of zero', { ...good, tools: { x: { ...good.tools.x, timeoutMs: 0 } } }, 'tools.x.timeoutMs'],
  ['a tool name with capitals', { ...good, tools: { X: good.tools.x } }, 'tools.X'],
  ['no tools', { ...good, tools: {} }, 'tools'],
];

for (const [label, manifest, expectedPath] of singleFieldCases) {
  t.test(`parseManifest refuses ${label}, naming ${expectedPath}`, async (t) => {
    t.same(issuePaths(manifest), [expectedPath]);
  });
}

const unknownKeyCases: [level: string, manifest: unknown, path: string][] = [
  ['the top level', { ...good, permissions: {} }, 'permissions'],
  ['capabilities', { ...good, capabilities: { 'run-process': true } }, 'capabilities.run-process'],
  ['access-filesystem', { ...good, capabilities: { 'access-filesystem': { exec: ['/bin'] } } }, 'capabilities.access-filesystem.exec'],
  ['a tool', { ...good, tools: { x: { ...good.tools.x, env: ['HOME'] } } }, 'tools.x.env'],
  ['a tool sandbox', { ...good, tools: { x: { ...good.tools.x, sandbox: { run: ['sh'] } } } }, 'tools.x.sandbox.run'],
  [
    'a tool sandbox filesystem',
    { ...good, tools: { x: { ...good.tools.x, sandbox: { filesystem: { exec: ['/bin'] } } } } },
    'tools.x.sandbox.filesystem.exec',
  ],
];

for (const [level, manifest, expectedPath] of unknownKeyCases) {
  t.test(`parseManifest refuses an unknown key in ${level}, naming ${expectedPath}`, async (t) => {
    t.same(issuePaths(manifest), [expectedPath]);
  });
}

t.test('parseManifest reports every issue at once, not just the first', async (t) => {
  const paths = issuePaths({
    name: 'Bad',
    version: '1',
    entry: 'plugin.ts',
    extra: true,
    capabilities: { 'access-network': ['https://a.test'], 'access-secret': ['lower'] },
    tools: { x: { description: 'x', input: 1, sandbox: { filesystem: { read: [''] } } } },
  });
  t.same(new Set(paths), new Set([
    'name',
    'version',
    'extra',
    'capabilities.access-network.0',
    'capabilities.access-secret.0',
    'tools.x.input',
    'tools.x.sandbox.filesystem.read.0',
  ]));
});

t.test('parseManifest refuses values that are not objects', async (t) => {
  for (const input of [null, 'manifest', 42]) {
    t.throws(() => parseManifest(input), { code: 'manifest_invalid' }, JSON.stringify(input));
  }
});

t.test('each issue carries what was expected and what was received', async (t) => {
  try {
    parseManifest({ ...good, version: 'one' });
    t.fail('accepted');
  } catch (error) {
    const [issue] = (error as PluginRuntimeError).details!['issues'] as SchemaIssue[];
    t.match(issue, { path: 'version', message: /semantic version/, received: '"one"' });
    t.match((error as Error).message, /version/);
  }
});

t.test('parseManifest names every unknown key of an object, not only the first, each once', async (t) => {
  const input = {
    name: 'fixture',
    version: '1.0.0',
    entry: 'plugin.ts',
    colour: 'red',
    size: 3,
    tools: { x: { description: 'x', input: { type: 'object' }, inptu: {}, extra: true } },
  };
  let paths: string[] = [];
  try {
    parseManifest(input);
  } catch (error) {
    paths = ((error as { details: { issues: { path: string }[] } }).details.issues).map(({ path }) => path);
  }
  t.same(paths.sort(), ['colour', 'size', 'tools.x.extra', 'tools.x.inptu']);
});
