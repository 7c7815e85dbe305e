import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';

const REPO = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const NOOP = `${SDK_IMPORT}\ndefinePlugin({ tools: { noop: () => null } });\n`;

/** A plugin in `dir/<name>/` declaring write access to `write`. */
function pluginDeclaring(dir: string, write: string[], name = 'grabber'): string {
  return writeInlinePlugin(dir, { name, source: NOOP, capabilities: { 'access-filesystem': { write } }, tools: { noop: {} } });
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
  const dir = t.testdir({ refused: { data: {} } });
  const manifest = writeInlinePlugin(dir, {
    name: 'refused',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { w: () => null } });\n`,
    capabilities: { 'access-filesystem': { write: ['./data'] } },
    tools: { w: { sandbox: { filesystem: { write: ['./data'] } } } },
  });
  await t.rejects(runtime.load(manifest), { code: 'sandbox_exceeds_grants' });
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
