import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bundleFixture, pluginSource, remainingImports } from './bundle-fixture.ts';

t.test('bundling inlines a relative import inside the folder', async (t) => {
  const { bundle } = await bundleFixture(t, {
    lib: { 'helper.ts': `export const marker = 'inside-helper-marker';\n` },
    'plugin.ts': pluginSource(`import { marker } from './lib/helper.ts';\nconsole.log(marker);`),
  });
  t.match(readFileSync(bundle.bundlePath, 'utf8'), 'inside-helper-marker');
});

t.test('bundling inlines a package from the plugin folder own node_modules', async (t) => {
  const { bundle } = await bundleFixture(t, {
    node_modules: {
      tiny: { 'package.json': JSON.stringify({ name: 'tiny', main: 'index.js' }), 'index.js': `export default 'tiny-package-marker';\n` },
    },
    'plugin.ts': pluginSource(`import tiny from 'tiny';\nconsole.log(tiny);`),
  });
  t.match(readFileSync(bundle.bundlePath, 'utf8'), 'tiny-package-marker');
});

t.test('bundling inlines text and JSON files inside the folder', async (t) => {
  const { bundle } = await bundleFixture(t, {
    'notes.txt': 'text-file-marker',
    'data.json': JSON.stringify({ key: 'json-file-marker' }),
    'more.txt': 'attribute-text-marker',
    'plugin.ts': pluginSource(
      [
        `import notes from './notes.txt';`,
        `import data from './data.json';`,
        `import more from './more.txt' with { type: 'text' };`,
        `console.log(notes, data.key, more);`,
      ].join('\n'),
    ),
  });
  const text = readFileSync(bundle.bundlePath, 'utf8');
  t.match(text, 'text-file-marker');
  t.match(text, 'json-file-marker');
  t.match(text, 'attribute-text-marker');
});

t.test('bundling resolves the SDK specifier to the SDK and inlines it', async (t) => {
  const { bundle } = await bundleFixture(t, { 'plugin.ts': pluginSource('') });
  const text = readFileSync(bundle.bundlePath, 'utf8');
  t.match(text, 'MANASVI_LAUNCH_TOKEN', 'the SDK reads the token variable');
  t.notMatch(text, 'manasvi-plugins/plugin-sdk', 'no import of the SDK is left');
});

t.test('bundling keeps node: built-ins as the only imports left for Deno', async (t) => {
  const { bundle } = await bundleFixture(t, {
    'plugin.ts': pluginSource(`import { join } from 'node:path';\nconsole.log(join('a', 'b'));`),
  });
  t.same(await remainingImports(bundle.bundlePath), ['node:path']);
});

t.test('a bundle with no node: import holds no import at all', async (t) => {
  const { bundle } = await bundleFixture(t, {
    lib: { 'a.ts': `export const a = 1;\n` },
    'plugin.ts': pluginSource(`import { a } from './lib/a.ts';\nconst b = await import('./lib/a.ts');\nconsole.log(a, b);`),
  });
  t.same(await remainingImports(bundle.bundlePath), []);
});

t.test('the bundle is read-only, in a folder closed to other users', async (t) => {
  const { bundle, bundleDir } = await bundleFixture(t, { 'plugin.ts': pluginSource('') });
  t.equal(statSync(bundle.bundlePath).mode & 0o222, 0, 'nobody may write the bundle');
  t.equal(path.dirname(bundle.bundlePath), bundleDir);
  t.equal(statSync(bundleDir).mode & 0o077, 0, 'the bundle folder is private');
});

t.test('the bundle is named by the SHA-256 of its content', async (t) => {
  const { bundle } = await bundleFixture(t, { 'plugin.ts': pluginSource('') });
  const digest = createHash('sha256').update(readFileSync(bundle.bundlePath)).digest('hex');
  t.equal(bundle.sha256, digest);
  t.equal(path.basename(bundle.bundlePath), `${digest}.js`);
});

t.test('the same content bundles to the same path; changed content to a new one', async (t) => {
  const plugin = { 'plugin.ts': pluginSource(`console.log('version one');`) };
  const first = await bundleFixture(t, plugin);
  const second = await bundleFixture(t, plugin);
  t.equal(second.bundle.bundlePath, first.bundle.bundlePath);

  writeFileSync(path.join(first.dir, 'plugin', 'plugin.ts'), pluginSource(`console.log('version two');`));
  const { bundlePlugin } = await import('../../runtime/bundle/bundle-plugin.ts');
  const pluginDir = path.join(first.dir, 'plugin');
  const changed = await bundlePlugin(path.join(pluginDir, 'plugin.ts'), pluginDir, first.bundleDir);
  t.not(changed.bundlePath, first.bundle.bundlePath);
  t.match(readFileSync(first.bundle.bundlePath, 'utf8'), 'version one', 'the earlier bundle is untouched');
  t.match(readFileSync(changed.bundlePath, 'utf8'), 'version two');
});

t.test('an entry that does not parse is bundle_failed, not a refusal', async (t) => {
  await t.rejects(bundleFixture(t, { 'plugin.ts': 'export const = ;' }), { code: 'bundle_failed' });
});
