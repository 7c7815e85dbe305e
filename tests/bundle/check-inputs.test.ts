import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import t, { type Test } from 'tap';
import { checkInputs } from '../../runtime/bundle/check-inputs.ts';
import { isPluginRuntimeError } from '../../runtime/errors.ts';

const SDK_DIR = realpathSync(fileURLToPath(new URL('../../plugin-sdk/', import.meta.url)));

/** The metafile plain esbuild (no confinement) writes for `plugin/a.js` in a fresh test dir. */
async function plainMetafile(t: Test, tree: Record<string, unknown>, source: string) {
  const dir = realpathSync(t.testdir({ ...tree, plugin: { ...(tree['plugin'] as object), 'a.js': source } } as never));
  const pluginDir = path.join(dir, 'plugin');
  const result = await esbuild.build({
    entryPoints: [path.join(pluginDir, 'a.js')],
    absWorkingDir: pluginDir,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    loader: { '.txt': 'text' },
    logLevel: 'silent',
  });
  return { metafile: result.metafile, roots: { pluginDir, sdkDir: SDK_DIR, sdkEntry: path.join(SDK_DIR, 'mod.ts') }, text: result.outputFiles[0]!.text };
}

function refusal(run: () => void): Record<string, unknown> {
  try {
    run();
  } catch (error) {
    if (isPluginRuntimeError(error, 'import_refused')) return error.details ?? {};
    throw error;
  }
  throw new Error('not refused');
}

t.test('checkInputs refuses a glob import esbuild expanded, naming it and its file', async (t) => {
  const { metafile, roots, text } = await plainMetafile(t, { 'secret.txt': 'beside-bytes' }, 'export const s = import(`../${globalThis.n}.txt`);\n');
  t.match(text, 'beside-bytes', 'control: the plain build embedded the file beside the folder');
  t.match(refusal(() => checkInputs(metafile, roots, 'entry')), { specifier: '../**/*.txt', importer: path.join(roots.pluginDir, 'a.js') });
});

t.test('checkInputs refuses a glob that matched nothing', async (t) => {
  const { metafile, roots } = await plainMetafile(t, { plugin: { none: {} } }, 'export const s = import(`./none/${globalThis.n}.txt`);\n');
  t.match(refusal(() => checkInputs(metafile, roots, 'entry')), { specifier: './none/**/*.txt' });
});

t.test('checkInputs refuses an input read outside the plugin folder', async (t) => {
  const { metafile, roots } = await plainMetafile(t, { 'out.js': 'export default 1;\n' }, "export { default } from '../out.js';\n");
  t.match(refusal(() => checkInputs(metafile, roots, 'entry')), { specifier: '../out.js' });
});

t.test('checkInputs accepts inputs inside the folder', async (t) => {
  const { metafile, roots } = await plainMetafile(t, { plugin: { 'b.js': 'export default 1;\n' } }, "export { default } from './b.js';\n");
  t.doesNotThrow(() => checkInputs(metafile, roots, 'entry'));
});
