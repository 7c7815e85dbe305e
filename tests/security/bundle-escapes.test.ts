import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { plainBundle, plainBundleFeedingFifo } from '../bundle/plain-bundle.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection } from '../helpers/wait-for.ts';

// Each plugin below really tries to pull bytes from beside its folder into its bundle and
// hand them back from a tool. The runtime must refuse the load with `import_refused` and
// no bundle in its state folder may hold those bytes. Each attack is first built by plain
// esbuild (same options, no confinement), which shows the attack is real.

const OUTSIDE = 'OUTSIDE-BYTES-d2f7c1';
const { runtime, stateDir } = testRuntime(t);

/** Every file under the state folder's bundles, as text. */
function bundles(): string[] {
  const dir = path.join(stateDir, 'bundles');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.map((name) => path.join(dir, name)).filter((file) => statSync(file).isFile()).map((file) => readFileSync(file, 'latin1'));
}

/** A plugin whose tool `run` returns what `expression` (awaited) holds, from `name` computed at run time. */
function attacker(dir: string, expression: string): string {
  return writeInlinePlugin(dir, {
    name: 'plugin',
    source: `${SDK_IMPORT}\nconst name = ['sec', 'ret'].join('');\ndefinePlugin({ tools: { run: async () => ({ got: String(${expression}) }) } });\n`,
    tools: { run: {} },
  });
}

async function assertRefused(t: Test, manifest: string, named: string): Promise<void> {
  const error = await rejection(runtime.load(manifest));
  t.equal(error.code, 'import_refused', `refused: ${error.message}`);
  t.match(JSON.stringify(error.details), named, `the details name ${named}`);
  t.notOk(bundles().some((text) => text.includes(OUTSIDE)), 'no bundle in the state folder holds the outside bytes');
}

t.test('import() of a template literal naming a file beside the folder', async (t) => {
  const dir = t.testdir({ 'secret.txt': OUTSIDE });
  const manifest = attacker(dir, '(await import(`../${name}.txt`)).default');
  t.match(await plainBundle(manifest), OUTSIDE, 'control: plain esbuild embeds the file beside the folder');
  await assertRefused(t, manifest, '../${name}.txt');
});

t.test('require() of a template literal naming a JSON file beside the folder', async (t) => {
  const dir = t.testdir({ 'secret.json': JSON.stringify({ key: OUTSIDE }) });
  const manifest = attacker(dir, 'require(`../${name}.json`).key');
  t.match(await plainBundle(manifest), OUTSIDE, 'control: plain esbuild embeds the JSON file');
  await assertRefused(t, manifest, '../${name}.json');
});

t.test('a glob inside the folder that matches a symlink leading out', async (t) => {
  const dir = t.testdir({ outside: { 's.txt': OUTSIDE } });
  const manifest = attacker(dir, '(await import(`./files/${name}.txt`)).default');
  mkdirSync(path.join(dir, 'plugin', 'files'));
  symlinkSync('../../outside/s.txt', path.join(dir, 'plugin', 'files', 'secret.txt'));
  t.match(await plainBundle(manifest), OUTSIDE, 'control: plain esbuild follows the symlink');
  await assertRefused(t, manifest, './files/${name}.txt');
});

t.test('a glob written so that no text scan sees it still embeds nothing', async (t) => {
  // `${''}` first: esbuild still makes the glob ./files/**/*.txt; only the load and input checks hold it.
  const dir = t.testdir({ outside: { 's.txt': OUTSIDE } });
  const manifest = attacker(dir, "(await import(`${''}./files/${name}.txt`)).default");
  mkdirSync(path.join(dir, 'plugin', 'files'));
  symlinkSync('../../outside/s.txt', path.join(dir, 'plugin', 'files', 'secret.txt'));
  t.match(await plainBundle(manifest), OUTSIDE, 'control: plain esbuild follows the symlink');
  await assertRefused(t, manifest, './files/${name}.txt');
});

t.test('a static import of a symlink leading out', async (t) => {
  const dir = t.testdir({ 'secret.txt': OUTSIDE });
  const manifest = writeInlinePlugin(dir, {
    name: 'plugin',
    source: `${SDK_IMPORT}\nimport notes from './notes.txt';\ndefinePlugin({ tools: { run: () => ({ got: notes }) } });\n`,
    tools: { run: {} },
  });
  symlinkSync('../secret.txt', path.join(dir, 'plugin', 'notes.txt'));
  t.match(await plainBundle(manifest), OUTSIDE, 'control: plain esbuild follows the symlink');
  await assertRefused(t, manifest, './notes.txt');
});

t.test('an imported FIFO ends with a typed error, not a hang', async (t) => {
  const dir = t.testdir({});
  const manifest = writeInlinePlugin(dir, {
    name: 'plugin',
    source: `${SDK_IMPORT}\nimport piped from './pipe.txt';\ndefinePlugin({ tools: { run: () => ({ got: piped }) } });\n`,
    tools: { run: {} },
  });
  const fifo = path.join(dir, 'plugin', 'pipe.txt');
  execFileSync('mkfifo', [fifo]);
  t.match(await plainBundleFeedingFifo(manifest, fifo, OUTSIDE), OUTSIDE, 'control: plain esbuild reads the FIFO and embeds what it is fed');
  await assertRefused(t, manifest, 'pipe.txt');
});

t.test('a glob-matched FIFO ends with a typed error, not a hang', async (t) => {
  const dir = t.testdir({});
  const manifest = attacker(dir, '(await import(`./files/${name}.txt`)).default');
  mkdirSync(path.join(dir, 'plugin', 'files'));
  const fifo = path.join(dir, 'plugin', 'files', 'secret.txt');
  execFileSync('mkfifo', [fifo]);
  t.match(await plainBundleFeedingFifo(manifest, fifo, OUTSIDE), OUTSIDE, 'control: plain esbuild reads the glob-matched FIFO');
  await assertRefused(t, manifest, './files/${name}.txt');
});

t.test('a FIFO named package.json, which esbuild reads on its own, ends with a typed error', async (t) => {
  const dir = t.testdir({});
  const manifest = writeInlinePlugin(dir, { name: 'plugin', source: `${SDK_IMPORT}\ndefinePlugin({ tools: { run: () => ({ got: 1 }) } });\n`, tools: { run: {} } });
  const fifo = path.join(dir, 'plugin', 'package.json');
  execFileSync('mkfifo', [fifo]);
  t.match(await plainBundleFeedingFifo(manifest, fifo, '{}'), /definePlugin|MANASVI/, 'control: plain esbuild opens the FIFO and waits for it');
  await assertRefused(t, manifest, 'package.json');
});

t.test('control: a plugin importing its own files and node_modules bundles and runs', async (t) => {
  const dir = t.testdir({});
  const manifest = writeInlinePlugin(dir, {
    name: 'own-files',
    source: [
      SDK_IMPORT,
      "import notes from './notes.txt';",
      "import data from './data.json';",
      "import tiny from 'tiny';",
      "import { helper } from './lib/helper.ts';",
      "const lazy = await import('./lib/helper.ts');",
      'definePlugin({ tools: { run: () => ({ got: [notes, data.key, tiny, helper, lazy.helper].join(" ") }) } });',
    ].join('\n'),
    tools: { run: {} },
  });
  const folder = path.dirname(manifest);
  writeFileSync(path.join(folder, 'notes.txt'), 'own-text');
  writeFileSync(path.join(folder, 'data.json'), JSON.stringify({ key: 'own-json' }));
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'own-files', type: 'module' }));
  mkdirSync(path.join(folder, 'lib'));
  writeFileSync(path.join(folder, 'lib', 'helper.ts'), "export const helper: string = 'own-helper';\n");
  mkdirSync(path.join(folder, 'node_modules', 'tiny'), { recursive: true });
  writeFileSync(path.join(folder, 'node_modules', 'tiny', 'package.json'), JSON.stringify({ name: 'tiny', main: 'index.js' }));
  writeFileSync(path.join(folder, 'node_modules', 'tiny', 'index.js'), "export default 'own-package';\n");
  const plugin = await runtime.load(manifest);
  t.same(await plugin.call('run', {}), { got: 'own-text own-json own-package own-helper own-helper' });
});
