import t from 'tap';
import { egressRule } from '../../runtime/egress/egress-rules.ts';
import { vetDestination, type ResolvedAddress, type VetContext } from '../../runtime/egress/vet-address.ts';
import { hostDenied } from '../../runtime/policy/network-ranges.ts';

// deny.hosts as an operator may write it: a wildcard with a port, a name with a trailing
// dot, an IPv6 address without brackets. The policy's schema takes each; each must deny what it names.

/** A resolver that answers every name with one public address (no real DNS). */
function contextDenying(denyHosts: string[], answer = '93.184.216.34'): VetContext {
  return {
    denyHosts,
    ownAddresses: () => new Set(),
    resolveTimeoutMs: 5_000,
    lookup: async (): Promise<ResolvedAddress[]> => [{ address: answer, family: answer.includes(':') ? 6 : 4 }],
  };
}

t.test('a deny wildcard with a port refuses the names below its domain on every port at the gateway, as at grant time', async (t) => {
  const rule = egressRule('*.corp.example', false);
  for (const deny of ['*.internal.corp.example:443', '*.INTERNAL.corp.example:8443']) {
    const vetted = await vetDestination('db.internal.corp.example', rule, contextDenying([deny]));
    t.match(vetted, { ok: false, reason: /^policy deny\.hosts\[0\]/ }, `deny ${deny}`);
  }
  const other = await vetDestination('db.public.corp.example', rule, contextDenying(['*.internal.corp.example:443']));
  t.match(other, { ok: true }, 'a name outside the denied domain still passes');
  const apex = await vetDestination('internal.corp.example', rule, contextDenying(['*.internal.corp.example:443']));
  t.match(apex, { ok: true }, 'the apex is no name below its own domain (as for grants)');
});

t.test('a deny entry naming a host with a trailing dot refuses that host', async (t) => {
  const vetted = await vetDestination('db.corp.example', egressRule('*.corp.example', false), contextDenying(['db.corp.example.']));
  t.match(vetted, { ok: false, reason: /^policy deny\.hosts\[0\]/ });
  t.ok(hostDenied('db.corp.example:5432', 'DB.corp.example.'), 'as the grants read it too');
});

t.test('a deny entry of an IPv6 address without brackets denies that address', async (t) => {
  const rule = egressRule('*.corp.example', false);
  const vetted = await vetDestination('v6.corp.example', rule, contextDenying(['2001:db8::5'], '2001:db8::5'));
  t.match(vetted, { ok: false, address: '2001:db8::5', reason: /deny\.hosts\[0\] \("2001:db8::5"\)/ });
  t.ok(hostDenied('[2001:db8:0::5]:443', '2001:db8::5'), 'as the grants read it: in any spelling');
  t.notOk(hostDenied('[2001:db8::6]', '2001:db8::5'), 'and no other address');
});
