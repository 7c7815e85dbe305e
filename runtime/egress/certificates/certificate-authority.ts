/**
 * The egress gateway's own certificate authority: one per runtime, made in memory at
 * start. Tool processes trust its certificate (Deno's `--cert` / `DENO_CERT`) so the
 * gateway can terminate TLS for a host whose requests it injects a secret into, with a
 * leaf it issues for exactly that host name.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { PluginRuntimeError } from '../../errors.ts';
import { writeAtomically } from '../../write-atomically.ts';
import {
  authorityKeyIdentifier,
  basicConstraints,
  buildCertificate,
  extKeyUsageServerAuth,
  KEY_USAGE,
  keyIdentifier,
  keyUsage,
  randomSerial,
  subjectAltName,
  subjectKeyIdentifier,
  toPem,
} from './x509-certificate.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Both certificates start an hour back, so a client whose clock is a little behind accepts them. */
const BACKDATE_MS = HOUR_MS;
/** The CA outlives any runtime run it is made for; a runtime is not expected to run a month. */
export const CA_LIFETIME_MS = 30 * DAY_MS;
/** A leaf lives a week at most (and never past the CA). */
export const LEAF_LIFETIME_MS = 7 * DAY_MS;
/** A cached leaf with less than this left is issued afresh. */
const LEAF_RENEW_BEFORE_MS = DAY_MS;
/** Leaves kept, least recently used dropped first: a tool cannot grow the cache without bound. */
export const LEAF_CACHE_SIZE = 256;
/** X.520 caps a Common Name at 64 characters; a longer name goes in subjectAltName alone. */
const COMMON_NAME_MAX = 64;

/** A leaf certificate and its private key, both PEM, as `tls.createSecureContext` takes them. */
export interface LeafCertificate {
  key: string;
  cert: string;
}

/** What {@link createCertificateAuthority} returns. Its private key is held inside and never exposed. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients are told to trust. */
  readonly certificatePem: string;
  /** When the CA certificate (and so every leaf) stops being valid. */
  readonly notAfter: Date;
  /**
   * Writes the CA certificate (never the key) to `path`, mode 0644, atomically.
   * @throws the file system's error
   */
  writeCertificate(path: string): void;
  /**
   * A leaf for exactly `hostname` (a DNS name, or an IP literal → iPAddress SAN), issued
   * by this CA; the same one again for a cached name until it nears its end.
   * @throws PluginRuntimeError `config_invalid` when `hostname` is neither a DNS name nor an IP literal
   */
  leafFor(hostname: string): LeafCertificate;
}

/** Test seams: the clock and the cache bound. */
export interface CertificateAuthorityOptions {
  /** Epoch milliseconds now; defaults to `Date.now`. */
  now?: () => number;
  /** Leaves kept; defaults to {@link LEAF_CACHE_SIZE}. */
  leafCacheSize?: number;
}

interface CachedLeaf {
  leaf: LeafCertificate;
  notAfterMs: number;
}

/**
 * Makes a new CA: an EC P-256 key and a self-signed certificate named "Manasvi egress
 * gateway CA <random>" (the random part tells two runtimes' CAs apart), valid an hour back
 * to 30 days on, basicConstraints CA with path length 0 (it signs leaves only).
 *
 * @example
 * const ca = createCertificateAuthority();
 * ca.writeCertificate(caFile); // DENO_CERT=caFile for tool processes
 * tls.createSecureContext(ca.leafFor('api.example.com'));
 */
export function createCertificateAuthority(options: CertificateAuthorityOptions = {}): CertificateAuthority {
  const now = options.now ?? Date.now;
  const cacheSize = options.leafCacheSize ?? LEAF_CACHE_SIZE;
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const name = `Manasvi egress gateway CA ${randomSerial().subarray(1, 5).toString('hex')}`;
  const keyId = keyIdentifier(publicKey);
  const issuedAt = now();
  const notAfterMs = issuedAt + CA_LIFETIME_MS;
  const certificatePem = toPem(
    buildCertificate({
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(issuedAt - BACKDATE_MS),
      notAfter: new Date(notAfterMs),
      publicKey,
      extensions: [basicConstraints({ pathLength: 0 }), keyUsage([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]), subjectKeyIdentifier(keyId)],
      signingKey: privateKey,
    }),
  );
  const issuer: Issuer = { name, keyId, signingKey: privateKey, notAfterMs };
  const cache = new Map<string, CachedLeaf>();

  return Object.freeze({
    certificatePem,
    notAfter: new Date(notAfterMs),
    writeCertificate(path: string): void {
      writeAtomically(path, certificatePem, 0o644);
    },
    leafFor(hostname: string): LeafCertificate {
      const host = normaliseHostname(hostname);
      const at = now();
      const cached = cache.get(host);
      cache.delete(host);
      const entry = cached && cached.notAfterMs - at > LEAF_RENEW_BEFORE_MS ? cached : issueLeaf(issuer, host, at);
      cache.set(host, entry); // re-inserted last: the Map's order is least recently used first
      while (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
      return entry.leaf;
    },
  });
}

/** What signing a leaf needs from the CA, kept in the closure only. */
interface Issuer {
  name: string;
  keyId: Buffer;
  signingKey: KeyObject;
  notAfterMs: number;
}

/** Issues a fresh leaf for an already-normalised host with a key of its own. */
function issueLeaf(issuer: Issuer, host: string, at: number): CachedLeaf {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notAfterMs = Math.min(at + LEAF_LIFETIME_MS, issuer.notAfterMs);
  const commonName = host.length <= COMMON_NAME_MAX ? host : null;
  const cert = toPem(
    buildCertificate({
      serial: randomSerial(),
      issuer: issuer.name,
      subject: commonName,
      notBefore: new Date(at - BACKDATE_MS),
      notAfter: new Date(notAfterMs),
      publicKey,
      extensions: [
        basicConstraints(null),
        keyUsage([KEY_USAGE.digitalSignature]),
        extKeyUsageServerAuth(),
        subjectAltName(host, commonName === null),
        authorityKeyIdentifier(issuer.keyId),
      ],
      signingKey: issuer.signingKey,
    }),
  );
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { leaf: { key, cert }, notAfterMs };
}

/** One DNS label: letters, digits and inner hyphens, 1–63 characters. */
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The name a leaf is issued for: an IP literal as given, else a DNS name in lower case
 * without a trailing dot. Anything else (wildcards, spaces, Unicode not yet in punycode)
 * is refused: the leaf must name exactly the host the tool asked for.
 */
export function normaliseHostname(hostname: string): string {
  // A zone id (fe80::1%eth0) names an interface, not an address a certificate can hold.
  if (isIP(hostname) !== 0 && !hostname.includes('%')) return hostname.toLowerCase();
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (name.length > 0 && name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label))) return name;
  throw new PluginRuntimeError('config_invalid', `leafFor: hostname ${JSON.stringify(hostname)} is neither a DNS name nor an IP literal`, {
    details: {
      source: 'leafFor',
      issues: [
        {
          path: 'hostname',
          message: 'must be a DNS name (letters, digits, hyphens; dot-separated labels) or an IP literal',
          expected: 'hostname',
          received: JSON.stringify(hostname),
        },
      ],
    },
  });
}
