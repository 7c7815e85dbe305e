import t from 'tap';
import { egressRule, type EgressRule } from '../../runtime/egress/egress-rules.ts';
import { vetDestination, type ResolvedAddress, type VetContext } from '../../runtime/egress/vet-address.ts';

const family = (address: string) => (address.includes(':') ? 6 : 4);

/** A context whose resolver answers from `names` (no real DNS) and counts what it was asked. */
function contextWith(names: Record<string, string[]>, extra: Partial<VetContext> = {}): VetContext & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    denyHosts: [],
    ownAddresses: () => new Set(),
    resolveTimeoutMs: 5_000,
    lookup: async (name: string): Promise<ResolvedAddress[]> => {
      asked.push(name);
      const answer = names[name];
      if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return answer.map((address) => ({ address, family: family(address) }));
    },
    ...extra,
  };
}

const ruleFor = (host: string, named: boolean): EgressRule => egressRule(`${host}:443`, named);

t.test('a name resolving to a special address is refused under a rule the operator did not name, the range named', async (t) => {
  const cases: [string, RegExp][] = [
    ['127.0.0.1', /\(loopback\)/],
    ['127.9.9.9', /\(loopback\)/],
    ['::1', /\(loopback\)/],
    ['10.1.2.3', /\(private\)/],
    ['172.20.0.1', /\(private\)/],
    ['192.168.0.10', /\(private\)/],
    ['100.64.0.1', /\(private\)/], // CGNAT
    ['fd12:3456::1', /\(private\)/],
    ['169.254.169.254', /\(metadata\)/],
    ['169.254.1.1', /\(link-local\)/],
    ['fe80::1', /\(link-local\)/],
    ['0.0.0.0', /\(unspecified\)/],
    ['::', /\(unspecified\)/],
    ['::ffff:127.0.0.1', /\(loopback\)/], // IPv4-mapped
    ['::ffff:a9fe:a9fe', /\(metadata\)/], // IPv4-mapped, hex
    ['64:ff9b::7f00:1', /\(loopback\)/], // NAT64
    ['64:ff9b::a9fe:a9fe', /\(metadata\)/],
    ['::7f00:1', /\(loopback\)/], // IPv4-compatible
    ['224.0.0.1', /\(multicast\)/],
    ['ff02::1', /\(multicast\)/],
    ['240.0.0.1', /\(reserved\)/],
  ];
  for (const [address, range] of cases) {
    const context = contextWith({ 'site.test': [address] });
    const vetted = await vetDestination('site.test', ruleFor('site.test', false), context);
    t.equal(vetted.ok, false, `${address} refused`);
    if (vetted.ok) continue;
    t.match(vetted.reason, range, `${address}: ${vetted.reason}`);
    t.match(vetted.reason, /^site\.test resolves to /, 'the reason says what the name resolved to');
    t.equal(vetted.address, address, 'the refused address is given');
  }
});

t.test('an address of this machine is refused unless named', async (t) => {
  const own = '203.0.113.7';
  const context = contextWith({ 'me.test': [own] }, { ownAddresses: () => new Set([own]) });
  const vetted = await vetDestination('me.test', ruleFor('me.test', false), context);
  t.match(vetted, { ok: false, address: own, reason: /an address of this machine/ });
  t.match(await vetDestination('me.test', ruleFor('me.test', true), context), { ok: true, address: own, family: 4 });
  const mapped = contextWith({ 'me.test': ['::ffff:203.0.113.7'] }, { ownAddresses: () => new Set([own]) });
  t.match(await vetDestination('me.test', ruleFor('me.test', false), mapped), { ok: false, reason: /an address of this machine/ }, 'also as IPv4-mapped IPv6');
});

t.test('a rule the operator named may reach a special address', async (t) => {
  for (const address of ['127.0.0.1', '::1', '10.0.0.5', '169.254.169.254', '::ffff:127.0.0.1']) {
    const vetted = await vetDestination('svc.test', ruleFor('svc.test', true), contextWith({ 'svc.test': [address] }));
    t.same(vetted, { ok: true, address, family: family(address) }, address);
  }
});

t.test('an address asked for directly is judged without a lookup', async (t) => {
  const context = contextWith({});
  t.match(await vetDestination('127.0.0.1', ruleFor('127.0.0.1', false), context), { ok: false, address: '127.0.0.1', reason: /^127\.0\.0\.1 \(loopback\)/ });
  t.same(await vetDestination('127.0.0.1', ruleFor('127.0.0.1', true), context), { ok: true, address: '127.0.0.1', family: 4 });
  t.same(await vetDestination('::1', egressRule('[::1]:443', true), context), { ok: true, address: '::1', family: 6 });
  t.same(context.asked, [], 'nothing was resolved');
});

t.test('of several addresses the first the rule may reach is chosen', async (t) => {
  const context = contextWith({ 'mixed.test': ['127.0.0.1', '10.0.0.1', '93.184.216.34', '1.1.1.1'] });
  t.same(await vetDestination('mixed.test', ruleFor('mixed.test', false), context), { ok: true, address: '93.184.216.34', family: 4 });
  const v6 = contextWith({ 'six.test': ['::1', '2606:4700::1111'] });
  t.same(await vetDestination('six.test', ruleFor('six.test', false), v6), { ok: true, address: '2606:4700::1111', family: 6 });
  const all = contextWith({ 'none.test': ['10.0.0.1', '127.0.0.1'] });
  t.match(await vetDestination('none.test', ruleFor('none.test', false), all), { ok: false, address: '10.0.0.1', reason: /\(private\)/ }, 'none: the first refusal is given');
});

t.test('deny.hosts wins over every rule, named ones too', async (t) => {
  const byCidr = contextWith({ 'named.test': ['10.9.8.7'] }, { denyHosts: ['192.0.2.0/24', '10.9.0.0/16'] });
  const vetted = await vetDestination('named.test', ruleFor('named.test', true), byCidr);
  t.match(vetted, { ok: false, address: '10.9.8.7', reason: /deny\.hosts\[1\] \("10\.9\.0\.0\/16"\)/ });
  const public_ = contextWith({ 'pub.test': ['93.184.216.34'] }, { denyHosts: ['93.184.216.0/24'] });
  t.match(await vetDestination('pub.test', ruleFor('pub.test', false), public_), { ok: false, reason: /deny\.hosts\[0\]/ }, 'a public address the policy denies');
  const mapped = contextWith({ 'm.test': ['::ffff:10.9.8.7'] }, { denyHosts: ['10.9.0.0/16'] });
  t.match(await vetDestination('m.test', ruleFor('m.test', true), mapped), { ok: false, reason: /deny\.hosts\[0\]/ }, 'an IPv4-mapped answer is denied by its IPv4 range');
  const v6 = contextWith({ 'v6.test': ['2001:db8::1'] }, { denyHosts: ['[2001:db8:0:0::1]'] });
  t.match(await vetDestination('v6.test', ruleFor('v6.test', true), v6), { ok: false, reason: /deny\.hosts\[0\]/ }, 'an IPv6 deny entry in another spelling');
  const fallback = contextWith({ 'two.test': ['10.9.8.7', '93.184.216.34'] }, { denyHosts: ['10.9.0.0/16'] });
  t.same(await vetDestination('two.test', ruleFor('two.test', true), fallback), { ok: true, address: '93.184.216.34', family: 4 }, 'a denied answer is skipped for the next');
});

t.test('deny.hosts by name refuses before anything is resolved', async (t) => {
  const context = contextWith({ 'evil.test': ['93.184.216.34'] }, { denyHosts: ['other.test', 'evil.test'] });
  t.match(await vetDestination('evil.test', ruleFor('evil.test', true), context), { ok: false, reason: /deny\.hosts\[1\] \("evil\.test"\)/ });
  t.same(context.asked, [], 'the name was never resolved');
  const address = contextWith({}, { denyHosts: ['2130706433'] });
  t.match(await vetDestination('127.0.0.1', ruleFor('127.0.0.1', true), address), { ok: false, reason: /deny\.hosts\[0\]/ }, 'an address denied in another spelling');
});

t.test('a lookup that never settles is refused once resolveTimeoutMs passes', async (t) => {
  let calls = 0;
  const context: VetContext = {
    denyHosts: [],
    ownAddresses: () => new Set(),
    resolveTimeoutMs: 50,
    lookup: () => {
      calls++;
      return new Promise<never>(() => {});
    },
  };
  const vetted = await vetDestination('stuck.test', ruleFor('stuck.test', true), context);
  t.match(vetted, { ok: false, reason: /stuck\.test does not resolve: resolving stuck\.test took longer than 50 ms/ });
  t.equal(calls, 1);
});

t.test('a name that resolves to nothing, or fails to resolve, is refused', async (t) => {
  const context = contextWith({ 'empty.test': [] });
  t.match(await vetDestination('empty.test', ruleFor('empty.test', true), context), { ok: false, reason: 'empty.test resolves to no address' });
  t.match(await vetDestination('gone.test', ruleFor('gone.test', true), context), { ok: false, reason: /gone\.test does not resolve: .*ENOTFOUND/ });
});

t.test('the name is resolved once per judgement: a second answer is never asked for', async (t) => {
  let calls = 0;
  const context: VetContext = {
    denyHosts: [],
    ownAddresses: () => new Set(),
    resolveTimeoutMs: 5_000,
    lookup: async () => (calls++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }]),
  };
  t.same(await vetDestination('rebind.test', ruleFor('rebind.test', false), context), { ok: true, address: '93.184.216.34', family: 4 });
  t.equal(calls, 1);
  t.match(await vetDestination('rebind.test', ruleFor('rebind.test', false), context), { ok: false, reason: /\(loopback\)/ }, 'the next judgement sees the new answer and refuses it');
});
