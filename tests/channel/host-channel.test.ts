import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from '../../plugin-sdk/protocol/frame.ts';
import type { PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import { HostChannel } from '../../runtime/channel/host-channel.ts';
import type { ChannelState } from '../../runtime/channel/message-catalogue.ts';
import type { Violation } from '../../runtime/channel/parse-inbound.ts';
import { GRANT_EVERYTHING } from './gate-authorities.ts';

const LIMIT = 4096;
const frame = (message: unknown) => Buffer.from(encodeFrame(message, LIMIT));
const pong = (seq: number) => ({ type: 'pong', seq });

/** A HostChannel over in-memory pipes, recording what it delivers and reports. */
function harness(state: ChannelState, onMessage?: (message: PluginToHostMessage, channel: HostChannel, setState: (state: ChannelState) => void) => void) {
  let current = state;
  const pluginStdout = new PassThrough();
  const pluginStdin = new PassThrough();
  const messages: PluginToHostMessage[] = [];
  const violations: { violation: Violation; beforeFirstMessage: boolean }[] = [];
  const channel: HostChannel = new HostChannel(pluginStdout, pluginStdin, { maxFrameBytes: LIMIT, maxQueuedBytes: 4 * LIMIT }, {
    state: () => current,
    authority: GRANT_EVERYTHING,
    onMessage(message) {
      messages.push(message);
      onMessage?.(message, channel, (next) => (current = next));
    },
    onRefused() {},
    onViolation(violation, beforeFirstMessage) {
      violations.push({ violation, beforeFirstMessage });
    },
  });
  /** Ends the plugin's stdout and waits until every byte written before has been read. */
  const drain = async () => {
    pluginStdout.end();
    await once(pluginStdout, 'end');
  };
  return { channel, pluginStdout, pluginStdin, messages, violations, drain };
}

t.test('HostChannel delivers every message coalesced in one chunk, in order', async (t) => {
  const h = harness('ready');
  h.pluginStdout.write(Buffer.concat([1, 2, 3, 4, 5].map((seq) => frame(pong(seq)))));
  await h.drain();
  t.same(h.messages, [1, 2, 3, 4, 5].map(pong));
  t.same(h.violations, []);
});

t.test('HostChannel checks each coalesced message against the state its predecessor left', async (t) => {
  const h = harness('handshaking', (message, _channel, setState) => {
    if (message.type === 'hello') setState('registering');
  });
  h.pluginStdout.write(Buffer.concat([frame({ type: 'hello', token: 'tok', protocol: 1 }), frame({ type: 'tools.register', tools: ['x'] })]));
  await h.drain();
  t.same(h.messages.map((m) => m.type), ['hello', 'tools.register']);
  t.same(h.violations, []);
});

t.test('HostChannel delivers a message split across many chunks', async (t) => {
  const h = harness('ready');
  const bytes = Buffer.concat([frame(pong(1)), frame(pong(2))]);
  for (let i = 0; i < bytes.byteLength; i += 3) h.pluginStdout.write(bytes.subarray(i, i + 3));
  await h.drain();
  t.same(h.messages, [pong(1), pong(2)]);
});

t.test('HostChannel reports the first fault once and processes nothing after it', async (t) => {
  const h = harness('ready');
  const garbage = Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('not json')]);
  h.pluginStdout.write(Buffer.concat([frame(pong(1)), garbage, frame(pong(2))]));
  h.pluginStdout.write(frame(pong(3)));
  h.pluginStdout.write(Buffer.from([0, 0, 0, 0]));
  await h.drain();
  t.same(h.messages, [pong(1)]);
  t.equal(h.violations.length, 1);
  t.match(h.violations[0], { violation: { reason: 'not_json' }, beforeFirstMessage: false });
});

t.test('HostChannel marks a fault before any message as such', async (t) => {
  const h = harness('handshaking');
  h.pluginStdout.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  await h.drain();
  t.same(h.messages, []);
  t.equal(h.violations.length, 1);
  t.equal(h.violations[0]!.beforeFirstMessage, true);
});

t.test('HostChannel refuses an oversize frame from its header and ignores its body', async (t) => {
  const h = harness('ready');
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  header.writeUInt32BE(LIMIT + 1);
  h.pluginStdout.write(header);
  h.pluginStdout.write(frame(pong(1)));
  await h.drain();
  t.same(h.messages, []);
  t.match(h.violations, [{ violation: { reason: 'frame_too_large' } }]);
});

t.test('HostChannel reports a message in the wrong state, an unknown type and a schema mismatch', async (t) => {
  const cases: [unknown, ChannelState, string][] = [
    [{ type: 'result', id: 'c1', ok: true, value: 1 }, 'handshaking', 'wrong_state'],
    [{ type: 'welcome' }, 'ready', 'unknown_type'],
    [{ type: 'pong', seq: 'one' }, 'ready', 'schema_mismatch'],
    [[1, 2, 3], 'ready', 'not_object'],
  ];
  for (const [message, state, reason] of cases) {
    const h = harness(state);
    h.pluginStdout.write(frame(message));
    await h.drain();
    t.same(h.messages, [], reason);
    t.match(h.violations, [{ violation: { reason } }], reason);
  }
});

t.test('HostChannel reports a stream that ends in the middle of a frame', async (t) => {
  const h = harness('ready');
  h.pluginStdout.write(frame(pong(1)).subarray(0, 6));
  await h.drain();
  t.match(h.violations, [{ violation: { reason: 'stream_ended_mid_frame' } }]);
});

t.test('HostChannel stops delivering once a handler closes it', async (t) => {
  const h = harness('ready', (_message, channel) => channel.close());
  h.pluginStdout.write(Buffer.concat([frame(pong(1)), frame(pong(2))]));
  h.pluginStdout.write(frame(pong(3)));
  await h.drain();
  t.same(h.messages, [pong(1)]);
  t.same(h.violations, []);
});

t.test('HostChannel.send frames a message onto the plugin stdin; close ends it', async (t) => {
  const h = harness('ready');
  const received: Buffer[] = [];
  h.pluginStdin.on('data', (chunk: Buffer) => received.push(chunk));
  t.equal(h.channel.send({ type: 'ping', seq: 9 }), true);
  h.channel.close();
  await once(h.pluginStdin, 'end');
  const payloads = new FrameDecoder(LIMIT).push(Buffer.concat(received));
  t.same(payloads.map((p) => JSON.parse(new TextDecoder().decode(p)) as unknown), [{ type: 'ping', seq: 9 }]);
  t.equal(h.channel.send({ type: 'ping', seq: 10 }), false, 'nothing is sent after close');
});
