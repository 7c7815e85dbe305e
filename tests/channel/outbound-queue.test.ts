import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import t from 'tap';
import { encodeFrame, FrameDecoder } from '../../plugin-sdk/protocol/frame.ts';
import type { HostToPluginMessage } from '../../plugin-sdk/protocol/messages.ts';
import { HostChannel } from '../../runtime/channel/host-channel.ts';
import type { Violation } from '../../runtime/channel/parse-inbound.ts';
import { GRANT_EVERYTHING } from './gate-authorities.ts';

const LIMIT = 4096;
const MAX_QUEUED = 4 * LIMIT;
const refusal = (n: number): HostToPluginMessage => ({
  type: 'reply',
  requestId: `r${n}`,
  ok: false,
  error: { code: 'capability_denied', message: 'secret NOT_MINE is not granted' },
});
const call = (n: number, bytes: number) =>
  encodeFrame({ type: 'call', id: `c${n}`, tool: 'echo', args: { blob: 'x'.repeat(bytes) }, timeoutMs: 1000 }, LIMIT);

/**
 * A HostChannel whose plugin stdin is an in-memory pipe nobody reads yet: a PassThrough
 * takes its readable high-water mark (16 KiB, the "OS pipe" here) and then holds writes back.
 */
function harness(maxQueuedBytes = MAX_QUEUED) {
  const pluginStdout = new PassThrough();
  const pluginStdin = new PassThrough();
  const violations: Violation[] = [];
  const channel = new HostChannel(pluginStdout, pluginStdin, { maxFrameBytes: LIMIT, maxQueuedBytes }, {
    state: () => 'ready',
    authority: GRANT_EVERYTHING,
    onMessage() {},
    onRefused() {},
    onViolation(violation) {
      violations.push(violation);
      channel.close();
    },
  });
  const received: Buffer[] = [];
  /** The plugin starts reading its stdin. */
  const read = () => pluginStdin.on('data', (chunk: Buffer) => received.push(chunk));
  /** Every message the plugin has read so far. */
  const messages = () =>
    new FrameDecoder(LIMIT).push(Buffer.concat(received)).map((p) => JSON.parse(new TextDecoder().decode(p)) as { type: string });
  return { channel, pluginStdin, violations, read, messages };
}

/** Sends `send(n)` in bursts of `burst` per event-loop turn until it returns false or `max` were sent. */
async function flood(send: (n: number) => boolean, max: number, burst = 50): Promise<number> {
  let sent = 0;
  while (sent < max) {
    for (let i = 0; i < burst && sent < max; i++) {
      if (!send(sent)) return sent;
      sent++;
    }
    await nextTurn();
  }
  return sent;
}

t.test('a backlog past maxQueuedBytes is a violation: the frame that would pass it is not queued', async (t) => {
  const h = harness();
  const sent = await flood((n) => h.channel.send(refusal(n)), 100_000);
  t.ok(sent < 100_000, `the channel refused more after ${sent} replies`);
  t.equal(h.violations.length, 1);
  const violation = h.violations[0]!;
  t.equal(violation.reason, 'outbound_queue_full');
  const facts = violation.facts!;
  t.equal(facts['maxQueuedBytes'], MAX_QUEUED);
  t.ok(facts['peakQueuedBytes']! <= MAX_QUEUED, `peak ${facts['peakQueuedBytes']} within the bound`);
  t.ok(facts['queuedBytes']! + facts['frameBytes']! > MAX_QUEUED, 'the refused frame would have passed the bound');
  t.equal(h.channel.send({ type: 'ping', seq: 1 }), false, 'nothing is sent after the violation');
  h.read();
  await once(h.pluginStdin, 'end');
  t.equal(h.messages().length, sent, 'exactly what was accepted reached the plugin');
});

t.test('call frames have their own allowance: a burst of large calls to a plugin not reading trips nothing', async (t) => {
  const h = harness();
  for (let n = 0; n < 16; n++) t.equal(h.channel.sendCall(call(n, LIMIT - 200)), true);
  await nextTurn();
  t.ok(h.pluginStdin.writableLength > MAX_QUEUED, `${h.pluginStdin.writableLength} bytes of calls wait, more than the bound`);
  t.equal(h.channel.send({ type: 'ping', seq: 1 }), true, 'a ping still fits behind them');
  t.same(h.violations, []);
  h.read();
  h.channel.close();
  await once(h.pluginStdin, 'end');
  t.same(h.messages().map((m) => m.type), [...Array.from({ length: 16 }, () => 'call'), 'ping']);
});

t.test('a backlog behind unread calls still counts against the bound', async (t) => {
  const h = harness();
  for (let n = 0; n < 16; n++) h.channel.sendCall(call(n, LIMIT - 200));
  await nextTurn();
  const sent = await flood((n) => h.channel.send(refusal(n)), 100_000);
  t.match(h.violations, [{ reason: 'outbound_queue_full' }]);
  const facts = h.violations[0]!.facts!;
  t.ok(facts['peakQueuedBytes']! <= MAX_QUEUED);
  t.ok(sent * 100 < MAX_QUEUED && sent * 150 > MAX_QUEUED / 2, `${sent} replies of ~120 bytes: the bound, not the calls, decided`);
});

t.test('offer withholds frames once the plugin is half its bound behind, and charges them against the bound', async (t) => {
  const h = harness();
  const sent = await flood((n) => h.channel.offer(refusal(n)), 100_000);
  t.match(h.violations, [{ reason: 'outbound_queue_full' }]);
  const facts = h.violations[0]!.facts!;
  t.ok(h.channel.framesWithheld > 0, `${h.channel.framesWithheld} withheld`);
  t.ok(facts['withheldBytes']! > 0, 'what was withheld was charged');
  t.ok(facts['peakQueuedBytes']! <= MAX_QUEUED / 2 + LIMIT, `the host held at most about half the bound (${facts['peakQueuedBytes']})`);
  h.read();
  await once(h.pluginStdin, 'end');
  t.equal(h.messages().length, sent - h.channel.framesWithheld, 'withheld frames were never queued');
});

t.test('a plugin that reads gets every offered frame', async (t) => {
  const h = harness();
  h.read();
  const sent = await flood((n) => h.channel.offer(refusal(n)), 20_000, 20);
  t.equal(sent, 20_000);
  t.equal(h.channel.framesWithheld, 0);
  t.same(h.violations, []);
  h.channel.close();
  await once(h.pluginStdin, 'end');
  t.equal(h.messages().length, 20_000);
});

t.test('the charge is forgiven once the plugin has read everything it was sent', async (t) => {
  const h = harness();
  let n = 0;
  while (h.channel.framesWithheld === 0) h.channel.offer(refusal(n++));
  await nextTurn();
  h.read();
  while (h.pluginStdin.writableLength > 0) await nextTurn();
  const withheld = h.channel.framesWithheld;
  for (let i = 0; i < 50; i++) h.channel.offer(refusal(n++));
  t.equal(h.channel.framesWithheld, withheld, 'nothing more was withheld');
  t.same(h.violations, []);
  h.channel.close();
  await once(h.pluginStdin, 'end');
  t.equal(h.messages().length, n - withheld);
});
