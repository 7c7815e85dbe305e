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
  ['a wildcard over a top-level domain', { ...good, capabilities: { 'access-network': ['ok.test', '*.test'] } }, 'capabilities.access-network.1'],
  ['a wildcard over a top-level domain with a port', { ...good, capabilities: { 'access-network': ['*.com:443'] } }, 'capabilities.access-network.0'],
  ['a wildcard in the middle', { ...good, capabilities: { 'access-network': ['a.*.example.test'] } }, 'capabilities.access-network.0'],
  ['a wildcard inside a label', { ...good, capabilities: { 'access-network': ['a*.example.test'] } }, 'capabilities.access-network.0'],
  ['a double wildcard', { ...good, capabilities: { 'access-network': ['**.example.test'] } }, 'capabilities.access-network.0'],
  ['two wildcard labels', { ...good, capabilities: { 'access-network': ['*.*.example.test'] } }, 'capabilities.access-network.0'],
  ['a bare "*"', { ...good, capabilities: { 'access-network': ['*'] } }, 'capabilities.access-network.0'],
  ['a wildcard over addresses', { ...good, capabilities: { 'access-network': ['*.1.2.3.4'] } }, 'capabilities.access-network.0'],
  ['a wildcard over a hex address', { ...good, capabilities: { 'access-network': ['*.10.0x7f'] } }, 'capabilities.access-network.0'],
  ['a wildcard over IPv6', { ...good, capabilities: { 'access-network': ['*.[::1]'] } }, 'capabilities.access-network.0'],
  ['a wildcard with a bad port', { ...good, capabilities: { 'access-network': ['*.example.test:0'] } }, 'capabilities.access-network.0'],
  ['a repeated wildcard', { ...good, capabilities: { 'access-network': ['*.a.test', '*.a.test'] } }, 'capabilities.access-network'],
  ['a sandbox wildcard over a top-level domain', { ...good, tools: { x: { ...good.tools.x, sandbox: { network: ['*.test'] } } } }, 'tools.x.sandbox.network.0'],
  ['a secret named twice, as a name and an inject entry', {
    ...good,
    capabilities: { 'access-secret': ['API_KEY', { name: 'API_KEY', inject: { host: 'api.example.test', header: 'Authorization' } }] },
  }, 'capabilities.access-secret'],
  ['a secret injected twice', {
    ...good,
    capabilities: {
      'access-secret': [
        { name: 'API_KEY', inject: { host: 'a.example.test', header: 'Authorization' } },
        { name: 'API_KEY', inject: { host: 'b.example.test', header: 'Authorization' } },
      ],
    },
  }, 'capabilities.access-secret'],
  ['a repeated secret name', { ...good, capabilities: { 'access-secret': ['API_KEY', 'API_KEY'] } }, 'capabilities.access-secret'],
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

const inject = (fields: Record<string, unknown>) => ({
  ...good,
  capabilities: { 'access-secret': [{ name: 'API_KEY', inject: { host: 'api.example.test', header: 'Authorization', ...fields } }] },
});
const injectField = (field: string) => `capabilities.access-secret.0.inject.${field}`;
const injectCases: [label: string, manifest: unknown, path: string][] = [
  ['a wildcard inject host', inject({ host: '*.example.test' }), injectField('host')],
  ['an inject host with a scheme', inject({ host: 'https://api.example.test' }), injectField('host')],
  ['an inject host with a path', inject({ host: 'api.example.test/v1' }), injectField('host')],
  ['an inject port out of range', inject({ host: 'api.example.test:65536' }), injectField('host')],
  ['an empty header', inject({ header: '' }), injectField('header')],
  ['a header with a space', inject({ header: 'X Api Key' }), injectField('header')],
  ['a header with a colon', inject({ header: 'Authorization:' }), injectField('header')],
  ['a header with a newline', inject({ header: 'X-Key\r\nHost' }), injectField('header')],
  ['a header over 100 characters', inject({ header: 'X'.repeat(101) }), injectField('header')],
  ['the Host header', inject({ header: 'Host' }), injectField('header')],
  ['the host header in lower case', inject({ header: 'host' }), injectField('header')],
  ['Content-Length', inject({ header: 'content-LENGTH' }), injectField('header')],
  ['Transfer-Encoding', inject({ header: 'Transfer-Encoding' }), injectField('header')],
  ['Connection', inject({ header: 'Connection' }), injectField('header')],
  ['Upgrade', inject({ header: 'UPGRADE' }), injectField('header')],
  ['a Proxy- header', inject({ header: 'Proxy-Authorization' }), injectField('header')],
  ['Expect, which the gateway answers itself', inject({ header: 'Expect' }), injectField('header')],
  ['Accept-Encoding, which the gateway sets to identity', inject({ header: 'accept-encoding' }), injectField('header')],
  ['TE', inject({ header: 'TE' }), injectField('header')],
  ['Keep-Alive', inject({ header: 'Keep-Alive' }), injectField('header')],
  ['a format without {}', inject({ format: 'Bearer' }), injectField('format')],
  ['a format with {} twice', inject({ format: '{}:{}' }), injectField('format')],
  ['a format with a newline', inject({ format: 'Bearer {}\r\nX-Evil: 1' }), injectField('format')],
  ['a format with a non-ASCII character', inject({ format: 'Bearer\u00a0{}' }), injectField('format')],
  ['a format over 200 characters', inject({ format: `${'x'.repeat(199)}{}` }), injectField('format')],
  // A malformed object is reported at its entry, with the key at fault in the message (below).
  ['an inject entry with an unknown key', inject({ value: 'sk-123' }), 'capabilities.access-secret.0'],
  ['an inject entry without a header', { ...good, capabilities: { 'access-secret': [{ name: 'API_KEY', inject: { host: 'api.example.test' } }] } }, 'capabilities.access-secret.0'],
  ['an inject entry without inject', { ...good, capabilities: { 'access-secret': [{ name: 'API_KEY' }] } }, 'capabilities.access-secret.0'],
  ['a secret entry that is neither a name nor an object', { ...good, capabilities: { 'access-secret': [42] } }, 'capabilities.access-secret.0'],
  ['an inject entry with a lower-case name', { ...good, capabilities: { 'access-secret': [{ name: 'api_key', inject: { host: 'a.test', header: 'X-Key' } }] } }, 'capabilities.access-secret.0.name'],
];

for (const [label, manifest, expectedPath] of injectCases) {
  t.test(`parseManifest refuses ${label}, naming ${expectedPath}`, async (t) => {
    t.same(issuePaths(manifest), [expectedPath]);
  });
}

t.test('parseManifest accepts wildcard network entries with and without a port, beside exact ones', async (t) => {
  const entries = ['*.example.test', '*.api.example.test:8443', 'example.test', '*.Example-1.test', '*.a.b.c.example.test'];
  const manifest = { ...good, capabilities: { 'access-network': entries }, tools: { x: { ...good.tools.x, sandbox: { network: ['*.api.example.test:8443'] } } } };
  t.same(parseManifest(manifest).capabilities['access-network'], entries);
});

t.test('parseManifest accepts inject entries beside plain names, defaulting the format to "{}"', async (t) => {
  const capabilities = {
    'access-secret': [
      'DB_PASSWORD',
      { name: 'API_KEY', inject: { host: 'api.example.test', header: 'Authorization', format: 'Bearer {}' } },
      { name: 'OTHER_KEY', inject: { host: 'other.example.test:8443', header: 'X-Api-Key' } },
      { name: 'BRACES', inject: { host: '[2001:db8::1]', header: "x!#$%&'*+-.^_`|~9", format: '{{}} id={}'.replace('{{}} ', '{ ') } },
    ],
  };
  t.same(parseManifest({ ...good, capabilities }).capabilities['access-secret'], [
    'DB_PASSWORD',
    { name: 'API_KEY', inject: { host: 'api.example.test', header: 'Authorization', format: 'Bearer {}' } },
    { name: 'OTHER_KEY', inject: { host: 'other.example.test:8443', header: 'X-Api-Key', format: '{}' } },
    { name: 'BRACES', inject: { host: '[2001:db8::1]', header: "x!#$%&'*+-.^_`|~9", format: '{ id={}' } },
  ]);
});

t.test('a refused wildcard or inject field is explained in words, not only by its path', async (t) => {
  const messages = (input: unknown) => {
    try {
      parseManifest(input);
    } catch (error) {
      return ((error as PluginRuntimeError).details!['issues'] as SchemaIssue[]).map((issue) => issue.message);
    }
    return [];
  };
  t.match(messages({ ...good, capabilities: { 'access-network': ['*.com'] } }), [/at least two labels/]);
  t.match(messages({ ...good, capabilities: { 'access-network': ['a.*.com'] } }), [/whole first label/]);
  t.match(messages(inject({ header: 'Proxy-Authorization' })), [/framed or routed/]);
  t.match(messages(inject({ format: 'x' })), [/"\{\}" exactly once/]);
  t.match(messages({ ...good, capabilities: { 'access-secret': ['A', { name: 'A', inject: { host: 'a.test', header: 'X' } }] } }), [/named once/]);
  t.match(messages(inject({ value: 'sk-123' })), [/inject\.value is not a key it takes/]);
  t.match(messages({ ...good, capabilities: { 'access-secret': [{ name: 'API_KEY', inject: { host: 'a.test' } }] } }), [/inject\.header is missing/]);
  t.match(messages({ ...good, capabilities: { 'access-secret': [{ name: 'API_KEY' }] } }), [/inject is missing/]);
});

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
