import { readFileSync } from 'node:fs';
import t from 'tap';
import {
  encodeFrame,
  FrameDecoder,
  FRAME_HEADER_BYTES,
  FRAME_LENGTH_MAX,
  parseFramePayload,
} from '../../plugin-sdk/protocol/frame.ts';

const LIMIT = 1024;
const text = new TextDecoder();
const decoded = (payloads: Uint8Array[]) => payloads.map((payload) => JSON.parse(text.decode(payload)) as unknown);

function header(length: number): Uint8Array {
  const bytes = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(bytes.buffer).setUint32(0, length, false);
  return bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

t.test('encodeFrame writes a big-endian u32 length and then the UTF-8 JSON', async (t) => {
  const frame = encodeFrame({ type: 'pong', seq: 1, note: 'é' }, LIMIT);
  const payload = new TextEncoder().encode(JSON.stringify({ type: 'pong', seq: 1, note: 'é' }));
  t.same([...frame.subarray(0, FRAME_HEADER_BYTES)], [...header(payload.byteLength)]);
  t.same([...frame.subarray(FRAME_HEADER_BYTES)], [...payload]);
});

t.test('encodeFrame refuses a message over the limit', async (t) => {
  t.throws(() => encodeFrame({ data: 'x'.repeat(LIMIT) }, LIMIT), { name: 'FrameError', reason: 'frame_too_large' });
});

t.test('FrameDecoder decodes a frame split byte by byte', async (t) => {
  const frame = encodeFrame({ type: 'hello', token: 'x', protocol: 1 }, LIMIT);
  const decoder = new FrameDecoder(LIMIT);
  const out: Uint8Array[] = [];
  for (const byte of frame) out.push(...decoder.push(Uint8Array.of(byte)));
  t.same(decoded(out), [{ type: 'hello', token: 'x', protocol: 1 }]);
  t.equal(frame.byteLength, FRAME_HEADER_BYTES + out[0]!.byteLength);
  t.notOk(decoder.midFrame);
});

t.test('FrameDecoder decodes frames split at every possible point', async (t) => {
  const frame = encodeFrame({ type: 'pong', seq: 7 }, LIMIT);
  for (let cut = 0; cut <= frame.byteLength; cut++) {
    const decoder = new FrameDecoder(LIMIT);
    const first = decoder.push(frame.subarray(0, cut));
    t.equal(decoder.midFrame, cut > 0 && cut < frame.byteLength, `midFrame after ${cut} bytes`);
    const out = [...first, ...decoder.push(frame.subarray(cut))];
    t.same(decoded(out), [{ type: 'pong', seq: 7 }], `cut at ${cut}`);
  }
});

t.test('FrameDecoder returns every frame coalesced in one chunk, in order', async (t) => {
  const messages = Array.from({ length: 50 }, (_, seq) => ({ type: 'pong', seq }));
  const decoder = new FrameDecoder(LIMIT);
  const chunk = concat(...messages.map((m) => encodeFrame(m, LIMIT)));
  t.same(decoded(decoder.push(chunk)), messages);
});

t.test('FrameDecoder handles a chunk that ends one frame, holds another and starts a third', async (t) => {
  const [a, b, c] = [{ n: 'a' }, { n: 'b' }, { n: 'c' }].map((m) => encodeFrame(m, LIMIT)) as [Uint8Array, Uint8Array, Uint8Array];
  const decoder = new FrameDecoder(LIMIT);
  t.same(decoded(decoder.push(a.subarray(0, 3))), []);
  t.same(decoded(decoder.push(concat(a.subarray(3), b, c.subarray(0, 6)))), [{ n: 'a' }, { n: 'b' }]);
  t.ok(decoder.midFrame);
  t.same(decoded(decoder.push(c.subarray(6))), [{ n: 'c' }]);
});

t.test('FrameDecoder accepts a frame of exactly the limit', async (t) => {
  const payload = new TextEncoder().encode(JSON.stringify({ d: 'x'.repeat(LIMIT - 8) }));
  t.equal(payload.byteLength, LIMIT);
  const decoder = new FrameDecoder(LIMIT);
  t.equal(decoder.push(concat(header(LIMIT), payload)).length, 1);
});

t.test('FrameDecoder refuses a zero-length frame', async (t) => {
  const decoder = new FrameDecoder(LIMIT);
  t.throws(() => decoder.push(header(0)), { name: 'FrameError', reason: 'empty_frame' });
});

t.test('FrameDecoder refuses a frame over the limit from its header alone', async (t) => {
  const decoder = new FrameDecoder(16);
  t.throws(() => decoder.push(header(17)), { name: 'FrameError', reason: 'frame_too_large' });
});

t.test('FrameDecoder refuses the largest length the header can express without waiting for the body', async (t) => {
  const decoder = new FrameDecoder(LIMIT);
  t.throws(() => decoder.push(header(FRAME_LENGTH_MAX)), { name: 'FrameError', reason: 'frame_too_large' });
});

t.test('FrameDecoder refuses an oversize frame that follows good ones in the same chunk', async (t) => {
  const decoder = new FrameDecoder(LIMIT);
  t.throws(() => decoder.push(concat(encodeFrame({ ok: 1 }, LIMIT), header(LIMIT + 1))), { name: 'FrameError', reason: 'frame_too_large' });
});

t.test('FrameDecoder stays failed after an error', async (t) => {
  const decoder = new FrameDecoder(LIMIT);
  t.throws(() => decoder.push(header(0)), { name: 'FrameError', reason: 'empty_frame' });
  t.throws(() => decoder.push(encodeFrame({ type: 'pong', seq: 1 }, LIMIT)), { name: 'FrameError', reason: 'empty_frame' });
});

t.test('parseFramePayload returns the JSON object a payload holds', async (t) => {
  t.same(parseFramePayload(new TextEncoder().encode('{"type":"pong","seq":1}')), { type: 'pong', seq: 1 });
});

t.test('parseFramePayload refuses bytes that are not JSON', async (t) => {
  for (const bytes of ['not json', '{"a":', '']) {
    t.throws(() => parseFramePayload(new TextEncoder().encode(bytes)), { name: 'FrameError', reason: 'not_json' }, JSON.stringify(bytes));
  }
});

t.test('parseFramePayload refuses bytes that are not UTF-8', async (t) => {
  t.throws(() => parseFramePayload(Uint8Array.of(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d)), { name: 'FrameError', reason: 'not_json' });
});

t.test('parseFramePayload refuses JSON that is not an object', async (t) => {
  for (const json of ['[]', '[{"type":"pong"}]', '42', '"hello"', 'null', 'true']) {
    t.throws(() => parseFramePayload(new TextEncoder().encode(json)), { name: 'FrameError', reason: 'not_object' }, json);
  }
});

t.test('the header diagram in frame.ts shows FRAME_HEADER_BYTES bytes of length', async (t) => {
  const source = readFileSync(new URL('../../plugin-sdk/protocol/frame.ts', import.meta.url), 'utf8');
  const lines = source.split('\n');
  const row = lines.find((line) => line.includes('L: payload length, u32'));
  t.ok(row, 'the diagram has the length row');
  // Each bit is two characters wide ("+-" on the borders), so a row's span in bits is half its width.
  const span = row!.lastIndexOf('|') - row!.indexOf('|');
  t.equal(span % 2, 0, 'the row is whole bits wide');
  t.equal(span / 2, FRAME_HEADER_BYTES * 8, 'the length row spans the header');

  const border = lines[lines.indexOf(row!) - 1]!;
  t.equal((border.match(/\+-/g) ?? []).length, FRAME_HEADER_BYTES * 8, 'the border above it counts the same bits');
  const ruler = lines[lines.indexOf(row!) - 2]!;
  t.equal((ruler.match(/\d/g) ?? []).length, FRAME_HEADER_BYTES * 8, 'the bit ruler numbers the same bits');
});
