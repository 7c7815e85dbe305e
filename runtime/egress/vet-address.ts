import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { canonicalAddress, hostDenied, specialRangeOf } from '../policy/network-ranges.ts';
import { wildcardDomain } from '../scopes/network-scope.ts';
import type { EgressRule } from './egress-rules.ts';

/** One address a name resolved to. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** What the gateway consults to judge where a connection would really go. */
export interface VetContext {
  /** The policy's `deny.hosts` (names, addresses, CIDR ranges): they win over every grant. */
  denyHosts: readonly string[];
  /** The addresses of this machine's own interfaces, now. */
  ownAddresses(): ReadonlySet<string>;
  /** The host's resolver (its hosts file, then DNS): every address for a name. */
  lookup(name: string): Promise<ResolvedAddress[]>;
  /** How long a resolution may take before the connection is refused. */
  resolveTimeoutMs: number;
}

/** Where to dial, or why not. */
export type Vetted = { ok: true; address: string; family: 4 | 6 } | { ok: false; reason: string; address?: string };

/** The system resolver, every address, in the order it gives them. */
export function systemLookup(name: string): Promise<ResolvedAddress[]> {
  return dnsLookup(name, { all: true, verbatim: true });
}

const asEntry = (address: string) => (isIP(address) === 6 ? `[${address}]` : address);

/**
 * A deny entry covers the name: as `hostDenied` has it, or a `*.domain[:port]` entry with
 * the name below the domain (on every port, as at grant time).
 */
function nameDenied(host: string, deny: string): boolean {
  const domain = wildcardDomain(deny);
  if (domain !== null) return isIP(host) === 0 && host.endsWith(`.${domain}`);
  return hostDenied(asEntry(host), deny);
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Why one resolved address may not be dialled under `rule`, or null. */
function addressRefusal(host: string, address: string, rule: EgressRule, context: VetContext): string | null {
  const canonical = canonicalAddress(asEntry(address));
  const denied = context.denyHosts.findIndex((deny) => hostDenied(asEntry(address), deny));
  if (denied !== -1) return `${host} resolves to ${address}, which policy deny.hosts[${denied}] ("${context.denyHosts[denied]}") denies`;
  if (rule.named) return null;
  const via = address === host ? '' : `${host} resolves to `;
  const range = specialRangeOf(asEntry(address));
  if (range) return `${via}${address} (${range}): only a host the policy names exactly may reach a ${range} address`;
  const own = context.ownAddresses();
  if (own.has(address) || own.has(canonical)) return `${via}${address}, an address of this machine: only a host the policy names exactly may reach it`;
  return null;
}

/**
 * Resolves `host` once, with the host's own resolver, and picks the first address the rule
 * may reach: never a special one (loopback, private, link-local, CGNAT, metadata,
 * unspecified, multicast, reserved, their IPv4-mapped, NAT64 and IPv4-compatible forms) or
 * one of this machine's own unless the operator named the host exactly, never one
 * `deny.hosts` covers. The caller dials exactly that address, so a second answer from DNS
 * (rebinding) is never asked for.
 */
export async function vetDestination(host: string, rule: EgressRule, context: VetContext): Promise<Vetted> {
  const deniedName = context.denyHosts.findIndex((deny) => nameDenied(host, deny));
  if (deniedName !== -1) return { ok: false, reason: `policy deny.hosts[${deniedName}] ("${context.denyHosts[deniedName]}")` };
  let candidates: ResolvedAddress[];
  if (isIP(host) !== 0) {
    candidates = [{ address: host, family: isIP(host) }];
  } else {
    try {
      candidates = await withDeadline(context.lookup(host), context.resolveTimeoutMs, `resolving ${host}`);
    } catch (error) {
      return { ok: false, reason: `${host} does not resolve: ${(error as Error).message}` };
    }
    if (candidates.length === 0) return { ok: false, reason: `${host} resolves to no address` };
  }
  let first: { reason: string; address: string } | undefined;
  for (const { address, family } of candidates) {
    const refusal = addressRefusal(host, address, rule, context);
    if (refusal === null) return { ok: true, address, family: family === 6 ? 6 : 4 };
    first ??= { reason: refusal, address };
  }
  return { ok: false, ...first! };
}
