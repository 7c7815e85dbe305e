import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { EXAMPLES_DIR, exampleManifest } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

const POLICY = path.join(EXAMPLES_DIR, 'policy.json');

t.test('under the example policy every example inspects with its grants, decisions and per-tool argv', async (t) => {
  const { runtime } = testRuntime(t, { policy: POLICY });
  const names = readdirSync(EXAMPLES_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  t.ok(names.length >= 6, 'all examples are looked at');
  for (const name of names) {
    const manifest = exampleManifest(name);
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
