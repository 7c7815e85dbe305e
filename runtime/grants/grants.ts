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

export const NO_GRANTS: Grants = Object.freeze({
  provideTools: false,
  network: [],
  secrets: [],
  read: [],
  write: [],
}) as Grants;
