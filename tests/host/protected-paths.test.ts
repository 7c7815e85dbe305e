import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';


const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** Writes a plugin into `dir/<name>/`, declaring write access to `write`. */
function pluginDeclaring(dir: string, write: string[], name = 'grabber') {
  mkdirSync(path.join(dir, name), { recursive: true });
  writeFileSync(
    path.join(dir, name, 'plugin.ts'),
    "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { noop: () => null } });\n",
  );
  const manifest = path.join(dir, name, 'manifest.json');
  writeFileSync(
    manifest,
    JSON.stringify({
      name,
      version: '1.0.0',
      entry: 'plugin.ts',
      capabilities: { 'provide-tools': true, 'access-filesystem': { write } },
      tools: { noop: { description: 'nothing', input: { type: 'object' } } },
    }),
  );
  return manifest;
}


t.test("the runtime's own code, config and Deno binary are never granted, even under allowDeclared", async (t) => {
  const runtime = createRuntime({ allowDeclared: true, onLog: () => {} });
  t.teardown(() => runtime.close());
  const targets = [`${REPO}/runtime`, `${REPO}/plugin-sdk/internal`, `${REPO}/node_modules/deno`, `${REPO}/deno-launch.json`, REPO];
  const prepared = await runtime.inspect(pluginDeclaring(t.testdir(), targets));
  for (const target of targets) {
    const decision = prepared.decisions.find((d) => d.scope === `write:${target}`);
    t.equal(decision?.granted, false, `${target} refused`);
    t.match(decision?.rule, /runtime-protected/);
  }
  t.same(prepared.grants.write, []);
});

t.test('a load refused for its sandbox still audits every decision with its rule', async (t) => {
  const records: { type: string; scope?: string; granted?: boolean }[] = [];
  const runtime = createRuntime({ onLog: () => {}, onAudit: (record) => records.push(record) });
  t.teardown(() => runtime.close());
  const dir = t.testdir({
    data: {},
    'plugin.ts': "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { w: () => null } });\n",
  });
  writeFileSync(
    path.join(dir, 'manifest.json'),
    JSON.stringify({
      name: 'refused',
      version: '1.0.0',
      entry: 'plugin.ts',
      capabilities: { 'provide-tools': true, 'access-filesystem': { write: ['./data'] } },
      tools: { w: { description: 'writes', input: { type: 'object' }, sandbox: { filesystem: { write: ['./data'] } } } },
    }),
  );
  await t.rejects(runtime.load(path.join(dir, 'manifest.json')), { code: 'sandbox_exceeds_grants' });
  const refused = records.find((r) => r.type === 'grant_decision' && r.granted === false);
  t.ok(refused, 'the refusal is on record');
  t.match(refused?.scope, /^write:.*data$/);
});

t.test('compare reports a renamed plugin as a widening', async (t) => {
  const runtime = createRuntime({ onLog: () => {} });
  t.teardown(() => runtime.close());
  const dir = t.testdir();
  const before = pluginDeclaring(dir, [], 'quiet');
  const after = pluginDeclaring(dir, [], 'trusted-name');
  t.match(runtime.compare(before, after), [{ where: 'name', capability: 'name', scope: 'quiet → trusted-name' }]);
});
