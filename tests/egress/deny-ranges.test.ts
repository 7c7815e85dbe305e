import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { denyNetFor, withoutAddress } from '../../runtime/egress/deny-ranges.ts';
import { EgressGateway } from '../../runtime/egress/egress-gateway.ts';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';
import { parseCidr } from '../../runtime/policy/network-ranges.ts';

const ipv4 = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join('.');
const ipv4Value = (address: string) => address.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/** A BlockList holding every CIDR (or bracketed IPv6 address) of a list; throws on one node:net does not read. */
function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    // An `address:port` entry denies one port of an address, not the address: see deny-net-ports.test.ts.
    if (/^(\[[^\]]+\]|[\d.]+):\d+$/.test(entry)) continue;
    if (/^\[.+\]$/.test(entry)) {
      list.addAddress(entry.slice(1, -1), 'ipv6');
      continue;
    }
    const cidr = parseCidr(entry);
    if (!cidr) throw new Error(`not a CIDR: ${entry}`);
    list.addSubnet(cidr.address, cidr.prefix, cidr.family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

const blocked = (list: BlockList, address: string) => list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');

/** Checks that `pieces` are aligned, valid, pairwise disjoint IPv4 CIDRs inside `base/prefix` that cover it all but `hole`. */
function coversAllButHole(pieces: readonly string[], base: number, prefix: number, hole: number): string | null {
  const size = 2 ** (32 - prefix);
  let total = 0;
  const parsed = pieces.map((piece) => {
    const cidr = parseCidr(piece);
    if (!cidr || cidr.family !== 4) throw new Error(`not an IPv4 CIDR: ${piece}`);
    const start = ipv4Value(cidr.address);
    const width = 2 ** (32 - cidr.prefix);
    if (start % width !== 0) throw new Error(`${piece} is not aligned`);
    return { piece, start, width, list: blockListOf([piece]) };
  });
  for (const { piece, start, width } of parsed) {
    if (start < base || start + width > base + size) return `${piece} is outside the block`;
    if (hole >= start && hole < start + width) return `${piece} holds the hole`;
    total += width;
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i]!;
      const b = parsed[j]!;
      if (a.list.check(ipv4(b.start)) || b.list.check(ipv4(a.start))) return `${a.piece} and ${b.piece} overlap`;
    }
  }
  // Disjoint, inside the block, the hole left out, and one address short of the block: exactly the rest.
  return total === size - 1 ? null : `the pieces hold ${total} addresses, not ${size - 1}`;
}

t.test('withoutAddress leaves one address out of a block, as its JSDoc example says', async (t) => {
  t.same(withoutAddress('127.0.0.0/30', '127.0.0.1'), ['127.0.0.0/32', '127.0.0.2/31']);
  t.same(withoutAddress('10.0.0.0/8', '10.0.0.0'), coversPiecesOf('10.0.0.0/8', '10.0.0.0'), 'the hole at the start of the block');
  t.equal(coversAllButHole(withoutAddress('127.0.0.0/8', '127.255.255.255'), ipv4Value('127.0.0.0'), 8, ipv4Value('127.255.255.255')), null, 'the hole at its end');
  t.same(withoutAddress('169.254.169.254/32', '169.254.169.254'), [], 'a /32 without its one address is nothing');
});

function coversPiecesOf(cidr: string, hole: string): string[] {
  const pieces = withoutAddress(cidr, hole);
  const block = parseCidr(cidr)!;
  const problem = coversAllButHole(pieces, ipv4Value(block.address), block.prefix, ipv4Value(hole));
  if (problem) throw new Error(problem);
  return pieces;
}

t.test('withoutAddress returns a block that does not hold the address whole', async (t) => {
  t.same(withoutAddress('10.0.0.0/8', '11.0.0.1'), ['10.0.0.0/8']);
  t.same(withoutAddress('10.0.0.0/8', '9.255.255.255'), ['10.0.0.0/8']);
  t.same(withoutAddress('127.0.0.0/8', '::1'), ['127.0.0.0/8'], 'another family');
  t.same(withoutAddress('::1/128', '127.0.0.1'), ['::1/128'], 'another family');
  t.same(withoutAddress('not a cidr', '127.0.0.1'), ['not a cidr']);
});

t.test('withoutAddress on an IPv6 /128: the address itself leaves nothing, another leaves it whole', async (t) => {
  t.same(withoutAddress('::1/128', '::1'), []);
  t.same(withoutAddress('::1/128', '0:0:0:0:0:0:0:1'), [], 'the address in another spelling');
  t.same(withoutAddress('::1/128', '::2'), ['::1/128']);
  t.same(withoutAddress('::/128', '::'), []);
  t.same(withoutAddress('fd00:ec2::254/128', 'fd00:ec2::254'), []);
  t.same(withoutAddress('fd00:ec2::254/128', 'fd00:ec2::255'), ['fd00:ec2::254/128']);
});

t.test('property: withoutAddress on a random IPv4 block and hole gives valid CIDRs covering all of it but the hole', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 0xffffffff }), (seed, prefix, offset) => {
      const size = 2 ** (32 - prefix);
      const base = Math.floor(seed / size) * size;
      const hole = base + (offset % size);
      const pieces = withoutAddress(`${ipv4(base)}/${prefix}`, ipv4(hole));
      const list = blockListOf(pieces);
      if (list.check(ipv4(hole))) return false;
      // Spot checks through node:net itself: the neighbours of the hole and the block's ends.
      for (const probe of [base, base + size - 1, hole - 1, hole + 1, base + ((offset * 7919) % size)]) {
        if (probe < base || probe >= base + size || probe === hole) continue;
        if (!list.check(ipv4(probe))) return false;
      }
      if (base > 0 && list.check(ipv4(base - 1))) return false;
      if (base + size <= 0xffffffff && list.check(ipv4(base + size))) return false;
      return coversAllButHole(pieces, base, prefix, hole) === null;
    }),
    { numRuns: 1500 },
  );
  t.pass('no counterexample');
});

t.test('property: every address of a small IPv4 block but the hole is covered (checked one by one)', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 24, max: 32 }), fc.nat(), (seed, prefix, offset) => {
      const size = 2 ** (32 - prefix);
      const base = (seed * 256) % 2 ** 32 - (((seed * 256) % 2 ** 32) % size);
      const hole = base + (offset % size);
      const list = blockListOf(withoutAddress(`${ipv4(base)}/${prefix}`, ipv4(hole)));
      for (let n = base; n < base + size; n++) if (list.check(ipv4(n)) !== (n !== hole)) return false;
      return true;
    }),
    { numRuns: 200 },
  );
  t.pass('no counterexample');
});

t.test('property: IPv6 blocks lose exactly their hole, in spellings node:net reads', async (t) => {
  const group = fc.integer({ min: 0, max: 0xffff });
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.integer({ min: 112, max: 128 }), fc.nat(), fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }), (groups, prefix, offset, zeroed) => {
      // Zeroed groups make runs of zeros, where compression can go wrong.
      const bits = groups.reduce((n, g, i) => (n << 16n) | BigInt(zeroed[i] ? 0 : g), 0n);
      const span = BigInt(128 - prefix);
      const base = (bits >> span) << span;
      const hole = base + (BigInt(offset) % (1n << span));
      const text = (v: bigint) => Array.from({ length: 8 }, (_, i) => ((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16)).join(':');
      const pieces = withoutAddress(`${text(base)}/${prefix}`, text(hole));
      for (const piece of pieces) if (isIP(piece.split('/')[0]!) !== 6) return false;
      const list = new BlockList();
      for (const piece of pieces) {
        const [address, bitsText] = piece.split('/');
        list.addSubnet(address!, Number(bitsText), 'ipv6');
      }
      if (list.check(text(hole), 'ipv6')) return false;
      for (let n = base; n < base + (1n << span) && n < base + 4096n; n++) if (n !== hole && !list.check(text(n), 'ipv6')) return false;
      return pieces.length === 128 - prefix;
    }),
    { numRuns: 300 },
  );
  t.pass('no counterexample');
});

const GATEWAY = '127.45.67.89';

/** Addresses inside the special ranges (IPv4 CIDRs, single IPv6 addresses) Deno is to refuse. */
const SPECIAL_SAMPLES = ['127.0.0.1', '127.0.0.2', '127.255.255.255', '10.0.0.1', '10.255.255.254', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '100.127.255.254', '169.254.0.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255', '::1', '::', 'fd00:ec2::254'];

t.test('denyNetFor denies every special address but the gateway and literally granted ones', async (t) => {
  const deny = denyNetFor(['api.example.com:443', '10.1.2.3:5432', '2130706433:80', '[::1]:8080', '[::ffff:169.254.169.254]', '*.example.org'], GATEWAY);
  const list = blockListOf(deny);
  t.notOk(blocked(list, GATEWAY), 'the gateway stays reachable');
  for (const hole of ['10.1.2.3', '127.0.0.1', '::1', '169.254.169.254']) t.notOk(blocked(list, hole), `${hole} is granted literally`);
  for (const address of SPECIAL_SAMPLES.filter((a) => !['127.0.0.1', '::1', '169.254.169.254'].includes(a))) t.ok(blocked(list, address), `${address} stays denied`);
  for (const address of ['10.1.2.2', '10.1.2.4', '127.45.67.88', '127.45.67.90', '169.254.169.253']) t.ok(blocked(list, address), `${address}, next to a hole, stays denied`);
  for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700::1111']) t.notOk(blocked(list, address), `${address} is public: not Deno's to deny`);
  t.equal(new Set(deny).size, deny.length, 'no entry twice');
});

t.test('denyNetFor with no literal grant denies 127.0.0.1 and every sample, the gateway excepted', async (t) => {
  const deny = denyNetFor(['api.example.com'], GATEWAY);
  const list = blockListOf(deny);
  t.notOk(blocked(list, GATEWAY));
  for (const address of SPECIAL_SAMPLES) t.ok(blocked(list, address), address);
  t.ok(deny.includes('[::1]') && deny.includes('[::]') && deny.includes('[fd00:ec2::254]'), 'the single IPv6 addresses are there, bracketed');
});

t.test('every denyNetFor entry is an IPv4 CIDR or a bracketed IPv6 address, the forms Deno takes', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffff }),
      fc.array(fc.oneof(fc.constantFrom('127.0.0.1', '10.0.0.7:80', '[::1]', '0x7f000002', 'example.com', '192.168.4.4:22', '[::ffff:10.9.9.9]'), fc.ipV4()), { maxLength: 5 }),
      (seed, network) => {
        const gateway = `127.${(seed >> 16) & 0xff}.${(seed >> 8) & 0xff}.${seed & 0xff}`;
        const deny = denyNetFor(network, gateway);
        for (const entry of deny) {
          const cidr = parseCidr(entry);
          const v4 = /^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/.test(entry) && cidr?.family === 4;
          const v6 = /^\[[0-9a-f:]+\]$/.test(entry) && isIP(entry.slice(1, -1)) === 6;
          if (!v4 && !v6) return false;
        }
        const list = blockListOf(deny);
        if (blocked(list, gateway)) return false;
        const holes = network.map((entry) => {
          const host = entry.startsWith('[') ? entry.slice(1, entry.indexOf(']')) : entry.split(':')[0]!;
          return host === '0x7f000002' ? '127.0.0.2' : host.replace(/^::ffff:/, '');
        });
        for (const hole of holes) if (isIP(hole) !== 0 && blocked(list, hole)) return false;
        return holes.includes('127.0.0.1') || gateway === '127.0.0.1' || blocked(list, '127.0.0.1');
      },
    ),
    { numRuns: 300 },
  );
  t.pass('no counterexample');
});

t.test('Deno takes the list: a denied loopback address is NotCapable, the gateway-like hole is not', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'deny-net-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const hole = EgressGateway.randomLoopback();
  writeFileSync(
    path.join(dir, 'probe.ts'),
    [
      'const outcomes: Record<string, string> = {};',
      'for (const hostname of Deno.args) {',
      '  try {',
      '    const conn = await Deno.connect({ hostname, port: 9 });',
      '    conn.close();',
      "    outcomes[hostname] = 'connected';",
      '  } catch (error) {',
      '    outcomes[hostname] = (error as Error).name;',
      '  }',
      '}',
      'console.log(JSON.stringify(outcomes));',
      '',
    ].join('\n'),
  );
  const deny = denyNetFor([], hole);
  t.ok(deny.length > 20, 'the loopback /8 is split around the hole');
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(
      bundledDenoPath(),
      ['run', '--no-prompt', '--allow-net', `--deny-net=${deny.join(',')}`, path.join(dir, 'probe.ts'), '127.0.0.5', hole],
      { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir, DENO_DIR: path.join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' } },
      (error, out, err) => (error ? reject(new Error(`deno failed: ${error.message}\n${err}`)) : resolve(out)),
    ),
  );
  const outcomes = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string>;
  t.equal(outcomes['127.0.0.5'], 'NotCapable', '127.0.0.5 is in a denied piece');
  t.not(outcomes[hole], 'NotCapable', `${hole} is the hole Deno lets through`);
  t.not(outcomes[hole], undefined);
});
