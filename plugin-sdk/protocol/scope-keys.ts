/**
 * Capability-token scope keys, shared by host and SDK (no `node:*` imports). `welcome`
 * carries one token per granted scope in `capabilityTokens`, keyed as built here; the
 * host mints under the same key the SDK looks up.
 *
 * @module
 */

/** The capabilities whose requests carry a capability token. */
export type TokenCapability = 'access-secret';

/**
 * The key of one capability scope: `<capability>:<scope>`.
 *
 * @example
 * capabilityScopeKey('access-secret', 'API_KEY'); // 'access-secret:API_KEY'
 */
export function capabilityScopeKey(capability: TokenCapability, scope: string): string {
  return `${capability}:${scope}`;
}

/** The key of the token for secret `name`: `access-secret:<name>`. */
export function secretScopeKey(name: string): string {
  return capabilityScopeKey('access-secret', name);
}
