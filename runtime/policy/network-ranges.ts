import { BlockList, isIP } from 'node:net';
import { parseNetworkHost } from '../grants/grants.ts';

export type SpecialRange = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified';

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
];

const SPECIAL_NAMES: Record<string, SpecialRange> = {
  localhost: 'loopback',
  'localhost.localdomain': 'loopback',
  'ip6-localhost': 'loopback',
  'metadata.google.internal': 'metadata',
  'metadata.goog': 'metadata',
  'instance-data': 'metadata',
};

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
 * The special range a `host`/`host:port` entry falls in, or null for an ordinary public
 * host. IPv4-mapped IPv6 addresses are judged by their IPv4 part.
 */
export function specialRangeOf(entry: string): SpecialRange | null {
  let address = hostAddress(entry);
  const named = SPECIAL_NAMES[address.replace(/\.$/, '')] ?? (address.endsWith('.localhost') ? 'loopback' : undefined);
  if (named) return named;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) address = mapped[1]!;
  const family = isIP(address);
  if (family === 0) return null;
  for (const [range, list] of lists) {
    if (list.check(address, family === 4 ? 'ipv4' : 'ipv6')) return range;
  }
  return null;
}

/** True when `entry`'s host matches a deny entry: an exact name or address, or a CIDR range. */
export function hostDenied(entry: string, deny: string): boolean {
  const address = hostAddress(entry);
  const cidr = /^(.+)\/(\d{1,3})$/.exec(deny);
  if (cidr) {
    const family = isIP(address);
    const denyFamily = isIP(cidr[1]!);
    if (family === 0 || family !== denyFamily) return false;
    const list = new BlockList();
    list.addSubnet(cidr[1]!, Number(cidr[2]), denyFamily === 4 ? 'ipv4' : 'ipv6');
    return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }
  return address === hostAddress(deny);
}
