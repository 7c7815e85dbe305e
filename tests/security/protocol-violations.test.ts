import t from 'tap';
import { ECHO_MANIFEST, fixturePath } from '../helpers/fixtures.ts';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection } from '../helpers/wait-for.ts';

// Each case kills the tool's process on purpose, many times in a row: restart quickly and
// never park it, so every case starts from a fresh process.
const host = testRuntime(t, {
  configure: (config) => {
    config.restart = { ...config.restart, initialBackoffMs: 10, maxBackoffMs: 50, maxRestarts: 1000 };
  },
});
const breaker = await host.runtime.load(fixturePath('protocol', 'manifest.json'));
const echo = await host.runtime.load(ECHO_MANIFEST);

// [fault the plugin writes after a good handshake, the violation the host must name]
const CASES: Array<[kind: string, reason: string, what: string]> = [
  ['oversize_header', 'frame_too_large', 'a header announcing a frame over the limit'],
  ['empty_frame', 'empty_frame', 'a frame of length 0'],
  ['raw_text', 'frame_too_large', 'plain text on stdout (its first bytes read as a huge length)'],
  ['not_json', 'not_json', 'a frame whose payload is not JSON'],
  ['not_object', 'not_object', 'a frame holding a JSON array'],
  ['unknown_type', 'unknown_type', 'a message type not in the catalogue'],
  ['host_only_type', 'unknown_type', 'a host→plugin type sent by the plugin'],
  ['second_hello', 'wrong_state', 'a second hello once ready'],
  ['register_again', 'wrong_state', 'a second tools.register once ready'],
  ['unprompted_ack', 'wrong_state', 'a shutdown.ack nobody asked for'],
  ['schema_mismatch', 'schema_mismatch', 'a result whose ok is a string'],
  ['extra_field', 'schema_mismatch', 'a result with a key the schema does not know'],
  ['unknown_result_id', 'unknown_call_id', 'a result for an id not in flight'],
  ['truncated', 'stream_ended_mid_frame', 'a half-sent frame, then exit'],
  ['progress_falls', 'bad_progress', 'a progress frame whose done falls'],
  ['progress_over_total', 'bad_progress', 'a progress frame whose done is over its total'],
  ['progress_negative', 'schema_mismatch', 'a progress frame with a negative done'],
  ['progress_unknown_id', 'unknown_call_id', 'progress for a call not in flight'],
];

for (const [kind, reason, what] of CASES) {
  t.test(`${what}: protocol_violation fails every in-flight call, the process is gone, the host carries on`, async (t) => {
    const waiting = rejection(breaker.call('misbehave', { kind: 'wait', tag: kind }, { timeoutMs: 120_000 }));
    const { launchId } = await host.waitForLog(`waiting ${kind}`);
    const launch = host.audit.launch(launchId);

    const error = await rejection(breaker.call('misbehave', { kind }));
    t.match(error, { code: 'protocol_violation', details: { reason } }, `the faulting call fails with protocol_violation (${reason})`);
    t.match(await waiting, { code: 'protocol_violation' }, 'the concurrent in-flight call on that process fails too');
    t.ok(host.audit.find({ type: 'protocol_violation', launchId, reason }), 'a protocol_violation record names the fault');
    // A process that left by itself has nothing left to kill.
    if (kind !== 'truncated') t.ok(host.audit.find({ type: 'kill', launchId }), 'a kill was recorded');
    await waitForProcessGone(launch.pid);
    t.notOk(processExists(launch.pid), 'the process is gone');

    t.same(await echo.call('echo', { text: kind }), { text: kind }, 'another plugin still answers');
    await breaker.call('misbehave', { kind: 'none' });
    const [fresh] = breaker.pids('misbehave');
    t.not(fresh, launch.pid, 'the next call to the tool runs in a fresh process');
    t.ok(fresh !== undefined && processExists(fresh), 'and that process is alive');
  });
}

t.test('a tools.register naming a tool the process was not launched for is a violation', async (t) => {
  const plugin = await host.runtime.load(fixturePath('handshake', 'manifest-wrong-tools.json'));
  const [first, second] = await Promise.all([
    rejection(plugin.call('claims-other', {})),
    rejection(plugin.call('claims-other', {})),
  ]);
  t.match(first, { code: 'protocol_violation', details: { reason: 'unexpected_tools' } }, 'the call fails with protocol_violation');
  t.match(second, { code: 'protocol_violation' }, 'so does a second call waiting on the same process');
  const { launchId } = host.audit.last({ type: 'launch', plugin: 'hs-wrong-tools' })!;
  const launch = host.audit.launch(launchId!);
  t.ok(host.audit.find({ type: 'protocol_violation', launchId, reason: 'unexpected_tools' }), 'a protocol_violation record names it');
  t.ok(host.audit.find({ type: 'kill', launchId }), 'a kill was recorded');
  t.notOk(host.audit.find({ type: 'launch', plugin: 'hs-wrong-tools', tool: 'other' }), 'no process was ever started for the other tool');
  await waitForProcessGone(launch.pid);
  t.same(await echo.call('echo', { text: 'still here' }), { text: 'still here' }, 'another plugin still answers');
});
