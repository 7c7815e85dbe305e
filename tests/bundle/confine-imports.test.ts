import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bundleFixture, pluginSource, refusedSpecifier } from './bundle-fixture.ts';

const SECRET = 'export default "host secret";\n';

t.test('bundling refuses a static import of /etc/passwd as text, naming it', async (t) => {
  const plugin = { 'plugin.ts': pluginSource(`import passwd from '/etc/passwd' with { type: 'text' };\nconsole.log(passwd);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin)), '/etc/passwd');
});

t.test('bundling refuses an absolute import of a file outside the folder', async (t) => {
  const outsideFile = path.join(t.testdirName, 'outside.js');
  const plugin = { 'plugin.ts': pluginSource(`import s from ${JSON.stringify(outsideFile)};\nconsole.log(s);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), outsideFile);
});

t.test('bundling refuses a relative import that climbs out of the folder', async (t) => {
  const plugin = { 'plugin.ts': pluginSource(`import s from '../outside.js';\nconsole.log(s);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), '../outside.js');
});

t.test('bundling refuses a climb out that is disguised as a path through a subfolder', async (t) => {
  const plugin = {
    lib: {},
    'plugin.ts': pluginSource(`import s from './lib/../../outside.js';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), './lib/../../outside.js');
});

t.test('bundling refuses a file symlink inside the folder that leads out', async (t) => {
  const plugin = {
    'innocent.js': t.fixture('symlink', '../outside.js'),
    'plugin.ts': pluginSource(`import s from './innocent.js';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), './innocent.js');
});

t.test('bundling refuses a text import through a symlink that leads out', async (t) => {
  const plugin = {
    'notes.txt': t.fixture('symlink', '../secret.txt'),
    'plugin.ts': pluginSource(`import notes from './notes.txt';\nconsole.log(notes);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'secret.txt': 'host secret' })), './notes.txt');
});

t.test('bundling refuses a directory symlink inside the folder that leads out', async (t) => {
  const plugin = {
    lib: t.fixture('symlink', '../outside-dir'),
    'plugin.ts': pluginSource(`import s from './lib/mod.js';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside-dir': { 'mod.js': SECRET } })), './lib/mod.js');
});

t.test('bundling refuses a bare package found in a node_modules outside the folder', async (t) => {
  const outside = {
    node_modules: { leftpad: { 'package.json': JSON.stringify({ name: 'leftpad', main: 'index.js' }), 'index.js': SECRET } },
  };
  const plugin = { 'plugin.ts': pluginSource(`import s from 'leftpad';\nconsole.log(s);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, outside)), 'leftpad');
});

t.test('bundling refuses a package in the plugin node_modules that is a symlink leading out', async (t) => {
  const outside = { linked: { 'package.json': JSON.stringify({ name: 'linked', main: 'index.js' }), 'index.js': SECRET } };
  const plugin = {
    node_modules: { linked: t.fixture('symlink', '../../linked') },
    'plugin.ts': pluginSource(`import s from 'linked';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, outside)), 'linked');
});

t.test('bundling refuses a tsconfig paths alias that points out of the folder', async (t) => {
  const plugin = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { 'alias/*': ['../outside/*'] } } }),
    'plugin.ts': pluginSource(`import s from 'alias/secret.js';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { outside: { 'secret.js': SECRET } })), 'alias/secret.js');
});

t.test('bundling refuses a package.json imports alias that points out of the folder', async (t) => {
  const plugin = {
    'package.json': JSON.stringify({ name: 'p', type: 'module', imports: { '#secret': '../outside.js' } }),
    'plugin.ts': pluginSource(`import s from '#secret';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), '#secret');
});

for (const specifier of [
  'https://example.test/mod.js',
  'http://127.0.0.1:9/mod.js',
  'jsr:@std/path',
  'npm:left-pad',
  'file:///etc/passwd',
  'data:text/javascript,export default 1',
]) {
  t.test(`bundling refuses the URL import ${specifier.split(':')[0]}:, naming it`, async (t) => {
    const plugin = { 'plugin.ts': pluginSource(`import s from ${JSON.stringify(specifier)};\nconsole.log(s);`) };
    t.equal(await refusedSpecifier(bundleFixture(t, plugin)), specifier);
  });
}

t.test('bundling refuses a literal dynamic import of a file outside the folder', async (t) => {
  const plugin = { 'plugin.ts': pluginSource(`const s = await import('../outside.js');\nconsole.log(s);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), '../outside.js');
});

t.test('bundling refuses a require of a file outside the folder', async (t) => {
  const plugin = {
    'helper.cjs': `module.exports = require('../outside.cjs');\n`,
    'plugin.ts': pluginSource(`import s from './helper.cjs';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.cjs': 'module.exports = 1;\n' })), '../outside.cjs');
});

t.test('bundling refuses an escaping import made by a module deep inside the folder', async (t) => {
  const plugin = {
    lib: { 'helper.js': `export { default } from '../../outside.js';\n` },
    'plugin.ts': pluginSource(`import s from './lib/helper.js';\nconsole.log(s);`),
  };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin, { 'outside.js': SECRET })), '../../outside.js');
});

t.test('bundling refuses an import of the host runtime itself', async (t) => {
  const runtimeFile = fileURLToPath(new URL('../../runtime/errors.ts', import.meta.url));
  const plugin = { 'plugin.ts': pluginSource(`import * as host from ${JSON.stringify(runtimeFile)};\nconsole.log(host);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin)), runtimeFile);
});

t.test('bundling refuses a relative climb into the SDK internals', async (t) => {
  // Only the SDK specifier reaches the SDK; a path into the package is outside the folder.
  const sdkFile = fileURLToPath(new URL('../../plugin-sdk/protocol/frame.ts', import.meta.url));
  const relative = path.relative(path.join(t.testdirName, 'plugin'), sdkFile);
  const plugin = { 'plugin.ts': pluginSource(`import * as f from ${JSON.stringify(relative)};\nconsole.log(f);`) };
  t.equal(await refusedSpecifier(bundleFixture(t, plugin)), relative);
});
