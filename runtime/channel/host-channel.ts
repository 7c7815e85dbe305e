import type { Readable, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameError } from '../../plugin-sdk/protocol/frame.ts';
import type { HostToPluginMessage, PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { ChannelState } from './message-catalogue.ts';
import { parseInbound, type Violation } from './parse-inbound.ts';

export interface HostChannelHandlers {
  /** A frame that decoded, validated and is allowed in the current state. */
  onMessage(message: PluginToHostMessage): void;
  /** The first fault; after it the channel reads nothing more. */
  onViolation(violation: Violation, beforeFirstMessage: boolean): void;
}

/**
 * The host's end of one process's channel: bytes from the plugin's stdout become
 * typed messages; messages to the plugin become frames on its stdin. Fails closed:
 * the first fault is reported once and everything after it is ignored.
 */
export class HostChannel {
  state: ChannelState = 'handshaking';
  readonly #decoder: FrameDecoder;
  readonly #input: Writable;
  readonly #output: Readable;
  readonly #maxFrameBytes: number;
  readonly #handlers: HostChannelHandlers;
  #framesAccepted = 0;
  #failed = false;
  #corked = false;

  constructor(output: Readable, input: Writable, maxFrameBytes: number, handlers: HostChannelHandlers) {
    this.#output = output;
    this.#input = input;
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder(maxFrameBytes);
    this.#handlers = handlers;
    output.on('data', this.#onData);
    output.on('end', this.#onEnd);
    // A write to a dead process fails with EPIPE; the exit handler reports it.
    input.on('error', () => {});
  }

  /** True while a frame has started but not finished arriving. */
  get midFrame(): boolean {
    return this.#decoder.midFrame;
  }

  /** Frames a host→plugin message onto the plugin's stdin. Returns false if the pipe is gone. */
  send(message: HostToPluginMessage): boolean {
    return this.sendFrame(encodeFrame(message, this.#maxFrameBytes));
  }

  /** Writes an already encoded frame (the caller checked it against the limit). */
  sendFrame(frame: Uint8Array): boolean {
    if (this.state === 'closed' || this.#input.destroyed || !this.#input.writable) return false;
    // Frames sent in the same tick (pipelined calls, a burst of replies) leave in one
    // pipe write instead of one each: fewer syscalls here and fewer reads in the plugin.
    if (!this.#corked) {
      this.#corked = true;
      this.#input.cork();
      process.nextTick(this.#uncork);
    }
    this.#input.write(frame);
    return true;
  }

  /** Closes the plugin's stdin (the SDK exits when it sees EOF) and stops reading. */
  close(): void {
    this.state = 'closed';
    this.#output.off('data', this.#onData);
    this.#output.resume();
    if (!this.#input.destroyed) this.#input.end();
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#input.uncork();
  };

  readonly #onData = (chunk: Buffer): void => {
    if (this.#failed || this.state === 'closed') return;
    let payloads: Uint8Array[];
    try {
      payloads = this.#decoder.push(chunk);
    } catch (error) {
      const frameError = error as FrameError;
      this.#fail({ reason: frameError.reason, detail: frameError.message });
      return;
    }
    for (const payload of payloads) {
      // A handler may have closed the channel while the previous message was handled.
      if (this.#failed || (this.state as ChannelState) === 'closed') return;
      const result = parseInbound(payload, this.state);
      if (!result.ok) {
        this.#fail(result.violation);
        return;
      }
      this.#framesAccepted++;
      this.#handlers.onMessage(result.message);
    }
  };

  readonly #onEnd = (): void => {
    if (!this.#failed && this.state !== 'closed' && this.#decoder.midFrame) {
      this.#fail({ reason: 'stream_ended_mid_frame', detail: 'stdout closed in the middle of a frame' });
    }
  };

  #fail(violation: Violation): void {
    this.#failed = true;
    this.#output.off('data', this.#onData);
    this.#output.resume();
    this.#handlers.onViolation(violation, this.#framesAccepted === 0);
  }
}
