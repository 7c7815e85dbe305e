import { isIP } from 'node:net';
import { canonicalAddress, parseCidr, SPECIAL_CIDRS, specialRangeOf } from '../policy/network-ranges.ts';
import { parseNetworkHost } from '../scopes/network-scope.ts';

/** An IP address as a number, and its width in bits. */
function toBits(address: string): { value: bigint; width: 32 | 128 } {
  if (isIP(address) === 4) return { value: address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n), width: 32 };
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = toBits(v4[1]!).value;
    text = `${text.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return { value: groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n), width: 128 };
}

function fromBits(value: bigint, width: 32 | 128): string {
  if (width === 32) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

/**
 * `cidr` without one address in it: the sibling block at each prefix length below, so
 * the result covers every address of the block but that one. A block not holding the
 * address comes back whole. Pure.
 *
 * @example
 * withoutAddress('127.0.0.0/30', '127.0.0.1'); // ['127.0.0.0/32', '127.0.0.2/31']
 */
export function withoutAddress(cidr: string, address: string): string[] {
  const block = parseCidr(cidr);
  if (!block || isIP(address) !== block.family) return [cidr];
  const { value: base, width } = toBits(block.address);
  const { value: hole } = toBits(address);
  const span = BigInt(width - block.prefix);
  if (base >> span !== hole >> span) return [cidr];
  const result: string[] = [];
  for (let prefix = block.prefix + 1; prefix <= width; prefix++) {
    const shift = BigInt(width - prefix);
    const sibling = ((hole >> shift) ^ 1n) << shift;
    result.push(`${fromBits(sibling, width)}/${prefix}`);
  }
  return result.reverse();
}

/**
 * The deny entries that close a literal grant's hole to names. Deno matches a name against
 * `--allow-net` by name and checks only `--deny-net` against the address it resolves to,
 * so once `127.0.0.1` is out of the denied ranges (for a grant of `127.0.0.1:8080`), a
 * granted name on another port (`*.evil.test:5432`, its DNS the plugin's) would reach
 * `127.0.0.1:5432`. Each such address is denied again on each port a name grant names and
 * its own grants do not. A name granted on every port cannot be closed this way (Deno has
 * no port ranges); there only the gateway and a network namespace hold. Pure.
 */
function namePortsAtHoles(network: readonly string[]): string[] {
  const literal = new Map<string, Set<number> | 'every'>();
  const namePorts = new Set<number>();
  for (const entry of network) {
    const { port } = parseNetworkHost(entry);
    const address = canonicalAddress(entry);
    if (isIP(address) === 0) {
      if (port !== null) namePorts.add(Number(port));
    } else if (specialRangeOf(entry)) {
      const ports = literal.get(address);
      literal.set(address, port === null || ports === 'every' ? 'every' : (ports ?? new Set()).add(Number(port)));
    }
  }
  const entries: string[] = [];
  for (const [address, ports] of literal) {
    if (ports === 'every') continue;
    for (const port of namePorts) if (!ports.has(port)) entries.push(`${isIP(address) === 6 ? `[${address}]` : address}:${port}`);
  }
  return entries;
}

/**
 * Deno's `--deny-net` for a tool with network grants: every special IPv4 range (loopback,
 * private, link-local, CGNAT, metadata, unspecified, multicast, reserved) and the single
 * special IPv6 addresses (`[::1]`, `[::]`, the metadata one), less the gateway's own
 * address and any address a grant names literally (deny wins in Deno, and it checks the
 * address it connects to, the proxy's included), each such address (the gateway's too,
 * given its port) denied again on the ports of the tool's name grants. Deno re-checks the
 * addresses a name resolves to against this list, so it is a second judge under the gateway's. Deno 2.9 takes IPv4 CIDRs but no IPv6
 * range (`fc00::/7` is refused in every spelling): IPv6 ranges are the gateway's and the
 * namespace's alone. Pure.
 *
 * @example
 * denyNetFor(['127.0.0.1:8080', '*.evil.test:5432'], '127.9.9.9'); // [..., '127.0.0.1:5432']
 */
export function denyNetFor(network: readonly string[], gatewayHost: string, gatewayPort?: number): string[] {
  const holes = [gatewayHost, ...network.map((entry) => canonicalAddress(entry))].filter((host) => isIP(host) !== 0);
  let cidrs = SPECIAL_CIDRS.map(({ cidr }) => cidr).filter((cidr) => isIP(cidr.split('/')[0]!) === 4 || cidr.endsWith('/128'));
  for (const hole of new Set(holes)) cidrs = cidrs.flatMap((cidr) => withoutAddress(cidr, hole));
  const ranges = [...new Set(cidrs)].map((cidr) => (cidr.endsWith('/128') ? `[${cidr.slice(0, -4)}]` : cidr));
  // The gateway's address is a hole like a literal grant on its one port: a service of this
  // machine listening on every address answers there too, on a name grant's port.
  const gateway = gatewayPort === undefined ? [] : [`${isIP(gatewayHost) === 6 ? `[${gatewayHost}]` : gatewayHost}:${gatewayPort}`];
  return [...ranges, ...namePortsAtHoles([...network, ...gateway])];
}
