import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of entropy in a launch token. */
export const LAUNCH_TOKEN_BYTES = 32;

/** SHA-256 of a token: what the host keeps instead of the token itself. */
export function digestToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** A fresh token (32 CSPRNG bytes, base64url) and the digest the host keeps to verify it. */
export function mintLaunchToken(): { token: string; digest: Buffer } {
  const token = randomBytes(LAUNCH_TOKEN_BYTES).toString('base64url');
  return { token, digest: digestToken(token) };
}

/** Constant-time comparison of two digests of equal length. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
