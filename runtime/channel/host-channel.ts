import type { Readable, Writable } from 'node:stream';
import { encodeFrame, FrameDecoder, FrameError } from '../../plugin-sdk/protocol/frame.ts';
import type { HostToPluginMessage, PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import { type GateAuthority, gateInbound, type Refusal } from './channel-gate.ts';
import type { ChannelState } from './message-catalogue.ts';
import { OutboundQueue, type QueueFull } from './outbound-queue.ts';
import { decodeInbound, type Violation } from './parse-inbound.ts';

export interface ChannelLimits {
  maxFrameBytes: number;
  /** What may wait unread on the plugin's stdin besides calls (see OutboundQueue). */
  maxQueuedBytes: number;
}

export interface HostChannelHandlers {
  /**
   * The state of the process this channel serves. The channel keeps no lifecycle of its
   * own (only whether it is closed), so there is one state machine: its owner's.
   */
  state(): ChannelState;
  /** What the process is granted, for the gate's capability and token steps. */
  authority: GateAuthority;
  /** A frame that decoded, validated and passed the gate. */
  onMessage(message: PluginToHostMessage): void;
  /** A gated message the gate refused; its catalogue row says whether to answer or end. */
  onRefused(message: PluginToHostMessage, refusal: Refusal): void;
  /** The first fault; after it the channel reads nothing more. */
  onViolation(violation: Violation, beforeFirstMessage: boolean): void;
}

/**
 * The host's end of one process's channel: bytes from the plugin's stdout become
 * typed messages; messages to the plugin become frames on its stdin. Fails closed:
 * the first fault is reported once and everything after it is ignored.
 */
export class HostChannel {
  readonly #decoder: FrameDecoder;
  readonly #input: Writable;
  readonly #output: Readable;
  readonly #queue: OutboundQueue;
  readonly #maxFrameBytes: number;
  readonly #handlers: HostChannelHandlers;
  #framesAccepted = 0;
  #failed = false;
  #closed = false;

  constructor(output: Readable, input: Writable, limits: ChannelLimits, handlers: HostChannelHandlers) {
    this.#output = output;
    this.#input = input;
    this.#maxFrameBytes = limits.maxFrameBytes;
    this.#decoder = new FrameDecoder(limits.maxFrameBytes);
    this.#queue = new OutboundQueue(input, limits.maxQueuedBytes);
    this.#handlers = handlers;
    output.on('data', this.#onData);
    output.on('end', this.#onEnd);
    // A write to a dead process fails with EPIPE; the exit handler reports it.
    input.on('error', () => {});
  }

  /** `closed` once closed, else the state of the process it serves. */
  get state(): ChannelState {
    return this.#closed ? 'closed' : this.#handlers.state();
  }

  /** True while a frame has started but not finished arriving. */
  get midFrame(): boolean {
    return this.#decoder.midFrame;
  }

  /** Frames withheld from a plugin that was too far behind (see `offer`). */
  get framesWithheld(): number {
    return this.#queue.framesWithheld;
  }

  /**
   * Frames a host→plugin message onto the plugin's stdin. Returns false if the pipe is
   * gone, or if the message would take what waits unread past `maxQueuedBytes`: then the
   * channel fails with `outbound_queue_full`.
   */
  send(message: HostToPluginMessage): boolean {
    if (!this.#open()) return false;
    return this.#written(this.#queue.write(encodeFrame(message, this.#maxFrameBytes)));
  }

  /**
   * Sends a message the plugin can go without (a refusal past the audit budget): withheld,
   * not queued, while the plugin is far behind in reading (see OutboundQueue.offer).
   */
  offer(message: HostToPluginMessage): boolean {
    if (!this.#open()) return false;
    return this.#written(this.#queue.offer(encodeFrame(message, this.#maxFrameBytes)));
  }

  /**
   * Writes an already encoded `call` frame (the caller checked it against the limit). The
   * caller bounds calls in flight, so call bytes do not count against `maxQueuedBytes`.
   */
  sendCall(frame: Uint8Array): boolean {
    if (!this.#open()) return false;
    this.#queue.writeCall(frame);
    return true;
  }

  /** Closes the plugin's stdin (the SDK exits when it sees EOF) and stops reading. */
  close(): void {
    this.#closed = true;
    this.#output.off('data', this.#onData);
    this.#output.resume();
    if (!this.#input.destroyed) this.#input.end();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#failed || this.#closed) return;
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
      if (this.#failed || this.#closed) return;
      const result = decodeInbound(payload);
      if (!result.ok) {
        this.#fail(result.violation);
        return;
      }
      const verdict = gateInbound(result.message, this.#handlers.state(), this.#handlers.authority);
      if (!verdict.ok && 'violation' in verdict) {
        this.#fail(verdict.violation);
        return;
      }
      this.#framesAccepted++;
      if (verdict.ok) this.#handlers.onMessage(result.message);
      else this.#handlers.onRefused(result.message, verdict.refusal);
    }
  };

  readonly #onEnd = (): void => {
    if (!this.#failed && !this.#closed && this.#decoder.midFrame) {
      this.#fail({ reason: 'stream_ended_mid_frame', detail: 'stdout closed in the middle of a frame' });
    }
  };

  #open(): boolean {
    return !this.#failed && !this.#closed && !this.#input.destroyed && this.#input.writable;
  }

  #written(full: QueueFull | undefined): boolean {
    if (!full) return true;
    const unread = full.queuedBytes + full.withheldBytes;
    this.#fail({
      reason: 'outbound_queue_full',
      detail: `the plugin left ${unread} bytes unread on its stdin; ${full.frameBytes} more would pass channel.maxQueuedBytes (${full.maxQueuedBytes})`,
      facts: { ...full },
    });
    return false;
  }

  #fail(violation: Violation): void {
    this.#failed = true;
    this.#output.off('data', this.#onData);
    this.#output.resume();
    this.#handlers.onViolation(violation, this.#framesAccepted === 0);
  }
}
