import { mkdirSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { PluginHandle } from '../../runtime/index.ts';
import type { LaunchRecord } from '../helpers/audit-log.ts';
import { fixturePath, stageFixture } from '../helpers/fixtures.ts';
import { denoPidOf, pidInsideOf, processArgv, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { type TestRuntime, testRuntime } from '../helpers/test-runtime.ts';
import { rejection } from '../helpers/wait-for.ts';

// Every failure here is produced by a real Deno process that writes raw frames itself
// (tests/fixtures/plugins/handshake), not by the SDK.
const host = testRuntime(t);

/**
 * Calls the plugin's one tool and checks the launch ended the way a failed handshake must:
 * the call fails with `handshake_failed` and the reason, the audit trail names it, the
 * process was killed (unless it left by itself) and is gone.
 */
async function expectHandshakeFailure(
  t: Test,
  rt: TestRuntime,
  plugin: PluginHandle,
  reason: string,
  { killed = true } = {},
): Promise<LaunchRecord> {
  const tool = plugin.tools[0]!.name;
  const error = await rejection(plugin.call(tool, {}));
  t.match(error, { code: 'handshake_failed', details: { reason } }, `the call fails with handshake_failed (${reason})`);
  const launched = rt.audit.last({ type: 'launch', plugin: plugin.name, tool });
  t.ok(launched, 'the launch was recorded');
  const launch = rt.audit.launch(launched!.launchId!);
  t.ok(rt.audit.find({ type: 'handshake_failed', launchId: launch.launchId, reason }), `a handshake_failed record names ${reason}`);
  t.notOk(rt.audit.find({ type: 'handshake_ok', launchId: launch.launchId }), 'no handshake_ok was recorded');
  if (killed) t.ok(rt.audit.find({ type: 'kill', launchId: launch.launchId }), 'a kill was recorded');
  t.equal(typeof launch.pid, 'number', 'the launch record carries the pid');
  await waitForProcessGone(launch.pid);
  t.notOk(processExists(launch.pid), 'the process is gone');
  return launch;
}

t.test('a correct handshake written by hand succeeds, and the token is never in argv', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-good.json'));
  const value = (await plugin.call('whoami', {})) as { token: string; pid: number };
  t.match(value.token, /^[A-Za-z0-9_-]{40,}$/, 'the plugin presented a 32-byte base64url token');
  const launch = host.audit.launch(host.audit.last({ type: 'launch', plugin: 'hs-good' })!.launchId!);
  t.ok(host.audit.find({ type: 'handshake_ok', launchId: launch.launchId }), 'handshake_ok was recorded');
  t.equal(pidInsideOf(await denoPidOf(launch.pid)), value.pid, 'the audited pid is the plugin process (or, in the sandbox, the launcher running it)');
  t.same(launch.argv, plugin.tools[0]!.argv, 'the launch record holds the exact argv');
  t.notOk(launch.argv.some((arg) => arg.includes(value.token)), 'the token is not in the recorded argv');
  t.notOk(processArgv(launch.pid).some((arg) => arg.includes(value.token)), 'the token is not in the live process argv');
  t.notOk(JSON.stringify(host.audit.records).includes(value.token), 'no audit record holds the token');
});

t.test('a forged token fails with bad_token and the process is killed', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-bad-token.json'));
  await expectHandshakeFailure(t, host, plugin, 'bad_token');
});

t.test('a valid result frame before hello fails with frame_before_hello', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-early-result.json'));
  await expectHandshakeFailure(t, host, plugin, 'frame_before_hello');
});

t.test('a valid pong frame before hello fails with frame_before_hello', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-early-pong.json'));
  await expectHandshakeFailure(t, host, plugin, 'frame_before_hello');
});

t.test('plain text on stdout before hello fails with garbage', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-garbage.json'));
  await expectHandshakeFailure(t, host, plugin, 'garbage');
});

t.test('a hello for another protocol version fails with protocol_mismatch', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-protocol-mismatch.json'));
  await expectHandshakeFailure(t, host, plugin, 'protocol_mismatch');
});

t.test('a process that exits before hello fails with exited, its stderr kept', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-exits.json'));
  const error = await rejection(plugin.call('probe', {}));
  t.match(error.details, { reason: 'exited', stderr: [/leaving before hello/] }, 'the error carries the stderr tail');
  await expectHandshakeFailure(t, host, plugin, 'exited', { killed: false });
});

t.test('a token burned by an earlier launch is refused as a replay', async (t) => {
  const dir = stageFixture('handshake', t.testdir());
  const tokenFile = path.join(dir, 'loot', 'token');
  mkdirSync(path.dirname(tokenFile));
  stageFixture('handshake', dir, { 'loot-path.json': { tokenFile } });
  const leak = await host.runtime.load(path.join(dir, 'manifest-leak.json'), { allowDeclared: true });
  const replay = await host.runtime.load(path.join(dir, 'manifest-replay.json'), { allowDeclared: true });

  const leaked = (await leak.call('leak', { file: tokenFile })) as { leaked: number };
  t.ok(leaked.leaked > 0, 'process A wrote its launch token to a file');
  const leakLaunch = host.audit.last({ type: 'launch', plugin: 'token-leak' })!;
  t.ok(host.audit.find({ type: 'handshake_ok', launchId: leakLaunch.launchId }), 'process A used that token itself first');

  await expectHandshakeFailure(t, host, replay, 'replay');
});

t.test('a process that never says hello fails with timeout at the deadline', async (t) => {
  // Its own runtime: only here is the deadline short, so no good handshake races it.
  const quick = testRuntime(t, { handshakeTimeoutMs: 1000 });
  const plugin = await quick.runtime.load(fixturePath('handshake', 'manifest-silent.json'));
  await expectHandshakeFailure(t, quick, plugin, 'timeout');
});

t.test('after every failed handshake the host still serves a good plugin', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-good.json'));
  await plugin.call('whoami', {});
  t.ok(plugin.pids('whoami').every(processExists) && plugin.pids('whoami').length === 1, 'the good plugin answers from a live process');
});
