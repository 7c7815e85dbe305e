/** What a plugin, or one of its tool processes, may do. Paths are canonical and absolute. */
export interface Grants {
  provideTools: boolean;
  network: string[];
  secrets: string[];
  read: string[];
  write: string[];
}

export type CapabilityName = 'provide-tools' | 'access-network' | 'access-secret' | 'access-filesystem';

/** One declared scope and whether the policy granted it, with the rule that decided. */
export interface GrantDecision {
  capability: CapabilityName;
  /** The host, secret name, `read:<path>` or `write:<path>`; `*` for provide-tools. */
  scope: string;
  granted: boolean;
  rule: string;
}

/** Grants of nothing at all: the protocol's constant, shared with the SDK (its type is proven equal to `Grants`). */
export { NO_GRANTS } from '../../plugin-sdk/protocol/constants.ts';

/**
 * A secret granted for injection only (the egress gateway puts its value into one header
 * of requests to one host; the tool never reads it). Defined with the scope code that
 * reads it, below both policy/ and grants/, and exported here with the other grant types.
 */
export type { SecretInjection } from '../scopes/injection-scope.ts';
