import http from 'node:http';
import t, { type Test } from 'tap';
import type { AuditRecord, PluginHandle } from '../../runtime/index.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { matchOne } from '../helpers/audit-log.ts';
import { egressRecords, holdingServer, plantEgressProber, type ProbeResult } from '../helpers/egress-probes.ts';
import { loopbackHttp } from '../helpers/loopback-server.ts';
import { denoPidOf, processEnvironment, waitForProcessGone } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

// The egress gateway as a plugin meets it: IP literals only in this file (no name is ever
// resolved, so nothing reaches a DNS server); names, hosts files and DNS are
// egress-names.test.ts's, the per-call limits egress-limits.test.ts's. Every refusal is
// shown next to its positive control: the same tool reaching a loopback server the policy
// grants by address, through the gateway, with the `egress` record that says so.

const sandbox = detectOsLayers().sandbox;

/** Never to be reached: what every spelling below leads to. */
const target = await loopbackHttp(t, 'target');
/** Granted by address: the positive control. `/hold…` requests wait until released. */
const control = await holdingServer(t, 'control');
const P = target.port;
const C = `127.0.0.1:${control.port}`;

const probe = (plugin: PluginHandle, args: object, tool = 'probe') => plugin.call(tool, args, { timeoutMs: GENEROUS_MS }) as Promise<ProbeResult>;

/** The tool reaches the granted server through the gateway, and the gateway says so: address dialled, status, bytes. */
async function assertControl(t: Test, plugin: PluginHandle, records: () => readonly AuditRecord[], tool = 'probe') {
  const before = egressRecords(records(), { tool, port: control.port, decision: 'allowed' }).length;
  t.match(await probe(plugin, { kind: 'fetch', url: `http://${C}/control` }, tool), { ok: true, status: 200, body: 'control' }, 'positive control: the granted loopback server answers');
  const allowed = egressRecords(records(), { tool, port: control.port, decision: 'allowed' }).slice(before);
  matchOne(t, allowed, { kind: 'http', host: '127.0.0.1', address: '127.0.0.1', rule: C, status: 200, bytesDown: 'control'.length }, 'through the gateway, to the vetted address');
}

// 0.0.0.0 and [::] reach this machine's own listeners on Linux; the others are 127.0.0.1
// spelled as inet_aton or IPv6 write it.
const SPELLINGS = ['0.0.0.0', '[::]', '2130706433', '0x7f000001', '127.1', '0177.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]'];

interface Variant {
  name: string;
  overrides: LayerOverrides;
  /** Who refuses a target no grant covers: Deno (NotCapable, before any byte leaves) or the gateway (403, on record). */
  judge: 'deno' | 'gateway';
  skip?: string | false;
}

const noSandbox = sandbox.available ? false : `no sandbox here: ${sandbox.reason}`;
const VARIANTS: Variant[] = [
  { name: "Deno's flags in force, under the sandbox", overrides: {}, judge: 'deno', skip: noSandbox },
  { name: "Deno's flags in force, no namespaces", overrides: { withoutNamespaces: true }, judge: 'deno' },
  { name: "Deno's flags stripped, under the sandbox", overrides: { stripDenoPermissions: true }, judge: 'gateway', skip: noSandbox },
  { name: "Deno's flags stripped and no namespaces: the gateway alone", overrides: { stripDenoPermissions: true, withoutNamespaces: true }, judge: 'gateway' },
];

const wildcardManifest = plantEgressProber(t.testdir(), { probe: [`*.evil.test:${P}`, C] });
const wildcardPolicy = { plugins: { 'cap-egress-prober': { 'access-network': ['*', C] } } };

for (const variant of VARIANTS) {
  t.test(`unspecified and respelled loopback targets are refused to a tool granted a wildcard and another host (${variant.name})`, { skip: variant.skip ?? false }, async (t) => {
    const rt = testRuntime(t, { policy: wildcardPolicy, layerOverrides: variant.overrides });
    const plugin = await rt.load(wildcardManifest);
    await assertControl(t, plugin, () => rt.audit.records);
    for (const spelled of SPELLINGS) {
      const result = await probe(plugin, { kind: 'fetch', url: `http://${spelled}:${P}/spelled` });
      if (variant.judge === 'deno') t.match(result, { ok: false, error: 'NotCapable' }, `${spelled}: Deno refuses it (${result.message})`);
      else t.match(result, { ok: true, status: 403, body: /^refused by the egress gateway: not granted: / }, `${spelled}: the gateway answers 403`);
    }
    const seen = egressRecords(rt.audit.records, { port: P });
    if (variant.judge === 'deno') {
      t.same(seen, [], 'Deno refused each before anything reached the gateway');
    } else {
      t.equal(seen.length, SPELLINGS.length, 'the gateway saw and recorded every attempt');
      for (const record of seen) {
        t.match(record, { kind: 'http', decision: 'refused', rule: new RegExp(`^not granted: .*:${P} is covered by none of the tool's network grants \\(\\*\\.evil\\.test:${P}, ${C}\\)$`) }, `${record.host}: refused, naming the grants`);
        t.notOk('address' in record, `${record.host}: no address was dialled`);
      }
    }
    t.same(target.requests, [], 'the target saw no request');
    t.equal(target.connections, 0, 'nor any connection');
  });
}

/** One plain request in absolute form, sent to the gateway by this test as a tool would send it. */
function throughGateway(proxyUrl: string, url: string, authorization?: string): Promise<{ status: number; body: string }> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: proxy.hostname,
      port: Number(proxy.port),
      path: url,
      agent: false,
      headers: { host: new URL(url).host, ...(authorization ? { 'proxy-authorization': authorization } : {}) },
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** The `Proxy-Authorization` a proxy URL's credential makes (what Deno sends for it). */
function credentialOf(proxyUrl: string, password?: string): string {
  const proxy = new URL(proxyUrl);
  return `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${password ?? proxy.password}`).toString('base64')}`;
}

/** The proxy variables a tool's live Deno was started with, read from /proc, and its pid. */
async function proxyOf(t: Test, records: readonly AuditRecord[], tool: string, nth = 0) {
  const launch = records.filter((record) => record.type === 'launch' && record.tool === tool)[nth] as { launchId: string; pid: number } | undefined;
  if (!launch) throw new Error(`no launch ${nth} of ${tool}`);
  const pid = await denoPidOf(launch.pid);
  const env = processEnvironment(pid);
  t.match(env.HTTP_PROXY, /^http:\/\/[0-9A-Z]+:[\w-]+@127\.\d+\.\d+\.\d+:\d+$/, `${tool}: HTTP_PROXY names the gateway with a credential`);
  t.equal(env.HTTPS_PROXY, env.HTTP_PROXY, `${tool}: HTTPS_PROXY is the same`);
  t.equal(decodeURIComponent(new URL(env.HTTP_PROXY!).username), launch.launchId, `${tool}: the credential's user is its launch`);
  return { pid, proxyUrl: env.HTTP_PROXY!, launchId: launch.launchId };
}

t.test("a launch's gateway credential is its own, unreadable to the plugin, and dead once its process is gone", async (t) => {
  const manifest = plantEgressProber(t.testdir(), { probe: [C], other: [C] });
  const rt = testRuntime(t, { policy: { plugins: { 'cap-egress-prober': { 'access-network': [C] } } } });
  const plugin = await rt.load(manifest);
  await assertControl(t, plugin, () => rt.audit.records);
  await assertControl(t, plugin, () => rt.audit.records, 'other');

  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY']) {
    t.match(await probe(plugin, { kind: 'env', name }), { ok: false, error: 'NotCapable' }, `the plugin cannot read ${name}: Deno has no env permission for it`);
  }
  const first = await proxyOf(t, rt.audit.records, 'probe');
  const other = await proxyOf(t, rt.audit.records, 'other');
  t.not(credentialOf(first.proxyUrl), credentialOf(other.proxyUrl), "each tool's process has a credential of its own");

  const url = `http://${C}/raw`;
  t.match(await throughGateway(first.proxyUrl, url), { status: 407 }, 'no credential: 407');
  t.match(await throughGateway(first.proxyUrl, url, credentialOf(first.proxyUrl, 'not-the-password')), { status: 407 }, 'a wrong password: 407');
  t.match(await throughGateway(first.proxyUrl, url, credentialOf(first.proxyUrl)), { status: 403, body: /no call in flight/ }, 'the live credential with no call in flight: known, but refused');
  t.match(egressRecords(rt.audit.records, { launchId: first.launchId, decision: 'refused' }).at(-1), { kind: 'http', port: control.port, rule: /^no call in flight/ }, 'and on record against that launch');

  // Positive control: while a call of the tool runs, its credential carries a request through.
  const held = probe(plugin, { kind: 'fetch', url: `http://${C}/hold-live` });
  await waitFor('the held request', () => control.held === 1);
  t.match(await throughGateway(first.proxyUrl, `http://${C}/raw-live`, credentialOf(first.proxyUrl)), { status: 200, body: 'control' }, 'the live credential during a call: through');
  control.release();
  t.match(await held, { ok: true, status: 200, body: 'control released' }, 'and the held call ends as usual');
  control.hold();

  // The process ends in the middle of a call: its credential ends with it.
  t.match(await outcome(probe(plugin, { kind: 'exit' })), { ok: false, code: 'plugin_crashed' }, 'the call of a process that exited fails');
  await waitForProcessGone(first.pid);
  const afterExit = egressRecords(rt.audit.records).length;
  t.match(await throughGateway(first.proxyUrl, `http://${C}/raw-dead`, credentialOf(first.proxyUrl)), { status: 407 }, 'the dead launch’s credential: 407');
  t.equal(egressRecords(rt.audit.records).length, afterExit, 'the 407 reached no rule and made no egress record');
  t.match(await throughGateway(other.proxyUrl, `http://${C}/raw-other`, credentialOf(other.proxyUrl)), { status: 403, body: /no call in flight/ }, "the other tool's live credential is still known: the 407 is about the credential");
  t.notOk(control.requests.includes('/raw-dead'), 'the server never saw the request');

  // The next launch of the tool gets a new credential; the old one stays dead.
  await assertControl(t, plugin, () => rt.audit.records);
  const second = await proxyOf(t, rt.audit.records, 'probe', 1);
  t.not(second.launchId, first.launchId, 'a new launch');
  t.not(credentialOf(second.proxyUrl), credentialOf(first.proxyUrl), 'with a new credential');
  t.match(await throughGateway(first.proxyUrl, `http://${C}/raw-dead`, credentialOf(first.proxyUrl)), { status: 407 }, 'the old credential is still refused');

  // A graceful stop revokes just the same.
  await plugin.close();
  await waitForProcessGone([second.pid, other.pid]);
  for (const [tool, launch] of [['probe', second], ['other', other]] as const) {
    t.match(await throughGateway(launch.proxyUrl, `http://${C}/raw-closed`, credentialOf(launch.proxyUrl)), { status: 407 }, `${tool}: its credential dies with a stop`);
  }
  t.notOk(control.requests.includes('/raw-closed'), 'the server never saw those');
});
