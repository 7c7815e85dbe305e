import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import t, { type Test } from 'tap';
import { createInputSchemaCompiler, MAX_INPUT_SCHEMA_DEPTH, MAX_INPUT_SCHEMAS_TOTAL_BYTES } from '../../runtime/manifest/input-validator.ts';
import { loadManifest } from '../../runtime/manifest/load-manifest.ts';
import { issuesOf } from '../helpers/schema-issues.ts';

const SHARED_ID = 'urn:example:shared';
/** Plugin A registers an id; plugin B refers to it, or registers the same one. */
const registers = { $id: SHARED_ID, type: 'object', properties: { n: { type: 'integer' } } };
const refersToA = { $ref: `${SHARED_ID}#/properties/n` };

function writePlugin(t: Test, name: string, input: object): string {
  const dir = t.testdir({
    'manifest.json': JSON.stringify({ name, version: '1.0.0', entry: 'plugin.ts', tools: { x: { description: 'x', input } } }),
    'plugin.ts': '',
  });
  return path.join(dir, 'manifest.json');
}

t.test('positive control: on one shared ajv, one plugin\'s $id resolves from another\'s schema, and a second registration fails', async (t) => {
  const shared = new Ajv2020({ strict: false });
  shared.compile(registers);
  const validateB = shared.compile(refersToA);
  t.equal(validateB('not an integer'), false, 'B is checked against A\'s schema');
  t.throws(() => shared.compile({ ...registers, title: 'another plugin' }), /already exists/);
});

t.test('each manifest has its own schema registry: A\'s $id is unknown to B', async (t) => {
  loadManifest(writePlugin(t, 'plugin-a', registers));
  t.match(issuesOf(() => loadManifest(writePlugin(t, 'plugin-b', refersToA))), [{ path: 'tools.x.input', message: /resolve reference/ }]);
});

t.test('two manifests may register the same $id: neither load blocks the other', async (t) => {
  const a = loadManifest(writePlugin(t, 'plugin-a', registers));
  const b = loadManifest(writePlugin(t, 'plugin-b', { ...registers, properties: { n: { type: 'string' } } }));
  t.same(a.inputValidators.get('x')!({ n: 1 }), []);
  t.same(b.inputValidators.get('x')!({ n: 'one' }), [], 'B validates with its own schema, not A\'s');
  t.match(a.inputValidators.get('x')!({ n: 'one' }), [{ path: '/n' }]);
});

t.test('an input schema nested deeper than the limit is refused before anything recurses into it', async (t) => {
  let deep: object = { type: 'string' };
  for (let i = 0; i < 10_000; i++) deep = { items: deep };
  t.throws(() => createInputSchemaCompiler()(deep as Record<string, unknown>), { message: new RegExp(`limit of ${MAX_INPUT_SCHEMA_DEPTH}`) });
  let fine: object = { type: 'string' };
  for (let i = 1; i < MAX_INPUT_SCHEMA_DEPTH; i++) fine = { items: fine };
  t.doesNotThrow(() => createInputSchemaCompiler()(fine as Record<string, unknown>), 'at the limit it compiles');
});

t.test('a manifest\'s input schemas share a byte budget, reported once, naming the tool', async (t) => {
  const padded = (i: number) => ({ type: 'object', description: `${i}${'x'.repeat(60 * 1024)}` });
  const count = Math.ceil(MAX_INPUT_SCHEMAS_TOTAL_BYTES / (60 * 1024)) + 3;
  const dir = t.testdir({
    'manifest.json': JSON.stringify({
      name: 'wide',
      version: '1.0.0',
      entry: 'plugin.ts',
      tools: Object.fromEntries(Array.from({ length: count }, (_, i) => [`t${i}`, { description: 't', input: padded(i) }])),
    }),
    'plugin.ts': '',
  });
  const issues = issuesOf(() => loadManifest(path.join(dir, 'manifest.json')));
  t.equal(issues.length, 1);
  t.match(issues, [{ path: /^tools\.t\d+\.input$/, message: new RegExp(`${MAX_INPUT_SCHEMAS_TOTAL_BYTES}-byte limit`) }]);
});
