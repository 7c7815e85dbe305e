/**
 * The few ASN.1 DER encodings an X.509 certificate needs, and nothing else.
 *
 * Node can sign and export keys but cannot build a certificate, and the runtime runs no
 * external program (no openssl) to make one: these encoders are the whole dependency.
 * Each returns the complete TLV (tag, length, value) as a Buffer, so they nest by
 * plain function composition: `sequence(integer(…), oid(…))`.
 */

/** Universal tags used below (X.690 §8). */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  sequence: 0x30,
  set: 0x31,
  utcTime: 0x17,
  generalizedTime: 0x18,
} as const;

/** The length octets: short form under 128, else long form with the fewest bytes (DER). */
function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Any TLV: `tag` is the whole identifier octet (class, constructed bit and number). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

/** SEQUENCE of already-encoded elements, in order. */
export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(elements));
}

/** SET OF already-encoded elements; DER wants them sorted by their encodings. */
export function set(...elements: Uint8Array[]): Buffer {
  const sorted = [...elements].sort((a, b) => Buffer.compare(a, b));
  return tlv(TAG.set, Buffer.concat(sorted));
}

/** BOOLEAN: DER fixes TRUE as 0xff. */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

/**
 * A non-negative INTEGER from its big-endian magnitude (a serial number) or a small
 * number. Leading zero bytes are dropped and one is added back when the top bit is set,
 * so the value never reads as negative (X.690 §8.3: minimal two's complement).
 */
export function integer(value: number | Uint8Array): Buffer {
  let bytes = typeof value === 'number' ? smallMagnitude(value) : Buffer.from(value);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.integer, bytes);
}

/** Big-endian bytes of a non-negative safe integer. */
function smallMagnitude(value: number): Buffer {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer ${value} must be a non-negative safe integer`);
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from(bytes);
}

/** OBJECT IDENTIFIER from dotted form ("2.5.4.3"): first two arcs joined, the rest base 128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  if (arcs.length < 2 || arcs.some((arc) => !Number.isSafeInteger(arc) || arc < 0)) throw new RangeError(`bad OID ${dotted}`);
  const bytes = [first * 40 + second, ...rest].flatMap(base128);
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** One OID arc in base 128, high bit set on every byte but the last. */
function base128(arc: number): number[] {
  const bytes = [arc & 0x7f];
  for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) bytes.unshift((rest & 0x7f) | 0x80);
  return bytes;
}

/** OCTET STRING holding `value` (also the wrapper of every extension's value). */
export function octetString(value: Uint8Array): Buffer {
  return tlv(TAG.octetString, value);
}

/**
 * BIT STRING of whole bytes, with `unusedBits` trailing bits of the last byte not part of
 * it (keyUsage is a named-bit list whose trailing zero bits DER drops).
 */
export function bitString(value: Uint8Array, unusedBits = 0): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), value]));
}

/** UTF8String: the Common Name's type, so any name encodes. */
export function utf8String(value: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(value, 'utf8'));
}

/**
 * An X.509 Time: UTCTime (YYMMDDHHMMSSZ) for 1950–2049, GeneralizedTime after, as RFC 5280
 * §4.1.2.5 requires. Milliseconds are dropped.
 */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest = [date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join('');
  if (year >= 1950 && year < 2050) return tlv(TAG.utcTime, Buffer.from(`${String(year % 100).padStart(2, '0')}${rest}Z`, 'ascii'));
  return tlv(TAG.generalizedTime, Buffer.from(`${String(year).padStart(4, '0')}${rest}Z`, 'ascii'));
}

/** A context-specific constructed tag `[n]` around encoded content (EXPLICIT tagging). */
export function explicit(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, content);
}

/** A context-specific primitive tag `[n]` replacing a primitive's own tag (IMPLICIT tagging). */
export function implicit(tagNumber: number, value: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, value);
}
