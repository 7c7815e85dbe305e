/**
 * The bench's floor: the least a Deno process can do to serve an echo tool over the
 * runtime's framing (u32 big-endian length, then UTF-8 JSON). It says hello, then answers
 * each `call` frame with a `result` frame holding the call's arguments. No SDK, no
 * validation, no handshake check: whatever the runtime costs on top of this is overhead.
 *
 * Self-contained on purpose (its own few lines of framing, no imports), so no SDK code is
 * on the floor's side of the comparison. It mirrors the SDK's I/O pattern: read stdin as
 * a stream, one awaited stdout write per frame, exit when stdin closes.
 */
export {};

const HEADER_BYTES = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function send(message: unknown): Promise<void> {
  const payload = encoder.encode(JSON.stringify(message));
  const frame = new Uint8Array(HEADER_BYTES + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength, false);
  frame.set(payload, HEADER_BYTES);
  let offset = 0;
  while (offset < frame.byteLength) offset += await Deno.stdout.write(frame.subarray(offset));
}

// Same first steps as the SDK: take the token variable out of the environment, say hello.
const token = Deno.env.get('MANASVI_LAUNCH_TOKEN') ?? '';
Deno.env.delete('MANASVI_LAUNCH_TOKEN');
await send({ type: 'hello', token, protocol: 1 });

let pending = new Uint8Array(0);
const reader = Deno.stdin.readable.getReader();
for (;;) {
  const { done, value } = await reader.read();
  if (done) break;
  const joined = new Uint8Array(pending.byteLength + value.byteLength);
  joined.set(pending);
  joined.set(value, pending.byteLength);
  const view = new DataView(joined.buffer);
  let offset = 0;
  while (joined.byteLength - offset >= HEADER_BYTES) {
    const length = view.getUint32(offset, false);
    const end = offset + HEADER_BYTES + length;
    if (end > joined.byteLength) break;
    const message = JSON.parse(decoder.decode(joined.subarray(offset + HEADER_BYTES, end)));
    offset = end;
    if (message.type === 'call') await send({ type: 'result', id: message.id, ok: true, value: message.args });
  }
  pending = joined.slice(offset);
}
Deno.exit(0);
