/**
 * Length-prefixed framing, shared by host and SDK (no `node:*` imports).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              L: payload length, u32 big-endian                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     L bytes of UTF-8 JSON, one object (1 ≤ L ≤ maxFrameBytes)  ...
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 * The header width below is the one this diagram shows; a test keeps them in step.
 */

/** Bytes of the length header. */
export const FRAME_HEADER_BYTES = 4;
/** The largest length the header can express. */
export const FRAME_LENGTH_MAX = 0xffff_ffff;

export type FrameErrorReason = 'empty_frame' | 'frame_too_large' | 'not_json' | 'not_object';

/** A framing fault: the stream cannot be trusted past this point. */
export class FrameError extends Error {
  readonly reason: FrameErrorReason;
  constructor(reason: FrameErrorReason, message: string) {
    super(message);
    this.name = 'FrameError';
    this.reason = reason;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one message as header + JSON payload. Throws `frame_too_large` past the limit. */
export function encodeFrame(message: unknown, maxFrameBytes: number): Uint8Array {
  const payload = encoder.encode(JSON.stringify(message));
  if (payload.byteLength > maxFrameBytes) {
    throw new FrameError('frame_too_large', `frame of ${payload.byteLength} bytes exceeds the ${maxFrameBytes}-byte limit`);
  }
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  new DataView(frame.buffer).setUint32(0, payload.byteLength, false);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** Parses a frame payload into the JSON object it must hold. */
export function parseFramePayload(payload: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    throw new FrameError('not_json', 'frame payload is not UTF-8 JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FrameError('not_object', 'frame payload is not a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Streaming decoder: feed it chunks as they arrive, get whole payloads back.
 * Frames may be split across chunks or coalesced within one. The length is checked
 * as soon as the header is complete, so an oversize frame is refused before its body
 * is buffered; after any error the decoder stays failed.
 */
export class FrameDecoder {
  /** The largest payload accepted; a peer may raise it once the handshake agrees on one. */
  maxFrameBytes: number;
  readonly #header = new Uint8Array(FRAME_HEADER_BYTES);
  #headerFilled = 0;
  #body: Uint8Array | null = null;
  #bodyFilled = 0;
  #failed: FrameError | null = null;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** True while part of a frame has been received but not all of it. */
  get midFrame(): boolean {
    return this.#headerFilled > 0 || this.#body !== null;
  }

  /** Consumes a chunk; returns every payload it completes. Throws {@link FrameError}. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.#failed) throw this.#failed;
    const out: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.#body === null) {
        const take = Math.min(FRAME_HEADER_BYTES - this.#headerFilled, chunk.byteLength - offset);
        this.#header.set(chunk.subarray(offset, offset + take), this.#headerFilled);
        this.#headerFilled += take;
        offset += take;
        if (this.#headerFilled < FRAME_HEADER_BYTES) break;
        const length = new DataView(this.#header.buffer).getUint32(0, false);
        this.#headerFilled = 0;
        if (length === 0) this.#fail(new FrameError('empty_frame', 'frame of length 0'));
        if (length > this.maxFrameBytes) {
          this.#fail(new FrameError('frame_too_large', `frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`));
        }
        this.#body = new Uint8Array(length);
        this.#bodyFilled = 0;
      }
      const take = Math.min(this.#body.byteLength - this.#bodyFilled, chunk.byteLength - offset);
      this.#body.set(chunk.subarray(offset, offset + take), this.#bodyFilled);
      this.#bodyFilled += take;
      offset += take;
      if (this.#bodyFilled === this.#body.byteLength) {
        out.push(this.#body);
        this.#body = null;
      }
    }
    return out;
  }

  #fail(error: FrameError): never {
    this.#failed = error;
    throw error;
  }
}
