import { isIP } from 'node:net';
import { parseNetworkHost } from '../scopes/network-scope.ts';
import { canonicalAddress } from '../policy/network-ranges.ts';

/**
 * One network grant of a tool as the egress gateway applies it: which hosts and port it
 * covers, and whether the operator named it exactly (only then may it lead to a loopback,
 * private, link-local or other special address).
 */
export interface EgressRule {
  /** The grant as written (`api.example.com:443`, `*.example.com`, `127.0.0.1:8080`). */
  entry: string;
  /** Lower-case name without a trailing dot, the domain of a wildcard, or a canonical IP address. */
  host: string;
  /** Null: every port. */
  port: number | null;
  /** `*.domain`: names strictly below `host`, never `host` itself. */
  wildcard: boolean;
  /** True for an IP address written in the grant. */
  address: boolean;
  /**
   * The operator named this host exactly (an exact policy entry, not `"*"` or a wildcard),
   * or development mode granted what was declared: it may resolve to a special address.
   */
  named: boolean;
}

/** A host as the gateway compares it: lower case, no trailing dot, no IPv6 brackets, IP addresses canonical. */
export function normaliseHost(host: string): string {
  const bare = host.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0) return canonicalAddress(bare.includes(':') ? `[${bare}]` : bare);
  const canonical = canonicalAddress(bare);
  return isIP(canonical) === 4 ? canonical : bare;
}

/** The rule a grant entry makes; `named` says whether the operator named it exactly. Pure. */
export function egressRule(entry: string, named: boolean): EgressRule {
  const { host, port } = parseNetworkHost(entry);
  const wildcard = host.startsWith('*.');
  // A wildcard's domain is a name suffix: read as an address ("1.2.3" is 1.2.0.3) it would
  // cover names that do not end in the domain granted.
  const bare = wildcard ? host.slice(2).toLowerCase().replace(/\.$/, '') : normaliseHost(host);
  return { entry, host: bare, port: port === null ? null : Number(port), wildcard, address: !wildcard && isIP(bare) !== 0, named: named && !wildcard };
}

/**
 * The first rule that covers `host` (as the tool asked for it) on `port`, or null. A
 * wildcard covers names below its domain, never the apex; an address rule covers that
 * address in any spelling (`2130706433` is 127.0.0.1). Pure.
 */
export function matchRule(rules: readonly EgressRule[], host: string, port: number): EgressRule | null {
  const wanted = normaliseHost(host);
  const isAddress = isIP(wanted) !== 0;
  for (const rule of rules) {
    if (rule.port !== null && rule.port !== port) continue;
    if (rule.wildcard) {
      if (!isAddress && wanted.endsWith(`.${rule.host}`)) return rule;
    } else if (rule.host === wanted) {
      return rule;
    }
  }
  return null;
}
