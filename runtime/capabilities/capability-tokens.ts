import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { secretScopeKey } from '../scopes/scope-keys.ts';

/**
 * Capability tokens: HMAC-SHA256 over (launch id, capability, scope) under a key that is
 * minted per runtime and never leaves the host. A token is only good for the launch and
 * scope it was minted for, so one from another launch, scope or a finished launch fails.
 */
export class CapabilityTokens {
  readonly #key = randomBytes(32);

  mint(launchId: string, capability: string, scope: string): string {
    return createHmac('sha256', this.#key).update(`${launchId}\n${capability}\n${scope}`).digest('base64url');
  }

  verify(launchId: string, capability: string, scope: string, presented: string): boolean {
    const expected = Buffer.from(this.mint(launchId, capability, scope));
    const given = Buffer.from(presented);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The tokens a tool process receives at `welcome`: one per secret its sandbox names. */
  forSecrets(launchId: string, secrets: readonly string[]): Record<string, string> {
    const tokens: Record<string, string> = {};
    for (const name of secrets) tokens[secretScopeKey(name)] = this.mint(launchId, 'access-secret', name);
    return tokens;
  }
}
