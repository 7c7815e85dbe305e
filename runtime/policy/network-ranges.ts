import { BlockList, isIP } from 'node:net';
import { parseNetworkHost } from '../scopes/network-scope.ts';
import { HOSTS_FILE, type LocalNames } from './local-names.ts';

export type SpecialRange = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

const RANGES: [SpecialRange, string, number, 'ipv4' | 'ipv6'][] = [
  ['metadata', '169.254.169.254', 32, 'ipv4'],
  ['metadata', '100.100.100.200', 32, 'ipv4'],
  ['metadata', 'fd00:ec2::254', 128, 'ipv6'],
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['loopback', '::1', 128, 'ipv6'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'],
  ['private', 'fc00::', 7, 'ipv6'],
  ['link-local', '169.254.0.0', 16, 'ipv4'],
  ['link-local', 'fe80::', 10, 'ipv6'],
  // Site-local (deprecated, still routed inside some networks) and local-use NAT64.
  ['private', 'fec0::', 10, 'ipv6'],
  ['private', '64:ff9b:1::', 48, 'ipv6'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '240.0.0.0', 4, 'ipv4'],
];

const SPECIAL_NAMES: Record<string, SpecialRange> = {
  localhost: 'loopback',
  'localhost.localdomain': 'loopback',
  'ip6-localhost': 'loopback',
  'metadata.google.internal': 'metadata',
  'metadata.goog': 'metadata',
  'instance-data': 'metadata',
};

/** Every special range as a CIDR, for flags that list them (Deno's `--deny-net`). */
export const SPECIAL_CIDRS: readonly { range: SpecialRange; cidr: string }[] = RANGES.map(([range, address, prefix]) => ({ range, cidr: `${address}/${prefix}` }));

const lists = new Map<SpecialRange, BlockList>();
for (const [range, address, prefix, family] of RANGES) {
  if (!lists.has(range)) lists.set(range, new BlockList());
  lists.get(range)!.addSubnet(address, prefix, family);
}

/** The bare address of a host entry: brackets removed from IPv6. */
export function hostAddress(entry: string): string {
  const { host } = parseNetworkHost(entry);
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * The address a host entry reaches, as the OS resolver reads it. Deno checks a name as
 * written and then resolves it, and inet_aton accepts IPv4 in other spellings ("127.1",
 * "2130706433", "0x7f000001", "0177.0.0.1"), so judging the text alone would let loopback
 * or metadata pass as a public name. The WHATWG URL parser reads IPv4 the way inet_aton
 * does; IPv4-mapped IPv6 becomes its IPv4 part, other IPv6 its compressed form. Names stay names.
 */
export function canonicalAddress(entry: string): string {
  const address = hostAddress(entry);
  const family = isIP(address);
  if (family === 4) return address;
  let parsed: string;
  try {
    parsed = new URL(family === 6 ? `http://[${address}]/` : `http://${address}/`).hostname;
  } catch {
    return address; // not an address in any spelling: the resolver treats it as a name
  }
  if (isIP(parsed) === 4) return parsed;
  // IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d: a gateway that translates it
  // dials the IPv4 address) and IPv4-compatible (::a.b.c.d) forms are judged as that address.
  const mapped = /^\[(?:::ffff:|64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(parsed);
  if (mapped) {
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
  }
  // Any other IPv6 in its one compressed lower-case spelling, so "[2001:db8:0::1]" is the
  // address a deny entry "[2001:db8::1]" names.
  return parsed.startsWith('[') ? parsed.slice(1, -1) : address;
}

/**
 * The special range a `host`/`host:port` entry falls in, or null for an ordinary public
 * host. Addresses are judged by {@link canonicalAddress}: every IPv4 spelling, and
 * IPv4-mapped IPv6 by its IPv4 part.
 */
export function specialRangeOf(entry: string): SpecialRange | null {
  const name = hostAddress(entry).replace(/\.$/, '');
  const named = SPECIAL_NAMES[name] ?? (name.endsWith('.localhost') ? 'loopback' : undefined);
  if (named) return named;
  const address = canonicalAddress(entry);
  const family = isIP(address);
  if (family === 0) return null;
  for (const [range, list] of lists) {
    if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return range;
  }
  return null;
}

/**
 * Why an entry that is no special range as written still leads to this machine or to one,
 * by the machine's own resolution: a name its hosts file maps to a special address
 * (`localhost4`, `ip6-loopback`, whatever an image adds), the machine's own host name, or
 * an address of one of its interfaces. Null when none of these holds; what a DNS server
 * answers for a name is not known here (the egress gateway's to judge).
 */
export function localNameReason(entry: string, local: LocalNames): string | null {
  const name = hostAddress(entry).replace(/\.$/, '');
  if (isIP(name) === 0) {
    if (local.ownNames.has(name)) return `"${name}" is this machine's own name`;
    const mapped = local.hosts.get(name);
    const range = mapped === undefined ? null : specialRangeOf(isIP(mapped) === 6 ? `[${mapped}]` : mapped);
    return range ? `${HOSTS_FILE} maps "${name}" to ${mapped} (${range})` : null;
  }
  const address = canonicalAddress(entry);
  return local.ownAddresses.has(address) ? `${address} is an address of this machine` : null;
}

/**
 * A host entry or deny entry as deny entries are compared: its canonical address, or its
 * name without a trailing dot. An IPv6 address the operator wrote without brackets is read
 * as that address (split as `host:port` its last group would pass for a port, and the
 * entry would deny nothing).
 */
function comparableHost(entry: string): string {
  return canonicalAddress(isIP(entry) === 6 ? `[${entry}]` : entry).replace(/\.$/, '');
}

/** True when `entry`'s host matches a deny entry: an exact name (trailing dot or not) or address (in any spelling), or a CIDR range. */
export function hostDenied(entry: string, deny: string): boolean {
  const address = comparableHost(entry);
  const cidr = parseCidr(deny);
  if (cidr) {
    const family = isIP(address);
    if (family === 0 || family !== cidr.family) return false;
    const list = new BlockList();
    list.addSubnet(cidr.address, cidr.prefix, family === 4 ? 'ipv4' : 'ipv6');
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
  return address === comparableHost(deny);
}

/** `address/prefix` with an IP address and a prefix its family allows, else null. */
export function parseCidr(entry: string): { address: string; prefix: number; family: 4 | 6 } | null {
  const match = /^(.+)\/(\d{1,3})$/.exec(entry);
  if (!match) return null;
  const family = isIP(match[1]!);
  const prefix = Number(match[2]);
  if (family !== 4 && family !== 6) return null;
  if (prefix > (family === 4 ? 32 : 128)) return null;
  return { address: match[1]!, prefix, family };
}
