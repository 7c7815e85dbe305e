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

/** Splits "host:port" / "[v6]:port" / "host" into its parts. */
export function parseNetworkHost(entry: string): { host: string; port: string | null } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: bracketed[2] ?? null };
  const colon = entry.lastIndexOf(':');
  if (colon === -1) return { host: entry.toLowerCase(), port: null };
  return { host: entry.slice(0, colon).toLowerCase(), port: entry.slice(colon + 1) };
}

/** A grant of `host` covers every port of that host; `host:port` covers only that port. */
export function networkGrantCovers(grant: string, wanted: string): boolean {
  const g = parseNetworkHost(grant);
  const w = parseNetworkHost(wanted);
  return g.host === w.host && (g.port === null || g.port === w.port);
}

/** True when canonical `wanted` is `granted` or lies inside it. */
export function pathGrantCovers(granted: string, wanted: string): boolean {
  if (wanted === granted) return true;
  const prefix = granted.endsWith('/') ? granted : `${granted}/`;
  return wanted.startsWith(prefix);
}
