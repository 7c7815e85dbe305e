import t from 'tap';
import { encodeFrame, FrameDecoder, FRAME_HEADER_BYTES } from '../../plugin-sdk/protocol/frame.ts';

t.test('FrameDecoder decodes a frame split byte by byte', async (t) => {
  const frame = encodeFrame({ type: 'hello', token: 'x', protocol: 1 }, 1024);
  const decoder = new FrameDecoder(1024);
  const out: Uint8Array[] = [];
  for (const byte of frame) out.push(...decoder.push(Uint8Array.of(byte)));
  t.equal(out.length, 1);
  t.equal(frame.byteLength, FRAME_HEADER_BYTES + out[0]!.byteLength);
});

t.test('FrameDecoder rejects a frame over the limit before its body arrives', async (t) => {
  const decoder = new FrameDecoder(16);
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 17);
  t.throws(() => decoder.push(header), { name: 'FrameError', reason: 'frame_too_large' });
});
