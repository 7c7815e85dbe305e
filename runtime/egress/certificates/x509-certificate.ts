/**
 * Builds and signs X.509 v3 certificates (RFC 5280) from the DER encoders in der.ts: only
 * what the egress certificate authority issues — EC P-256 keys, ecdsa-with-SHA256, a
 * Common Name, and the handful of extensions below.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { bitString, boolean, explicit, implicit, integer, octetString, oid, sequence, set, time, utf8String } from './der.ts';

/** Object identifiers used below, by name. */
const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

/** keyUsage bit numbers (RFC 5280 §4.2.1.3), counted from the first byte's top bit. */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** What a certificate says and who signs it. */
export interface CertificateSpec {
  serial: Uint8Array;
  /** The issuer's Common Name (the subject's own for a self-signed certificate). */
  issuer: string;
  /** The subject's Common Name, or null for an empty subject (then subjectAltName must be critical). */
  subject: string | null;
  notBefore: Date;
  notAfter: Date;
  /** The key the certificate certifies. */
  publicKey: KeyObject;
  /** Encoded extensions, from {@link extension}. */
  extensions: Buffer[];
  /** The issuer's private key. */
  signingKey: KeyObject;
}

/**
 * A fresh 16-byte serial: random (CA/B Forum asks for at least 64 random bits) and
 * positive, with the top byte kept non-zero so every serial has the same length.
 */
export function randomSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01;
  return serial;
}

/** A Name holding one Common Name, or the empty Name. */
function name(commonName: string | null): Buffer {
  if (commonName === null) return sequence();
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

/** Signs `spec` and returns the certificate's DER. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(spec.serial),
    algorithm,
    name(spec.issuer),
    sequence(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject),
    spec.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...spec.extensions)),
  );
  // For an EC key Node's signature is already the DER ECDSA-Sig-Value X.509 wants.
  const signature = sign('sha256', tbs, spec.signingKey);
  return sequence(tbs, algorithm, bitString(signature));
}

/** DER in PEM armour, 64 base64 characters a line. */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** One Extension: its OID, the critical flag (omitted when false, as DER wants), its encoded value. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? sequence(oid(id), boolean(true), octetString(value)) : sequence(oid(id), octetString(value));
}

/**
 * A key identifier: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits (RFC
 * 7093 §2 method 1), so the CA's subjectKeyIdentifier and a leaf's authorityKeyIdentifier match.
 */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return createHash('sha256').update(point).digest().subarray(0, 20);
}

/** basicConstraints, always critical: a CA with a path length, or not a CA (the empty SEQUENCE: cA defaults to false). */
export function basicConstraints(ca: { pathLength: number } | null): Buffer {
  return extension(OID.basicConstraints, true, ca ? sequence(boolean(true), integer(ca.pathLength)) : sequence());
}

/** keyUsage, critical: the named bits set, trailing zero bits dropped (DER named bit list). */
export function keyUsage(bits: number[]): Buffer {
  const last = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(last / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (0x80 >> (bit & 7));
  return extension(OID.keyUsage, true, bitString(bytes, 7 - (last & 7)));
}

/** extKeyUsage serverAuth: the leaf is for TLS servers only. */
export function extKeyUsageServerAuth(): Buffer {
  return extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth)));
}

/**
 * subjectAltName with one entry: an iPAddress for an IP literal (its 4 or 16 bytes), else
 * a dNSName. Critical when the subject is empty (RFC 5280 §4.2.1.6).
 */
export function subjectAltName(host: string, critical: boolean): Buffer {
  const entry = isIPv4(host) || host.includes(':') ? implicit(7, ipBytes(host)) : implicit(2, Buffer.from(host, 'ascii'));
  return extension(OID.subjectAltName, critical, sequence(entry));
}

/** The network-order bytes of an IPv4 or IPv6 literal (already checked by the caller). */
function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined): string[] => (part ? part.split(':') : []);
  const expand = (parts: string[]): string[] =>
    parts.flatMap((part) => (part.includes('.') ? dottedToGroups(part) : [part]));
  const front = expand(groups(head));
  const back = expand(groups(tail));
  const middle = tail === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...front, ...middle, ...back].forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

/** An embedded IPv4 tail of an IPv6 literal ("::ffff:1.2.3.4") as two hex groups. */
function dottedToGroups(dotted: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = dotted.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/** subjectKeyIdentifier: how a verifier finds this CA as the issuer of a leaf. */
export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

/** authorityKeyIdentifier naming the issuer's key ([0] keyIdentifier). */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, keyId)));
}
