import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { encodeFrame, FrameDecoder } from '../../plugin-sdk/protocol/frame.ts';
import { dispatchByType } from '../../runtime/channel/channel-gate.ts';
import { HostChannel } from '../../runtime/channel/host-channel.ts';
import type { Violation } from '../../runtime/channel/parse-inbound.ts';
import type { PluginRuntimeError } from '../../runtime/errors.ts';
import { CallLedger } from '../../runtime/supervisor/call-ledger.ts';
import { GRANT_EVERYTHING } from '../channel/gate-authorities.ts';
import { fakeTimers } from './fake-timers.ts';

const LIMIT = 4096;
const GRACE_MS = 200;
const ignore = () => {};

/**
 * A CallLedger sending over a HostChannel on in-memory pipes: the test plays the plugin,
 * reading the frames the host wrote and writing results back, on a clock it moves.
 */
function harness() {
  const pluginStdout = new PassThrough();
  const pluginStdin = new PassThrough();
  const timers = fakeTimers();
  const events: string[] = [];
  const violations: Violation[] = [];
  const kills: PluginRuntimeError[] = [];
  const received: { type: string; id: string; reason?: string }[] = [];
  const decoder = new FrameDecoder(LIMIT);
  pluginStdin.on('data', (chunk: Buffer) => {
    for (const payload of decoder.push(chunk)) received.push(JSON.parse(new TextDecoder().decode(payload)));
  });
  const ledger: CallLedger = new CallLedger({
    tool: 'echo',
    maxFrameBytes: LIMIT,
    cancelGraceMs: GRACE_MS,
    progressPerSecond: 5,
    sendCall: (frame) => channel.sendCall(frame),
    send: (message) => channel.send(message),
    onBusy: () => events.push('busy'),
    onSettled: () => events.push('settled'),
    onIdle: () => events.push('idle'),
    onIgnoredCancel: (error) => kills.push(error),
    onViolation: (violation) => violations.push(violation),
    timers,
  });
  const channel = new HostChannel(pluginStdout, pluginStdin, { maxFrameBytes: LIMIT, maxQueuedBytes: 4 * LIMIT }, {
    state: () => 'ready',
    authority: GRANT_EVERYTHING,
    ...dispatchByType(
      { hello: ignore, 'tools.register': ignore, result: (message) => ledger.settle(message), 'secret.get': ignore, pong: ignore, 'shutdown.ack': ignore, progress: (message) => ledger.progress(message) },
      { 'tools.register': ignore, 'secret.get': ignore },
    ),
    onViolation: (violation) => violations.push(violation),
  });
  /** Lets the host's writes reach the plugin and the plugin's reach the host. */
  const flush = () => nextTurn();
  const reply = async (message: unknown) => {
    pluginStdout.write(Buffer.from(encodeFrame(message, LIMIT)));
    await flush();
  };
  const calls = () => received.filter((m) => m.type === 'call');
  return { ledger, timers, events, violations, kills, received, calls, reply, flush, pluginStdout };
}

t.test('CallLedger pairs each result with its call, in any order, busy then idle', async (t) => {
  const h = harness();
  const first = h.ledger.add('echo', { n: 1 }, { timeoutMs: 1000 });
  const firstFails = t.rejects(first, { code: 'tool_failed', details: { pluginCode: 'bad' } });
  const second = h.ledger.add('echo', { n: 2 }, { timeoutMs: 1000 });
  await h.flush();
  const [a, b] = h.calls();
  t.equal(h.ledger.size, 2);
  t.ok(h.ledger.has(a!.id));
  await h.reply({ type: 'result', id: b!.id, ok: true, value: 'two' });
  await h.reply({ type: 'result', id: a!.id, ok: false, error: { code: 'bad', message: 'no\u0007pe' } });
  t.equal(await second, 'two');
  await firstFails;
  t.same(h.events, ['busy', 'settled', 'settled', 'idle']);
  t.equal(h.ledger.size, 0);
  t.same(h.violations, []);
});

t.test('CallLedger cancels a call at its deadline, then asks for a kill after the cancel grace', async (t) => {
  const h = harness();
  const call = h.ledger.add('echo', {}, { timeoutMs: 1000 });
  await h.flush();
  h.timers.advance(1000);
  await t.rejects(call, { code: 'timeout' });
  await h.flush();
  t.match(h.received.at(-1), { type: 'cancel', id: h.calls()[0]!.id, reason: 'timeout' });
  t.same(h.events, ['busy', 'settled', 'idle']);
  h.timers.advance(GRACE_MS - 1);
  t.same(h.kills, []);
  h.timers.advance(1);
  t.match(h.kills, [{ code: 'plugin_crashed' }]);
});

t.test('CallLedger drops a late result for a cancelled call and keeps the process', async (t) => {
  const h = harness();
  const controller = new AbortController();
  const call = h.ledger.add('echo', {}, { timeoutMs: 1000, signal: controller.signal });
  await h.flush();
  controller.abort();
  await t.rejects(call, { code: 'cancelled' });
  await h.flush();
  t.match(h.received.at(-1), { type: 'cancel', reason: 'cancelled' });
  await h.reply({ type: 'result', id: h.calls()[0]!.id, ok: true, value: 'late' });
  h.timers.advance(GRACE_MS * 2);
  t.same(h.kills, [], 'the late result disarmed the kill');
  t.same(h.violations, []);
  await h.reply({ type: 'result', id: h.calls()[0]!.id, ok: true, value: 'again' });
  t.match(h.violations, [{ reason: 'unknown_call_id' }], 'a second late result is not in flight');
});

t.test('CallLedger reports a result for an id it never sent as a violation', async (t) => {
  const h = harness();
  await h.reply({ type: 'result', id: '01HXXXXXXXXXXXXXXXXXXXXXXX', ok: true, value: 1 });
  t.match(h.violations, [{ reason: 'unknown_call_id', type: 'result' }]);
});

t.test('CallLedger refuses an aborted signal and arguments too large for a frame, sending nothing', async (t) => {
  const h = harness();
  await t.rejects(h.ledger.add('echo', {}, { timeoutMs: 1000, signal: AbortSignal.abort() }), { code: 'cancelled' });
  await t.rejects(h.ledger.add('echo', { big: 'x'.repeat(LIMIT) }, { timeoutMs: 1000 }), { code: 'invalid_arguments' });
  await h.flush();
  t.same(h.received, []);
  t.same(h.events, []);
});

t.test('CallLedger.failAll ends every call with the given error; forgetCancelled disarms kills', async (t) => {
  const h = harness();
  const calls = [h.ledger.add('echo', {}, { timeoutMs: 1000 }), h.ledger.add('echo', {}, { timeoutMs: 5000 })];
  const outcomes = [t.rejects(calls[0]!, { code: 'timeout' }), t.rejects(calls[1]!, { code: 'shutting_down' })];
  await h.flush();
  h.timers.advance(1000);
  h.ledger.failAll({ code: 'shutting_down' } as PluginRuntimeError);
  await Promise.all(outcomes);
  t.equal(h.ledger.size, 0);
  h.ledger.forgetCancelled();
  h.timers.advance(GRACE_MS * 10);
  t.same(h.kills, []);
  t.equal(h.timers.pending(), 0, 'no deadline or kill timer left armed');
  h.pluginStdout.end();
  await once(h.pluginStdout, 'end');
});

t.test('CallLedger forwards rising progress of a call in flight, in order, its message made printable', async (t) => {
  const h = harness();
  const seen: unknown[] = [];
  const call = h.ledger.add('echo', {}, { timeoutMs: 1000, onProgress: (progress) => seen.push(progress) });
  await h.flush();
  const id = h.calls()[0]!.id;
  await h.reply({ type: 'progress', id, done: 0, total: 3 });
  await h.reply({ type: 'progress', id, done: 1.5, message: 'half\u001b[2Jway' });
  await h.reply({ type: 'progress', id, done: 3, total: 3 });
  await h.reply({ type: 'result', id, ok: true, value: 'done' });
  t.equal(await call, 'done');
  t.same(seen, [{ done: 0, total: 3 }, { done: 1.5, message: 'half\\u001b[2Jway' }, { done: 3, total: 3 }]);
  t.same(h.violations, []);
});

t.test('CallLedger: progress that does not rise, exceeds its total or names no call in flight is a violation', async (t) => {
  const h = harness();
  const controller = new AbortController();
  const first = h.ledger.add('echo', {}, { timeoutMs: 1000 });
  const second = h.ledger.add('echo', {}, { timeoutMs: 1000 });
  const cancelled = h.ledger.add('echo', {}, { timeoutMs: 1000, signal: controller.signal });
  for (const call of [first, second, cancelled]) call.catch(() => {});
  await h.flush();
  const [a, b, c] = h.calls().map((call) => call.id);
  await h.reply({ type: 'progress', id: a, done: 2 });
  await h.reply({ type: 'progress', id: a, done: 2 });
  await h.reply({ type: 'progress', id: b, done: 5, total: 4 });
  await h.reply({ type: 'progress', id: '01HXXXXXXXXXXXXXXXXXXXXXXX', done: 1 });
  controller.abort();
  await h.reply({ type: 'progress', id: c, done: 1 });
  t.match(h.violations, [
    { reason: 'bad_progress', type: 'progress', detail: /done 2 after 2/ },
    { reason: 'bad_progress', type: 'progress', detail: /done 5 over total 4/ },
    { reason: 'unknown_call_id', type: 'progress' },
  ], 'progress for the call the host cancelled is dropped, not a violation');
});

t.test('CallLedger forwards at most progressPerSecond reports a second per call, counting the rest', async (t) => {
  const h = harness();
  const seen: number[] = [];
  const call = h.ledger.add('echo', {}, { timeoutMs: 10_000, onProgress: ({ done }) => seen.push(done) });
  await h.flush();
  const id = h.calls()[0]!.id;
  for (let done = 1; done <= 8; done++) await h.reply({ type: 'progress', id, done });
  t.same(seen, [1, 2, 3, 4, 5], 'a burst gets the rate (5 a second) at once');
  t.equal(h.ledger.progressDropped, 3);
  h.timers.advance(400);
  for (let done = 9; done <= 12; done++) await h.reply({ type: 'progress', id, done });
  t.same(seen, [1, 2, 3, 4, 5, 9, 10], 'then one per 200 ms');
  t.equal(h.ledger.progressDropped, 5);
  t.same(h.violations, [], 'dropping is not a violation');
  await h.reply({ type: 'result', id, ok: true, value: null });
  await call;
});

t.test('CallLedger keeps going when a progress listener throws', async (t) => {
  const h = harness();
  const call = h.ledger.add('echo', {}, { timeoutMs: 1000, onProgress: () => { throw new Error('listener bug'); } });
  await h.flush();
  const id = h.calls()[0]!.id;
  await h.reply({ type: 'progress', id, done: 1 });
  await h.reply({ type: 'result', id, ok: true, value: 'fine' });
  t.equal(await call, 'fine');
});
