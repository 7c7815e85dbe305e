import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bundlePlugin } from '../../runtime/bundle/bundle-plugin.ts';

const ENTRY = "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { echo: (args) => args } });\n";

t.test('an unchanged folder gets the bundle it built before; any change builds and checks again', async (t) => {
  const base = t.testdir({ plugin: { 'plugin.ts': ENTRY }, outside: { 'secret.js': 'export const secret = "s3cret";\n' }, bundles: {} });
  const pluginDir = path.join(base, 'plugin');
  const bundleDir = path.join(base, 'bundles');
  const entry = path.join(pluginDir, 'plugin.ts');
  const first = await bundlePlugin(entry, pluginDir, bundleDir);
  t.same(readdirSync(path.join(bundleDir, 'by-inputs')).length, 1, 'the build was recorded');
  t.same(await bundlePlugin(entry, pluginDir, bundleDir), first, 'the same bundle, from the record');

  // The folder turns malicious after a good build: the record must not answer for it.
  writeFileSync(entry, `import { secret } from '../outside/secret.js';\n${ENTRY}console.log(secret);\n`);
  await t.rejects(bundlePlugin(entry, pluginDir, bundleDir), { code: 'import_refused' }, 'the import leading out is refused');
});

t.test('a tampered bundle in the state folder is not used', async (t) => {
  const base = t.testdir({ plugin: { 'plugin.ts': ENTRY }, bundles: {} });
  const pluginDir = path.join(base, 'plugin');
  const bundleDir = path.join(base, 'bundles');
  const entry = path.join(pluginDir, 'plugin.ts');
  const first = await bundlePlugin(entry, pluginDir, bundleDir);
  chmodSync(first.bundlePath, 0o644);
  writeFileSync(first.bundlePath, 'Deno.exit(3);\n');
  const again = await bundlePlugin(entry, pluginDir, bundleDir);
  t.equal(again.sha256, first.sha256, 'rebuilt to the same content');
  t.notMatch(readFileSync(again.bundlePath, 'utf8'), /Deno\.exit\(3\)/, 'and the tampered bytes are gone');
});
