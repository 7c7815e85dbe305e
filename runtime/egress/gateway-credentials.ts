import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const digest = (secret: string) => createHash('sha256').update(secret).digest();

/** A user name as the client may have sent it percent-encoded; null when the encoding is malformed. */
function decodeUser(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * The per-launch credentials the gateway accepts: a user name (the launch id) and a random
 * password, sent by the tool's HTTP client as `Proxy-Authorization: Basic …` (the proxy
 * URL in its environment carries them). Only a digest is kept; a credential dies with its
 * launch, so one launch's can never be used by another.
 */
export class GatewayCredentials<T> {
  readonly #byUser = new Map<string, { digest: Buffer; value: T }>();

  /** A fresh credential for `user`, standing for `value` until revoked. */
  issue(user: string, value: T): { user: string; password: string } {
    const password = randomBytes(32).toString('base64url');
    this.#byUser.set(user, { digest: digest(password), value });
    return { user, password };
  }

  revoke(user: string): void {
    this.#byUser.delete(user);
  }

  /** The value a `Proxy-Authorization` header stands for, or undefined (compared in constant time). */
  verify(header: string | undefined): T | undefined {
    const match = /^Basic\s+([A-Za-z0-9+/=]{1,512})$/i.exec(header?.trim() ?? '');
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    // A tool writes this header itself: a malformed escape is a wrong credential, never a throw.
    const user = decodeUser(decoded.slice(0, colon));
    const entry = user === null ? undefined : this.#byUser.get(user);
    if (!entry) return undefined;
    return timingSafeEqual(entry.digest, digest(decoded.slice(colon + 1))) ? entry.value : undefined;
  }
}
