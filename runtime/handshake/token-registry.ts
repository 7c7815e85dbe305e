import { digestsEqual, digestToken, mintLaunchToken } from './launch-token.ts';

export type HandshakeFailureReason =
  | 'bad_token'
  | 'timeout'
  | 'replay'
  | 'frame_before_hello'
  | 'garbage'
  | 'protocol_mismatch'
  | 'exited';

interface Entry {
  launchId: string;
  digest: Buffer;
  burned: boolean;
  deadline: number;
}

/** How many spent tokens are remembered so a replay is named as one. */
const SPENT_MEMORY = 10_000;

/**
 * Every launch token this runtime minted, by launch. A token is good once: it is burned
 * on its first presentation, right or wrong, and dies at its deadline. A token that was
 * minted for another launch, or already burned, is a replay.
 */
export class TokenRegistry {
  readonly #byLaunch = new Map<string, Entry>();
  /** Digest (hex) → launch id, for every token minted and not yet forgotten. */
  readonly #known = new Map<string, string>();

  /** Mints a token for `launchId`; the registry keeps only its digest. */
  issue(launchId: string, timeoutMs: number, now = Date.now()): string {
    const { token, digest } = mintLaunchToken();
    this.#byLaunch.set(launchId, { launchId, digest, burned: false, deadline: now + timeoutMs });
    this.#known.set(digest.toString('hex'), launchId);
    if (this.#known.size > SPENT_MEMORY) this.#known.delete(this.#known.keys().next().value!);
    return token;
  }

  /** Checks a presented token against `launchId`'s, burning it. Returns null on success. */
  redeem(launchId: string, presented: string, now = Date.now()): HandshakeFailureReason | null {
    const entry = this.#byLaunch.get(launchId);
    if (entry === undefined) return 'replay';
    const wasBurned = entry.burned;
    entry.burned = true;
    if (now > entry.deadline) return 'timeout';
    const digest = digestToken(presented);
    const matches = digestsEqual(digest, entry.digest);
    if (matches) return wasBurned ? 'replay' : null;
    return this.#known.has(digest.toString('hex')) ? 'replay' : 'bad_token';
  }

  /** Burns a launch's token without a presentation (deadline passed, process gone). */
  burn(launchId: string): void {
    const entry = this.#byLaunch.get(launchId);
    if (entry) entry.burned = true;
  }

  /** Forgets a finished launch; its digest stays known so a later replay is named. */
  retire(launchId: string): void {
    this.#byLaunch.delete(launchId);
  }
}
