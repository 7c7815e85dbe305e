/**
 * Undoes a content-encoding the upstream applied although the gateway asked for identity:
 * a compressed body would carry an echoed secret past the redactor unseen.
 */
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

const DECODERS: Record<string, () => Transform> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/**
 * The decoders to apply, in order, for a Content-Encoding value ("gzip", "deflate, br"):
 * empty for none or identity, null when one is not known (the response cannot be
 * redacted and must not be passed on).
 */
export function decodersFor(contentEncoding: string | undefined): Transform[] | null {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  // Codings are listed in the order applied, so they come off last first.
  const decoders: Transform[] = [];
  for (const coding of codings.reverse()) {
    const make = DECODERS[coding];
    if (!make) return null;
    decoders.push(make());
  }
  return decoders;
}
