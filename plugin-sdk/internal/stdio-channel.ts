import { encodeFrame, FrameDecoder, parseFramePayload } from '../protocol/frame.ts';
import type { HostToPluginMessage, PluginToHostMessage } from '../protocol/messages.ts';

/**
 * The plugin's end of the channel: frames from the host on stdin, frames to the host on
 * stdout. Writes are serialised so frames never interleave.
 */
export class StdioChannel {
  maxFrameBytes: number;
  #writing: Promise<void> = Promise.resolve();

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Encodes and queues one message; resolves once it is written. Throws FrameError when too large. */
  send(message: PluginToHostMessage): Promise<void> {
    const frame = encodeFrame(message, this.maxFrameBytes);
    this.#writing = this.#writing.then(() => writeAll(frame));
    return this.#writing;
  }

  /** Resolves when every queued frame is written. */
  flushed(): Promise<void> {
    return this.#writing;
  }

  /** Yields host messages until stdin closes. */
  async *messages(): AsyncGenerator<HostToPluginMessage> {
    const decoder = new FrameDecoder(this.maxFrameBytes);
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

async function writeAll(bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await Deno.stdout.write(bytes.subarray(offset));
}
