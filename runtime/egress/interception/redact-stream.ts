/**
 * Masks a secret the gateway injected wherever the upstream echoes it back, so the tool
 * that was never given the secret cannot read it from a response.
 *
 * Every occurrence becomes the same number of '*' bytes: lengths stay as they were, so a
 * Content-Length (and any framing built on lengths) is still right.
 */
import { Transform, type TransformCallback } from 'node:stream';

const ASTERISK = 0x2a;

/** The patterns as bytes, empty ones dropped (an empty pattern matches everywhere and hides nothing). */
export function redactionPatterns(texts: readonly string[]): Buffer[] {
  return texts.map((text) => Buffer.from(text, 'utf8')).filter((pattern) => pattern.length > 0);
}

/** Where each occurrence of each pattern lies in `data`, overlapping ones included. */
function matches(data: Buffer, patterns: readonly Buffer[]): [number, number][] {
  const ranges: [number, number][] = [];
  for (const pattern of patterns) {
    for (let at = data.indexOf(pattern); at !== -1; at = data.indexOf(pattern, at + 1)) ranges.push([at, at + pattern.length]);
  }
  return ranges;
}

/**
 * Overwrites, in place, every occurrence of every pattern in `data` with '*'. Matches are
 * all found before any is masked, so overlapping occurrences (the secret inside the header
 * value, a secret overlapping itself) are masked whole.
 */
export function redactInPlace(data: Buffer, patterns: readonly Buffer[]): Buffer {
  for (const [start, end] of matches(data, patterns)) data.fill(ASTERISK, start, end);
  return data;
}

/**
 * A header value (or status message) with the patterns masked. Node hands header values
 * over as latin1, one character per byte, so the patterns are matched as the bytes they are
 * on the wire.
 */
export function redactHeaderValue(value: string, patterns: readonly Buffer[]): string {
  return redactInPlace(Buffer.from(value, 'latin1'), patterns).toString('latin1');
}

/**
 * A header name with the patterns masked, matched in any letter case: names are
 * case-insensitive, and a server (or a front rewriting names to lower case) may echo a
 * header value as a name. The mask keeps the name a token ('*' is one).
 */
export function redactHeaderName(name: string, patterns: readonly Buffer[]): string {
  const lower = Buffer.from(name.toLowerCase(), 'latin1');
  const out = Buffer.from(name, 'latin1');
  for (const [start, end] of matches(lower, patterns.map((pattern) => Buffer.from(pattern.toString('latin1').toLowerCase(), 'latin1')))) {
    out.fill(ASTERISK, start, end);
  }
  return out.toString('latin1');
}

/**
 * A Transform that masks the patterns in a byte stream, also when one is split across
 * chunks: it holds back the last (longest pattern − 1) bytes of what it has seen, the most
 * of a match that can still be waiting for its end, and lets them go at the next chunk or
 * at the end. Matching always runs on the bytes as received (never on already masked ones),
 * so the output is exactly what masking the whole body at once would give, and as long.
 */
export function createRedactor(patterns: readonly Buffer[]): Transform {
  const holdBack = Math.max(0, ...patterns.map((pattern) => pattern.length - 1));
  let pending: Buffer = Buffer.alloc(0);
  // Leading bytes of `pending` inside a match that began in bytes already sent.
  let maskedPrefix = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      const data = Buffer.concat([pending, chunk]);
      const ready = Math.max(0, data.length - holdBack);
      const out = Buffer.from(data.subarray(0, ready)).fill(ASTERISK, 0, Math.min(maskedPrefix, ready));
      let carried = Math.max(0, maskedPrefix - ready);
      for (const [start, end] of matches(data, patterns)) {
        if (start < ready) out.fill(ASTERISK, start, Math.min(end, ready));
        if (start < ready && end > ready) carried = Math.max(carried, end - ready);
      }
      pending = data.subarray(ready);
      maskedPrefix = carried;
      callback(null, ready > 0 ? out : undefined);
    },
    flush(callback: TransformCallback): void {
      // The data has ended: what was held back can be matched for the last time.
      const out = redactInPlace(Buffer.from(pending), patterns).fill(ASTERISK, 0, maskedPrefix);
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}
