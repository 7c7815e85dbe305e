import t, { type Test } from 'tap';
import type { PluginHandle } from '../../runtime/index.ts';
import type { LimitsPolicy } from '../../runtime/policy/policy-schema.ts';
import { matchOne } from '../helpers/audit-log.ts';
import { egressRecords, holdingServer, plantEgressProber, type ProbeResult } from '../helpers/egress-probes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

// What one tool process may do through the egress gateway, per call: connections, bytes,
// connections open at once, and nothing at all while no call runs. A call passing a limit
// ends `resource_exhausted` naming it, with an `egress_limit` record; the process lives on
// and its next call has a whole allowance again. One loopback server granted by address.

const BIG_BYTES = 1 << 20;
const server = await holdingServer(t, 'limited', BIG_BYTES);
const S = `127.0.0.1:${server.port}`;
const manifest = plantEgressProber(t.testdir(), { probe: [S] });

function limitedRuntime(t: Test, limits: LimitsPolicy) {
  return testRuntime(t, { policy: { plugins: { 'cap-egress-prober': { 'access-network': [S], limits } } } });
}

const probe = (plugin: PluginHandle, args: object) => plugin.call('probe', args, { timeoutMs: GENEROUS_MS }) as Promise<ProbeResult>;
const urls = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `http://${S}/${tag}-${i}`);
const requestsSince = (before: number) => server.requests.slice(before);

t.test('egressConnectionsPerCall 2: a third request in one call ends it resource_exhausted; the next call has two again', async (t) => {
  const rt = limitedRuntime(t, { egressConnectionsPerCall: 2 });
  const plugin = await rt.load(manifest);
  t.match(await probe(plugin, { kind: 'sequence', urls: urls('warm', 2) }), { ok: true, results: [{ status: 200 }, { status: 200 }] }, 'positive control: two requests in one call go through');
  const pid = plugin.pids('probe')[0];

  const before = server.requests.length;
  t.match(await outcome(probe(plugin, { kind: 'sequence', urls: urls('three', 3) })), { ok: false, code: 'resource_exhausted', details: { limit: 'egress_connections_per_call' } });
  t.same(requestsSince(before), ['/three-0', '/three-1'], 'the third request never reached the server');
  matchOne(t, rt.audit.all({ type: 'egress_limit' }), { tool: 'probe', limit: 'egress_connections_per_call', reason: 'more than 2 connections in one call' }, 'one egress_limit record naming the limit');
  matchOne(t, egressRecords(rt.audit.records, { decision: 'refused' }), { kind: 'http', host: '127.0.0.1', port: server.port, rule: 'more than 2 connections in one call' }, 'the refused request is on record');
  t.equal(egressRecords(rt.audit.records, { decision: 'allowed' }).length, 4, 'the two of each call that went through are on record as allowed');

  const after = server.requests.length;
  t.match(await probe(plugin, { kind: 'sequence', urls: urls('next', 2) }), { ok: true, results: [{ status: 200, body: 'limited' }, { status: 200 }] }, 'the next call has a window of its own');
  t.same(requestsSince(after), ['/next-0', '/next-1']);
  t.same(plugin.pids('probe'), [pid], 'in the same process: a limit ends the call, not the process');
});

t.test('egressBytesPerCall 64 KiB: a 1 MiB download ends the call resource_exhausted; a small one after works', async (t) => {
  const rt = limitedRuntime(t, { egressBytesPerCall: 64 * 1024 });
  const plugin = await rt.load(manifest);
  t.match(await probe(plugin, { kind: 'fetch', url: `http://${S}/small` }), { ok: true, status: 200, body: 'limited' }, 'positive control: a small answer goes through');

  t.match(await outcome(probe(plugin, { kind: 'fetch', url: `http://${S}/big` })), { ok: false, code: 'resource_exhausted', details: { limit: 'egress_bytes_per_call' } });
  matchOne(t, rt.audit.all({ type: 'egress_limit' }), { tool: 'probe', limit: 'egress_bytes_per_call', reason: `more than ${64 * 1024} bytes through the gateway in one call` });
  const big = await waitFor('the cut download’s record', () => egressRecords(rt.audit.records)[1]);
  t.match(big, { kind: 'http', port: server.port, address: '127.0.0.1', cut: 'the call passed its egress byte limit' }, 'its record says the gateway cut it');
  t.ok(big.bytesDown! > 64 * 1024 && big.bytesDown! < BIG_BYTES, `the gateway stopped relaying soon after the limit (${big.bytesDown} of ${BIG_BYTES} bytes)`);

  t.match(await probe(plugin, { kind: 'fetch', url: `http://${S}/small-again` }), { ok: true, status: 200, body: 'limited' }, 'the next call has a byte allowance of its own');
});

t.test('egressConcurrentConnections 1: a second request while the first is open ends the call resource_exhausted', async (t) => {
  const rt = limitedRuntime(t, { egressConcurrentConnections: 1 });
  const plugin = await rt.load(manifest);
  t.match(await probe(plugin, { kind: 'sequence', urls: urls('one-at-a-time', 2) }), { ok: true, results: [{ status: 200 }, { status: 200 }] }, 'positive control: requests one after another go through');

  const before = server.requests.length;
  const parallel = probe(plugin, { kind: 'parallel', urls: [`http://${S}/hold-a`, `http://${S}/hold-b`] });
  t.match(await outcome(parallel), { ok: false, code: 'resource_exhausted', details: { limit: 'egress_concurrent_connections' } });
  await waitFor('the admitted request at the server', () => server.held === 1);
  t.equal(requestsSince(before).length, 1, 'only one of the two reached the server');
  matchOne(t, rt.audit.all({ type: 'egress_limit' }), { tool: 'probe', limit: 'egress_concurrent_connections', reason: 'more than 1 connections open at once' });
  matchOne(t, egressRecords(rt.audit.records, { decision: 'refused' }), { kind: 'http', port: server.port, rule: 'more than 1 connections open at once' });

  // Once the held request is answered, its place is free again.
  const allowed = egressRecords(rt.audit.records, { decision: 'allowed' }).length;
  server.release();
  await waitFor('the held request’s record', () => egressRecords(rt.audit.records, { decision: 'allowed' }).length > allowed);
  server.hold();
  t.match(await probe(plugin, { kind: 'fetch', url: `http://${S}/after-release` }), { ok: true, status: 200 }, 'the next call gets a connection');
});

t.test('a request made after its call has ended is refused: no call, no network', async (t) => {
  const rt = limitedRuntime(t, {});
  const plugin = await rt.load(manifest);
  t.match(await probe(plugin, { kind: 'later', waitUrl: `http://${S}/hold-late`, url: `http://${S}/after-call` }), { ok: true, status: 200 }, 'the call returns while the answer it asked for is still coming');
  t.equal(server.held, 1);
  server.release(); // the plugin now fetches /after-call, with no call in flight
  const refused = await rt.audit.waitFor({ type: 'egress', decision: 'refused' });
  t.match(refused, { kind: 'http', host: '127.0.0.1', port: server.port, rule: /^no call in flight/ }, 'refused at the gateway, on record');
  t.match(await probe(plugin, { kind: 'late' }), { ok: true, late: { ok: true, status: 403, body: /^refused by the egress gateway: no call in flight/ } }, 'the plugin got 403');
  t.notOk(server.requests.includes('/after-call'), 'the server never saw it');
  server.hold();
});
