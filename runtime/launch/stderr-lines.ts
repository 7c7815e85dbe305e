import type { Readable } from 'node:stream';
import { printableText } from '../printable-text.ts';

export interface StderrLimits {
  maxLineBytes: number;
  linesPerSecond: number;
  tailLines: number;
}

/**
 * Plugin stderr, line by line: free-form diagnostics, never protocol. Each line is cut
 * at `maxLineBytes`; lines past `linesPerSecond` are dropped and counted; the last
 * `tailLines` are kept for crash reports. Nothing is buffered without bound.
 */
export class StderrLines {
  readonly #limits: StderrLimits;
  readonly #onLine: (line: string) => void;
  readonly #tail: string[] = [];
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #partialTruncated = false;
  #windowStart = 0;
  #windowCount = 0;
  dropped = 0;

  constructor(stream: Readable, limits: StderrLimits, onLine: (line: string) => void) {
    this.#limits = limits;
    this.#onLine = onLine;
    stream.on('data', (chunk: Buffer) => this.#push(chunk));
    stream.on('end', () => {
      this.#flush();
      this.#reportDropped();
    });
  }

  /** The most recent lines, oldest first. */
  tail(): string[] {
    return [...this.#tail];
  }

  #push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      this.#append(chunk.subarray(start, newline));
      this.#flush();
      start = newline + 1;
    }
  }

  /** Says how many lines the current window dropped, once, and opens a new count. */
  #reportDropped(): void {
    const dropped = this.#windowCount - this.#limits.linesPerSecond;
    if (dropped > 0) this.#onLine(`[${dropped} stderr lines dropped: over ${this.#limits.linesPerSecond} lines/s]`);
    this.#windowCount = 0;
  }

  #append(piece: Buffer): void {
    const room = this.#limits.maxLineBytes - this.#partialBytes;
    if (piece.byteLength > room) this.#partialTruncated = true;
    const kept = piece.subarray(0, Math.max(0, room));
    if (kept.byteLength > 0) {
      this.#partial.push(kept);
      this.#partialBytes += kept.byteLength;
    }
  }

  #flush(): void {
    if (this.#partialBytes === 0 && !this.#partialTruncated) return;
    let line = printableText(Buffer.concat(this.#partial).toString('utf8').replace(/\r$/, ''));
    if (this.#partialTruncated) line += ' …[truncated]';
    this.#partial = [];
    this.#partialBytes = 0;
    this.#partialTruncated = false;

    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#reportDropped();
      this.#windowStart = now;
    }
    if (++this.#windowCount > this.#limits.linesPerSecond) {
      this.dropped++;
      return;
    }
    this.#tail.push(line);
    if (this.#tail.length > this.#limits.tailLines) this.#tail.shift();
    this.#onLine(line);
  }
}
