import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t from 'tap';
import * as v from 'valibot';
import { loadManifest } from '../../runtime/manifest/load-manifest.ts';
import { manifestJsonSchema, manifestJsonSchemaText } from '../../runtime/manifest/manifest-json-schema.ts';
import { ManifestSchema } from '../../runtime/manifest/manifest-schema.ts';

const manifestsDir = fileURLToPath(new URL('../../manifests/', import.meta.url));
const committedPath = path.join(manifestsDir, 'plugin-manifest.schema.json');
const examplesDir = path.join(manifestsDir, 'examples');
const exampleManifests = readdirSync(examplesDir, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => path.join(examplesDir, entry.name, 'manifest.json'))
  .filter((manifestPath) => existsSync(manifestPath));

// strict mode: a schema with unknown keywords or contradictions fails to compile here.
const validateJson = new Ajv2020({ allErrors: true, strict: true }).compile(manifestJsonSchema());

const good = {
  name: 'good',
  version: '1.0.0',
  entry: 'plugin.ts',
  capabilities: { 'provide-tools': true, 'access-network': ['example.test:443'] },
  tools: { echo: { description: 'echo', input: { type: 'object' } } },
};

t.test('the committed plugin-manifest.schema.json is exactly what `npm run schema` generates', async (t) => {
  t.equal(readFileSync(committedPath, 'utf8'), manifestJsonSchemaText(), 'run `npm run schema` and commit the result');
});

t.test('the generated schema is draft 2020-12 with an id and a title', async (t) => {
  const schema = manifestJsonSchema();
  t.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  t.type(schema.$id, 'string');
  t.type(schema.title, 'string');
});

t.test('every example manifest validates against the JSON Schema and loads', async (t) => {
  t.ok(exampleManifests.length > 0, 'there are example manifests');
  for (const manifestPath of exampleManifests) {
    const name = path.basename(path.dirname(manifestPath));
    const raw: unknown = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const errors = validateJson(raw) ? [] : validateJson.errors;
    t.same(errors, [], `${name} matches the JSON Schema`);
    t.doesNotThrow(() => loadManifest(manifestPath), `${name} passes loadManifest`);
  }
});

// The JSON Schema must refuse what the loader refuses, custom checks included, or
// editors would bless manifests the host rejects.
const rejected: Record<string, unknown> = {
  'an unknown top-level key': { ...good, extra: true },
  'an unknown capability': { ...good, capabilities: { 'spawn-process': true } },
  'an unknown key in a tool sandbox': {
    ...good,
    tools: { echo: { ...good.tools.echo, sandbox: { env: ['HOME'] } } },
  },
  'a repeated network entry': { ...good, capabilities: { 'access-network': ['a.test', 'a.test'] } },
  'a repeated secret in a sandbox': {
    ...good,
    tools: { echo: { ...good.tools.echo, sandbox: { secrets: ['API_KEY', 'API_KEY'] } } },
  },
  'a repeated read path': { ...good, capabilities: { 'access-filesystem': { read: ['data', 'data'] } } },
  'no tools at all': { ...good, tools: {} },
  'a tool name with capitals': { ...good, tools: { Echo: good.tools.echo } },
  'a network entry with a scheme': { ...good, capabilities: { 'access-network': ['https://a.test'] } },
  'provide-tools set to false': { ...good, capabilities: { 'provide-tools': false } },
  'a wildcard over a top-level domain': { ...good, capabilities: { 'access-network': ['*.com'] } },
  'a wildcard over a top-level domain, with a port': { ...good, capabilities: { 'access-network': ['*.com:443'] } },
  'a wildcard in the middle': { ...good, capabilities: { 'access-network': ['a.*.example.test'] } },
  'a double wildcard': { ...good, capabilities: { 'access-network': ['**.example.test'] } },
  'a wildcard over addresses': { ...good, capabilities: { 'access-network': ['*.1.2.3.4'] } },
  'a wildcard over a hex address': { ...good, capabilities: { 'access-network': ['*.a.0X7F'] } },
  'a sandbox wildcard over a top-level domain': {
    ...good,
    tools: { echo: { ...good.tools.echo, sandbox: { network: ['*.test'] } } },
  },
  'an inject entry with a wildcard host': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: '*.a.test', header: 'X' } }] } },
  'an inject entry with a refused header': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'proxy-Authorization' } }] } },
  'an inject entry with Host as its header': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'HOST' } }] } },
  'an inject entry with a header that is no token': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X Key' } }] } },
  'an inject format without {}': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X', format: 'Bearer' } }] } },
  'an inject format with {} twice': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X', format: '{}{}' } }] } },
  'an inject format with a control character': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X', format: '{}\n' } }] } },
  'an inject entry with an unknown key': { ...good, capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X', to: 'b' } }] } },
  'an inject entry without inject': { ...good, capabilities: { 'access-secret': [{ name: 'K' }] } },
  'the same inject entry twice': {
    ...good,
    capabilities: { 'access-secret': [{ name: 'K', inject: { host: 'a.test', header: 'X' } }, { name: 'K', inject: { host: 'a.test', header: 'X' } }] },
  },
  'a version that is not semver': { ...good, version: '1.0' },
};

t.test('the JSON Schema and the valibot schema agree on each rejected manifest', async (t) => {
  t.ok(validateJson(good), 'the baseline is accepted by the JSON Schema');
  t.ok(v.is(ManifestSchema, good), 'the baseline is accepted by valibot');
  for (const [label, manifest] of Object.entries(rejected)) {
    t.notOk(validateJson(manifest), `JSON Schema refuses ${label}`);
    t.notOk(v.is(ManifestSchema, manifest), `valibot refuses ${label}`);
  }
});

const accepted: Record<string, unknown> = {
  'wildcards with and without a port': { ...good, capabilities: { 'access-network': ['*.example.test', '*.api.example.test:8443'] } },
  'a sandbox wildcard': { ...good, tools: { echo: { ...good.tools.echo, sandbox: { network: ['*.a.example.test'] } } } },
  'inject entries beside names': {
    ...good,
    capabilities: {
      'access-secret': [
        'PLAIN',
        { name: 'API_KEY', inject: { host: 'api.example.test', header: 'Authorization', format: 'Bearer {}' } },
        { name: 'OTHER', inject: { host: 'api.example.test:8443', header: 'X-Api-Key' } },
      ],
    },
  },
};

t.test('the JSON Schema and the valibot schema agree on each accepted wildcard and inject manifest', async (t) => {
  for (const [label, manifest] of Object.entries(accepted)) {
    t.same(validateJson(manifest) ? [] : validateJson.errors, [], `JSON Schema accepts ${label}`);
    t.ok(v.is(ManifestSchema, manifest), `valibot accepts ${label}`);
  }
});

t.test('the one known gap: the same secret as a name and an inject entry is refused by the loader only', async (t) => {
  const manifest = { ...good, capabilities: { 'access-secret': ['K', { name: 'K', inject: { host: 'a.test', header: 'X' } }] } };
  t.notOk(v.is(ManifestSchema, manifest), 'valibot refuses it');
  t.ok(validateJson(manifest), 'JSON Schema cannot say "unique by name"; documented in manifest-json-schema.ts');
});
