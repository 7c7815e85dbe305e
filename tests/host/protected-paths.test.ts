import path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

const REPO = path.resolve(REPO_ROOT);
const NOOP = `${SDK_IMPORT}\ndefinePlugin({ tools: { noop: () => null } });\n`;

/** A plugin in `dir/<name>/` declaring write access to `write`. */
function pluginDeclaring(dir: string, write: string[], name = 'grabber'): string {
  return writeInlinePlugin(dir, { name, source: NOOP, capabilities: { 'access-filesystem': { write } }, tools: { noop: {} } });
}

t.test("the runtime's own code, config and Deno binary are never granted, even under allowDeclared", async (t) => {
  const { runtime } = testRuntime(t, { allowDeclared: true });
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
  const { runtime, audit } = testRuntime(t);
  const dir = t.testdir({ refused: { data: {} } });
  const manifest = writeInlinePlugin(dir, {
    name: 'refused',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { w: () => null } });\n`,
    capabilities: { 'access-filesystem': { write: ['./data'] } },
    tools: { w: { sandbox: { filesystem: { write: ['./data'] } } } },
  });
  await t.rejects(runtime.load(manifest), { code: 'sandbox_exceeds_grants' });
  const refused = audit.records.find((r) => r.type === 'grant_decision' && r.granted === false);
  t.ok(refused, 'the refusal is on record');
  t.match(refused?.scope, /^write:.*data$/);
});

t.test('compare reports a renamed plugin as a widening', async (t) => {
  const { runtime } = testRuntime(t);
  const dir = t.testdir();
  const before = pluginDeclaring(dir, [], 'quiet');
  const after = pluginDeclaring(dir, [], 'trusted-name');
  t.match(runtime.compare(before, after), [{ where: 'name', capability: 'name', scope: 'quiet → trusted-name' }]);
});
