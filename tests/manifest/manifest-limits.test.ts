import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import * as v from 'valibot';
import { loadManifest, MAX_MANIFEST_BYTES, parseManifest } from '../../runtime/manifest/load-manifest.ts';
import { MAX_TOOLS } from '../../runtime/manifest/manifest-schema.ts';
import { issuesOf, runBounded } from '../helpers/schema-issues.ts';

const base = { name: 'fixture', version: '1.0.0', entry: 'plugin.ts' };
const tool = { description: 't', input: { type: 'object' } };

t.test('a manifest over the byte limit is refused at the root, naming the limit, without being read in full', async (t) => {
  const dir = t.testdir({ 'plugin.ts': '' });
  const text = JSON.stringify({ ...base, description: '', tools: { x: tool } });
  writeFileSync(path.join(dir, 'manifest.json'), text.padEnd(MAX_MANIFEST_BYTES + 1, ' '));
  t.match(issuesOf(() => loadManifest(path.join(dir, 'manifest.json'))), [
    { path: '(root)', message: new RegExp(`over the ${MAX_MANIFEST_BYTES}-byte limit`) },
  ]);
  writeFileSync(path.join(dir, 'manifest.json'), text.padEnd(MAX_MANIFEST_BYTES, ' '));
  t.doesNotThrow(() => loadManifest(path.join(dir, 'manifest.json')), 'exactly at the limit it loads');
});

t.test('more tools than the limit are refused, naming tools and the limit', async (t) => {
  const tools = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, tool]));
  t.match(issuesOf(() => parseManifest({ ...base, tools: tools(MAX_TOOLS + 1) })), [
    { path: 'tools', message: `at most ${MAX_TOOLS} tools` },
  ]);
  t.doesNotThrow(() => parseManifest({ ...base, tools: tools(MAX_TOOLS) }));
});

t.test('positive control: readFileSync on a FIFO blocks (in a child process, killed at a deadline)', async (t) => {
  const dir = t.testdir({});
  const fifo = path.join(dir, 'manifest.json');
  execFileSync('mkfifo', [fifo]);
  const child = runBounded(`require('fs').readFileSync(${JSON.stringify(fifo)}); console.log('returned')`, 3_000);
  t.equal(child.signal, 'SIGKILL', 'still blocked at the deadline');
  t.notMatch(child.stdout, /returned/);
});

t.test('a manifest that is a FIFO is refused at once, naming what it is', async (t) => {
  const dir = t.testdir({ 'plugin.ts': '' });
  execFileSync('mkfifo', [path.join(dir, 'manifest.json')]);
  t.match(issuesOf(() => loadManifest(path.join(dir, 'manifest.json'))), [{ path: '(root)', message: /is a FIFO, not a regular file/ }]);
});

t.test('an entry that is a FIFO is refused, naming entry', async (t) => {
  const dir = t.testdir({ 'manifest.json': JSON.stringify({ ...base, tools: { x: tool } }) });
  execFileSync('mkfifo', [path.join(dir, 'plugin.ts')]);
  t.match(issuesOf(() => loadManifest(path.join(dir, 'manifest.json'))), [{ path: 'entry', message: /a regular file \(it is a FIFO\)/ }]);
});

t.test('a manifest that is a device is refused', async (t) => {
  t.match(issuesOf(() => loadManifest('/dev/zero')), [{ path: '(root)', message: /is a device/ }]);
});

t.test('positive control: valibot\'s record drops constructor, __proto__ and prototype without an issue', async (t) => {
  const record = v.record(v.string(), v.unknown());
  const result = v.safeParse(record, JSON.parse('{"constructor": 1, "__proto__": 2, "prototype": 3, "ok": 4}'));
  t.ok(result.success);
  t.same(Object.keys(result.output as object), ['ok']);
});

for (const name of ['constructor', '__proto__', 'prototype']) {
  t.test(`a tool named ${name} is manifest_invalid, naming tools.${name}`, async (t) => {
    const input = JSON.parse(`{"name": "fixture", "version": "1.0.0", "entry": "plugin.ts", "tools": {"ok": ${JSON.stringify(tool)}, "${name}": ${JSON.stringify(tool)}}}`);
    t.match(issuesOf(() => parseManifest(input)), [{ path: `tools.${name}`, received: name }]);
  });
}

t.test('a plugin named constructor or prototype is manifest_invalid: no policy entry could name it', async (t) => {
  for (const name of ['constructor', 'prototype']) {
    t.match(issuesOf(() => parseManifest({ ...base, name, tools: { x: tool } })), [{ path: 'name' }], name);
  }
});
