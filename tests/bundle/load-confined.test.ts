import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bundlePlugin } from '../../runtime/bundle/bundle-plugin.ts';
import { findGlobImports } from '../../runtime/bundle/find-glob-imports.ts';
import { rejection } from '../helpers/wait-for.ts';
import { bundleFixture, pluginSource } from './bundle-fixture.ts';

t.test('findGlobImports finds the forms esbuild expands and nothing else', async (t) => {
  const code = 'a=import(`../${n}.txt`);b=require("./f/"+n);c=import(`${base}/x.js`);d=import("./x.js");e=x.require(`./${n}`)';
  t.same(findGlobImports(code), ['`../${n}.txt`', '"./f/"+n']);
});

t.test('a glob-form import is refused naming the import and the file that makes it', async (t) => {
  const plugin = { 'plugin.ts': pluginSource('// import(`./${x}`) in a comment does not count\nexport const s = import(`./data/${globalThis.n}.txt`);') };
  const error = await rejection(bundleFixture(t, plugin));
  t.match(error, { code: 'import_refused', details: { specifier: '`./data/${globalThis.n}.txt`', importer: /plugin\/plugin\.ts$/ } });
});

t.test('a file type the runtime does not bundle is refused', async (t) => {
  const plugin = { 'style.css': 'a{}', 'plugin.ts': pluginSource(`import './style.css';`) };
  await t.rejects(bundleFixture(t, plugin), { code: 'import_refused', details: { why: /no loader/ } });
});

t.test('a tsconfig.json in the folder is not read: a FIFO there does not hang the build', async (t) => {
  const dir = realpathSync(t.testdir({ 'plugin.ts': pluginSource('') }));
  execFileSync('mkfifo', [path.join(dir, 'tsconfig.json')]);
  const bundle = await bundlePlugin(path.join(dir, 'plugin.ts'), dir, path.join(dir, 'bundles'));
  t.ok(bundle.bundlePath);
});

t.test('a tsconfig extends naming a file outside is not read', async (t) => {
  const plugin = {
    'tsconfig.json': JSON.stringify({ extends: '../outside.json' }),
    'plugin.ts': pluginSource(''),
  };
  const { bundle } = await bundleFixture(t, plugin, { 'outside.json': 'not json at all' });
  t.ok(bundle.bundlePath, 'an unreadable extends would fail the build if esbuild read it');
});
