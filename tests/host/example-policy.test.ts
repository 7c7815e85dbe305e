import { readdirSync } from 'node:fs';
import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';

const EXAMPLES = new URL('../../manifests/examples/', import.meta.url).pathname;
const POLICY = `${EXAMPLES}policy.json`;

t.test('under the example policy every example inspects with its grants, decisions and per-tool argv', async (t) => {
  const runtime = createRuntime({ policy: POLICY, onLog: () => {} });
  t.teardown(() => runtime.close());
  const names = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  t.ok(names.length >= 6, 'all examples are looked at');
  for (const name of names) {
    const manifest = `${EXAMPLES}${name}/manifest.json`;
    if (name === 'rogue-import') {
      await t.rejects(runtime.inspect(manifest), { code: 'import_refused' }, 'rogue-import cannot load');
      continue;
    }
    const prepared = await runtime.inspect(manifest);
    t.ok(prepared.decisions.length > 0, `${name}: decisions listed`);
    t.ok(prepared.decisions.every((d) => d.rule.length > 0), `${name}: every decision names its rule`);
    for (const tool of prepared.tools) {
      t.equal(tool.argv.at(-1), prepared.bundlePath, `${name}/${tool.name}: argv ends with the bundle`);
      t.ok(tool.argv.includes('--no-prompt'), `${name}/${tool.name}: argv is Deno's`);
    }
  }
});
