import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ECHO_MANIFEST } from '../helpers/fixtures.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection } from '../helpers/wait-for.ts';

// A deadline short enough to wait out, long enough that a plain plugin bundles well within it
// on a busy two-core machine (the controls below prove that it does).
const LOAD_TIMEOUT_MS = 8_000;

/**
 * A plugin in a folder whose parent holds a FIFO named package.json: esbuild reads the
 * package.json files of every folder above a module on its own, before any hook of ours
 * sees a file, and blocks on the FIFO for ever. The plugin folder itself is clean, so no
 * check of the plugin's own files can catch it: only the deadline can. With `fifo: false`
 * the parent holds nothing: the positive control.
 */
function pluginUnderParent(dir: string, name: string, fifo: boolean): string {
  const parent = path.join(dir, `${name}-parent`);
  mkdirSync(parent, { recursive: true });
  if (fifo) execFileSync('mkfifo', [path.join(parent, 'package.json')]);
  return writeInlinePlugin(parent, {
    name,
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { ask: () => ({ answer: 42 }) } });\n`,
    tools: { ask: {} },
  });
}

const configure = (config: { load: { timeoutMs: number } }) => {
  config.load.timeoutMs = LOAD_TIMEOUT_MS;
};

t.test('a load that blocks in the bundler ends with load_timeout, and the runtime goes on', async (t) => {
  const dir = t.testdir();
  const host = testRuntime(t, { configure });
  const control = await host.runtime.load(pluginUnderParent(dir, 'plain-parent', false));
  t.same(await control.call('ask', {}), { answer: 42 }, 'control: the same plugin under a plain parent folder loads and runs');

  const error = await rejection(host.runtime.load(pluginUnderParent(dir, 'fifo-parent', true)));
  t.equal(error.code, 'load_timeout', 'the load ended with a typed error instead of hanging');
  t.equal(error.details?.['timeoutMs'], LOAD_TIMEOUT_MS, 'the error names the deadline');
  t.notOk(host.audit.find({ type: 'launch', plugin: 'fifo-parent' }), 'nothing of the blocked plugin started');

  const echo = await host.runtime.load(ECHO_MANIFEST);
  t.same(await echo.call('echo', { text: 'after' }), { text: 'after' }, 'later loads and calls still work');
});

t.test('close() ends every load in flight with runtime_closed, and nothing starts', async (t) => {
  const dir = t.testdir();
  const host = testRuntime(t, { configure });
  const blocked = rejection(host.runtime.load(pluginUnderParent(dir, 'never-bundles', true)));
  const bundling = rejection(host.runtime.load(ECHO_MANIFEST));
  const inspecting = rejection(host.runtime.inspect(ECHO_MANIFEST));
  await host.runtime.close();

  t.equal((await blocked).code, 'runtime_closed', 'a load blocked in the bundler ends at close, not at its deadline');
  t.equal((await bundling).code, 'runtime_closed', 'a load still bundling ends with runtime_closed');
  t.equal((await inspecting).code, 'runtime_closed', 'so does an inspect');

  // Let the echo preparation that was under way finish in the background, as it would have.
  const other = testRuntime(t, { configure });
  await other.runtime.inspect(ECHO_MANIFEST);
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.same(host.audit.all({ type: 'launch' }), [], 'no process was ever launched by the closed runtime');
  t.same(host.audit.all({ type: 'state' }), [], 'no tool pool was ever created');
});

t.test('control: without close, the same concurrent loads resolve to working handles', async (t) => {
  const host = testRuntime(t, { configure });
  const [echo, inspected] = await Promise.all([host.runtime.load(ECHO_MANIFEST), host.runtime.inspect(ECHO_MANIFEST)]);
  t.equal(inspected.tools[0]?.name, 'echo', 'inspect resolved');
  t.same(await echo.call('echo', { text: 'hi' }), { text: 'hi' }, 'the handle works');
});
