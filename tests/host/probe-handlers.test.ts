import path from 'node:path';
import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { fixturePath, stage } from '../helpers/fixtures.ts';
import { startLoopbackServer } from '../helpers/loopback-server.ts';
import { processExists } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

const manifest = (name: string) => fixturePath('handler-probe', `manifest-${name}.json`);

async function issuesOf(promise: Promise<void>): Promise<{ path: string; message: string }[]> {
  try {
    await promise;
  } catch (error) {
    if (isPluginRuntimeError(error, 'manifest_invalid')) return [...(error.details?.issues ?? [])];
    throw error;
  }
  return [];
}

t.test('a declared tool without a handler is an issue on tools.<name>', async (t) => {
  const rt = testRuntime(t);
  const issues = await issuesOf(rt.runtime.checkHandlers(manifest('missing')));
  t.match(issues, [{ path: 'tools.beta', message: /declared in the manifest but the entry .*missing\.ts registers no handler for it/ }]);
  t.equal(issues.length, 1);
});

t.test('a handler the manifest does not declare is an issue on entry', async (t) => {
  const rt = testRuntime(t);
  const issues = await issuesOf(rt.runtime.checkHandlers(manifest('undeclared')));
  t.match(issues, [{ path: 'entry', message: /undeclared\.ts registers a handler for `gamma`, which the manifest does not declare/ }]);
  t.equal(issues.length, 1);
});

t.test('a top level that throws is an entry issue, with its stderr', async (t) => {
  const rt = testRuntime(t);
  const issues = await issuesOf(rt.runtime.checkHandlers(manifest('throws')));
  t.match(issues, [{ path: 'entry', message: /ended the process before definePlugin served.*top level refuses to start/ }]);
});

t.test('a top level that hangs is stopped at the handshake deadline, and its process is gone', async (t) => {
  const rt = testRuntime(t, { handshakeTimeoutMs: 1500 });
  const issues = await issuesOf(rt.runtime.checkHandlers(manifest('hangs')));
  t.match(issues, [{ path: 'entry', message: /did not reach definePlugin before the handshake deadline/ }]);
  const launch = rt.audit.find({ type: 'launch' }) as { pid?: number } | undefined;
  t.ok(launch?.pid, 'the probe was launched');
  t.notOk(processExists(launch!.pid!), 'the probe process is gone');
});

t.test('while probing, the top level can read no file, reach no server and read no environment', async (t) => {
  const server = await startLoopbackServer(t);
  const dir = t.testdir({ 'secret.txt': 'do not read me' });
  const secretFile = path.join(dir, 'secret.txt');
  const staged = stage(fixturePath('handler-probe'), path.join(dir, 'plugin'), {
    files: { 'target.ts': `export const target = { file: ${JSON.stringify(secretFile)}, url: ${JSON.stringify(server.url)} };\n` },
  });
  const rt = testRuntime(t);
  // Resolves only if every attempt was denied: one that succeeds throws at the top level.
  t.same(await issuesOf(rt.runtime.checkHandlers(path.join(staged.dir, 'manifest-snoops.json'))), []);
  t.same(server.requests, [], 'the server got no request');
  const launch = rt.audit.find({ type: 'launch' }) as { argv: string[] };
  t.ok(launch.argv.includes('--deny-read') && launch.argv.includes('--deny-net') && launch.argv.includes('--deny-write'), 'launched with nothing granted');
});

t.test('at call time, a tool the entry has no handler for fails with protocol_violation pointing to validate', async (t) => {
  const rt = testRuntime(t);
  const plugin = await rt.runtime.load(manifest('missing'), { allowDeclared: true });
  await t.rejects(plugin.call('beta', {}), {
    code: 'protocol_violation',
    message: /the entry registers no handler for tool beta .*validate/,
  });
});
