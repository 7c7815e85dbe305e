import type { Writable } from 'node:stream';

/** What the queue holds when a frame would take it past its bound. */
export interface QueueFull {
  /** Backlog bytes written and not yet taken by the OS. */
  queuedBytes: number;
  /** Bytes of withheld frames charged against the bound (see `offer`). */
  withheldBytes: number;
  /** The frame that did not fit. */
  frameBytes: number;
  /** The most backlog this queue ever held. */
  peakQueuedBytes: number;
  maxQueuedBytes: number;
}

/**
 * The bytes the host has written to one plugin's stdin that the OS has not taken yet,
 * bounded. A plugin that stops reading makes them pile up in the host, so they are split:
 *
 * - **calls** are bounded by the pool (at most `maxConcurrent` in flight per process, the
 *   rest wait host-side), so each call frame has its own allowance until the OS takes it:
 *   a pipelined burst of large calls never counts against the bound;
 * - **the backlog** is everything else: replies and refusals (one per plugin request),
 *   pings, cancels, `welcome`, `shutdown`. It may not pass `maxQueuedBytes`; the frame that
 *   would take it past is not written and the caller is told (the plugin is in violation).
 *
 * Frames written in the same tick leave in one pipe write (the stream is corked until the
 * next tick): fewer syscalls here and fewer reads in the plugin.
 */
export class OutboundQueue {
  /** Frames `offer` did not write. */
  framesWithheld = 0;
  readonly #input: Writable;
  readonly #maxQueuedBytes: number;
  /** Call bytes written and not yet taken by the OS; each call's write callback gives its share back. */
  #callBytes = 0;
  #withheldBytes = 0;
  #peakQueuedBytes = 0;
  #corked = false;

  constructor(input: Writable, maxQueuedBytes: number) {
    this.#input = input;
    this.#maxQueuedBytes = maxQueuedBytes;
  }

  /** Backlog bytes the OS has not taken yet. */
  get queuedBytes(): number {
    // writableLength drops just before the write callbacks run, so for a moment the call
    // share can exceed what is left; a backlog is never negative.
    const queued = this.#input.writableLength - this.#callBytes;
    if (queued > 0) return queued;
    // The plugin has read everything it was sent: what was withheld is forgiven.
    this.#withheldBytes = 0;
    return 0;
  }

  get peakQueuedBytes(): number {
    return this.#peakQueuedBytes;
  }

  /** Writes a call frame, outside the bound. */
  writeCall(frame: Uint8Array): void {
    const bytes = frame.byteLength;
    this.#callBytes += bytes;
    this.#cork();
    this.#input.write(frame, () => (this.#callBytes -= bytes));
  }

  /** Writes a backlog frame; if it does not fit, writes nothing and says why. */
  write(frame: Uint8Array): QueueFull | undefined {
    const queued = this.queuedBytes;
    if (queued + this.#withheldBytes + frame.byteLength > this.#maxQueuedBytes) return this.#full(queued, frame);
    this.#cork();
    this.#input.write(frame);
    if (queued + frame.byteLength > this.#peakQueuedBytes) this.#peakQueuedBytes = queued + frame.byteLength;
    return undefined;
  }

  /**
   * Writes a frame the plugin can go without (a refusal past the audit budget), unless the
   * plugin is more than half its bound behind: then it is withheld, costing the host no
   * memory, yet still charged against the bound, so a plugin that floods without reading
   * is stopped at the same point as if every frame had been queued. The charge is
   * forgiven once the plugin has read everything it was sent.
   */
  offer(frame: Uint8Array): QueueFull | undefined {
    const queued = this.queuedBytes;
    if (queued + this.#withheldBytes <= this.#maxQueuedBytes / 2) return this.write(frame);
    if (queued + this.#withheldBytes + frame.byteLength > this.#maxQueuedBytes) return this.#full(queued, frame);
    this.#withheldBytes += frame.byteLength;
    this.framesWithheld++;
    return undefined;
  }

  #full(queued: number, frame: Uint8Array): QueueFull {
    return {
      queuedBytes: queued,
      withheldBytes: this.#withheldBytes,
      frameBytes: frame.byteLength,
      peakQueuedBytes: this.#peakQueuedBytes,
      maxQueuedBytes: this.#maxQueuedBytes,
    };
  }

  #cork(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#input.cork();
    process.nextTick(this.#uncork);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#input.uncork();
  };
}
