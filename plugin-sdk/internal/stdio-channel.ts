import { encodeFrame, FrameDecoder, parseFramePayload } from '../protocol/frame.ts';
import type { HostToPluginMessage, PluginToHostMessage } from '../protocol/messages.ts';

/**
 * The plugin's end of the channel: frames from the host on stdin, frames to the host on
 * stdout. Writes are serialised so frames never interleave.
 */
export class StdioChannel {
  readonly #decoder: FrameDecoder;
  #maxFrameBytes: number;
  #writing: Promise<void> = Promise.resolve();
  /** Frames waiting for the write in progress to finish; they leave together in one write. */
  #queued: Uint8Array[] = [];
  #next: Promise<void> | null = null;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder(maxFrameBytes);
  }

  /** The frame limit both ways: the small pre-handshake one until `welcome` names the real one. */
  get maxFrameBytes(): number {
    return this.#maxFrameBytes;
  }

  set maxFrameBytes(limit: number) {
    this.#maxFrameBytes = limit;
    this.#decoder.maxFrameBytes = limit;
  }

  /** Encodes and queues one message; resolves once it is written. Throws FrameError when too large. */
  send(message: PluginToHostMessage): Promise<void> {
    this.#queued.push(encodeFrame(message, this.maxFrameBytes));
    if (this.#next === null) {
      this.#next = this.#writing.then(() => {
        const frames = this.#queued;
        this.#queued = [];
        this.#next = null;
        return writeAll(frames.length === 1 ? frames[0]! : concat(frames));
      });
      this.#writing = this.#next;
    }
    return this.#next;
  }

  /** Resolves when every queued frame is written. */
  flushed(): Promise<void> {
    return this.#writing;
  }

  /** Yields host messages until stdin closes. */
  async *messages(): AsyncGenerator<HostToPluginMessage> {
    const decoder = this.#decoder;
    const reader = Deno.stdin.readable.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const payload of decoder.push(value)) {
        yield parseFramePayload(payload) as unknown as HostToPluginMessage;
      }
    }
  }
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((sum, frame) => sum + frame.byteLength, 0));
  let offset = 0;
  for (const frame of frames) {
    out.set(frame, offset);
    offset += frame.byteLength;
  }
  return out;
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await Deno.stdout.write(bytes.subarray(offset));
}
