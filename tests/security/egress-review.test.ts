import t from 'tap';
import type { PluginHandle } from '../../runtime/index.ts';
import { matchOne } from '../helpers/audit-log.ts';
import { egressRecords, plantEgressProber, type ProbeResult } from '../helpers/egress-probes.ts';
import { loopbackHttp } from '../helpers/loopback-server.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rawUpstream } from '../helpers/egress-harness.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

// Findings of the egress review, each tried by a real plugin through the real gateway.

const probe = (plugin: PluginHandle, args: object) => plugin.call('probe', args, { timeoutMs: GENEROUS_MS }) as Promise<ProbeResult>;

t.test('an upstream whose status line Node will not write again (000, a DEL in the reason) costs the tool a 502, never the host', async (t) => {
  const zero = await rawUpstream(t, 'HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n');
  const del = await rawUpstream(t, 'HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n');
  const control = await loopbackHttp(t, 'control');
  const grants = [zero, del, control.port].map((port) => `127.0.0.1:${port}`);
  const manifest = plantEgressProber(t.testdir(), { probe: grants });
  const rt = testRuntime(t, { policy: { plugins: { 'cap-egress-prober': { 'access-network': grants } } } });
  const plugin = await rt.load(manifest);
  for (const port of [zero, del]) {
    t.match(await probe(plugin, { kind: 'fetch', url: `http://127.0.0.1:${port}/` }), { ok: true, status: 502, body: /the upstream's answer cannot be passed on/ }, `port ${port}: a 502 naming why`);
    matchOne(t, egressRecords(rt.audit.records, { port }), { kind: 'http', decision: 'refused', rule: /^the upstream's answer cannot be passed on: ERR_/ }, 'recorded as refused');
  }
  t.match(await probe(plugin, { kind: 'fetch', url: `http://127.0.0.1:${control.port}/` }), { ok: true, status: 200, body: 'control' }, 'the host lives on: the next request is served');
});
