import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { AuditRecord } from '../../runtime/index.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { specialRangeOf } from '../../runtime/policy/network-ranges.ts';
import { matchOne } from '../helpers/audit-log.ts';
import { type EgressRecord, egressRecords, holdingServer, plantEgressProber, type ProbeResult } from '../helpers/egress-probes.ts';
import { type CountingServer, loopbackHttp } from '../helpers/loopback-server.ts';
import { namespacedRuntime, type NamespacedRuntime, noPrivateNames } from '../helpers/namespaced-runtime.ts';
import { startWebSocketEcho } from '../helpers/websocket-server.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

// Names as a plugin's own DNS would answer them: each runtime here runs in a mount
// namespace of the test's own, where a private hosts file (rewritten between load and call,
// as DNS answers change) maps names under evil.test to loopback and to this machine's own
// addresses, and a private resolv.conf names only 127.0.0.1, so no query ever leaves the
// machine. The machine's own files are never touched. A wildcard grant cannot be judged by
// name at load; the egress gateway judges the address each name resolves to when it is
// dialled. Every refusal is shown beside its positive control: a loopback server the policy
// grants by address, reached through the gateway, with its `egress` record.

const skip = noPrivateNames;
const sandbox = detectOsLayers().sandbox;
const noSandbox = sandbox.available ? false : `no sandbox here: ${sandbox.reason}`;

/** An HTTP server on ::1 counting connections and requests, closed when `t` ends. */
async function loopbackHttp6(t: Test, name: string): Promise<CountingServer> {
  const counting: CountingServer = { port: 0, connections: 0, requests: [], server: http.createServer() };
  counting.server.on('connection', () => counting.connections++);
  counting.server.on('request', (request, response) => {
    counting.requests.push(request.url ?? '');
    response.end(name);
  });
  await new Promise<void>((resolve) => counting.server.listen(0, '::1', resolve));
  counting.port = (counting.server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => (counting.server.closeAllConnections(), counting.server.close(() => resolve()))));
  return counting;
}

// The servers names under evil.test lead to: each must see nothing.
const v4 = await loopbackHttp(t, 'v4');
const v6 = await loopbackHttp6(t, 'v6');
/** Granted by address: the positive control. */
const control = await holdingServer(t, 'control');
const C = `127.0.0.1:${control.port}`;
const P4 = v4.port;
const P6 = v6.port;

const BASE_HOSTS = '127.0.0.1 localhost\n::1 ip6-localhost\n';
const EVIL_HOSTS = `${BASE_HOSTS}127.0.0.1 a.evil.test\n::1 b.evil.test\n`;
const LOOPBACK_RULE = (name: string, address: string) => new RegExp(`^${name.replaceAll('.', '\\.')} resolves to ${address.replaceAll('.', '\\.')} \\(loopback\\): only a host the policy names exactly may reach a loopback address$`);

const starPolicy = (plugin: string, ...named: string[]) => ({ plugins: { [plugin]: { 'access-network': ['*', ...named] } } });
type Call = (args: object, tool?: string) => Promise<ProbeResult>;

/** A call of the prober that must come back with the tool's own report. */
function caller(t: Test, ns: NamespacedRuntime, plugin = 'cap-egress-prober'): Call {
  return async (args, tool = 'probe') => {
    const outcome = await ns.call(plugin, tool, args);
    if (!outcome.ok) t.fail(`the call itself failed: ${outcome.code} ${outcome.message}`);
    return (outcome.ok ? outcome.value : { ok: false, error: outcome.code }) as ProbeResult;
  };
}

/** The positive control: the granted server answers through the gateway, which records the vetted address, status and bytes. */
async function assertControl(t: Test, ns: NamespacedRuntime, call: Call, tool = 'probe') {
  const before = egressRecords(await ns.audit(), { tool, port: control.port, decision: 'allowed' }).length;
  t.match(await call({ kind: 'fetch', url: `http://${C}/control` }, tool), { ok: true, status: 200, body: 'control' }, 'positive control: the loopback server granted by address answers');
  matchOne(t, egressRecords(await ns.audit(), { tool, port: control.port, decision: 'allowed' }).slice(before), { kind: 'http', host: '127.0.0.1', address: '127.0.0.1', rule: C, status: 200, bytesDown: 'control'.length }, 'through the gateway, to the vetted address');
}

/** The one refused `egress` record for `host:port` of `kind`, matched against `pattern`. */
function assertRefusedRecord(t: Test, records: readonly AuditRecord[], kind: EgressRecord['kind'], host: string, port: number, pattern: object, message: string) {
  matchOne(t, egressRecords(records, { kind, host, port }), { decision: 'refused', ...pattern }, message);
}

/** Waits until the namespaced host's audit holds what `pick` looks for (bounded by the tests' one deadline). */
async function recordOf<T>(ns: NamespacedRuntime, what: string, pick: (records: AuditRecord[]) => T | undefined): Promise<T> {
  const deadline = Date.now() + GENEROUS_MS;
  for (;;) {
    const found = pick(await ns.audit());
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out after ${GENEROUS_MS} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function assertUntouched(t: Test, ...servers: CountingServer[]) {
  for (const server of servers) {
    t.same(server.requests, [], `the server on port ${server.port} saw no request`);
    t.equal(server.connections, 0, `nor any connection`);
  }
}

interface Variant {
  name: string;
  overrides: LayerOverrides;
  /** True where Deno's flags are in force without a namespace: Deno resolves names itself and may refuse first. */
  denoResolves?: boolean;
  skip?: string | false;
}
const DEFAULT: Variant = { name: 'every layer', overrides: {}, skip: noSandbox };
const STRIPPED: Variant = { name: "Deno's flags stripped, under the sandbox", overrides: { stripDenoPermissions: true }, skip: noSandbox };
const FLAGS_ONLY: Variant = { name: "Deno's flags in force, no namespaces", overrides: { withoutNamespaces: true }, denoResolves: true };
const GATEWAY_ALONE: Variant = { name: "Deno's flags stripped and no namespaces: the gateway alone", overrides: { stripDenoPermissions: true, withoutNamespaces: true } };

t.test('a wildcard granted by "*" whose names resolve to loopback: refused at the gateway, whatever else is gone', { skip }, async (t) => {
  const manifest = plantEgressProber(t.testdir(), { probe: [`*.evil.test:${P4}`, `*.evil.test:${P6}`, C] });
  for (const variant of [DEFAULT, STRIPPED, FLAGS_ONLY, GATEWAY_ALONE]) {
    t.test(variant.name, { skip: variant.skip ?? false }, async (t) => {
      const ns = await namespacedRuntime(t, { hosts: BASE_HOSTS, policy: starPolicy('cap-egress-prober', C), layerOverrides: variant.overrides });
      const loaded = await ns.load(manifest);
      const { network } = loaded.tools.find((tool) => tool.name === 'probe')!;
      t.match(network.rules, [{ entry: `*.evil.test:${P4}`, named: false }, { entry: `*.evil.test:${P6}`, named: false }, { entry: C, named: true }], 'granted at load; only the address the policy names may reach loopback');
      t.same([network.via, network.namespace], ['gateway', variant.overrides.withoutNamespaces ? 'host' : 'bridged'], `through the gateway, from ${variant.overrides.withoutNamespaces ? "the host's network" : 'a bridged namespace'}`);
      ns.setHosts(EVIL_HOSTS); // the plugin's DNS now answers loopback
      const call = caller(t, ns);
      await assertControl(t, ns, call);

      const a = await call({ kind: 'fetch', url: `http://a.evil.test:${P4}/a` });
      const b = await call({ kind: 'fetch', url: `http://b.evil.test:${P6}/b` });
      const tls = await call({ kind: 'fetch', url: `https://a.evil.test:${P4}/tls` });
      const records = await ns.audit();
      if (variant.denoResolves) {
        // Deno resolves the name itself, finds a denied address and fails the fetch before the gateway sees it.
        for (const [what, result] of [['a', a], ['b', b], ['https a', tls]] as const) t.match(result, { ok: false }, `${what}: refused by Deno (${result.message})`);
        t.same(egressRecords(records, { decision: 'allowed' }).filter((record) => record.port !== control.port), [], 'nothing under evil.test went through');
      } else {
        t.match(a, { ok: true, status: 403, body: /^refused by the egress gateway: a\.evil\.test resolves to 127\.0\.0\.1 \(loopback\)/ }, 'a.evil.test → 127.0.0.1: 403 from the gateway');
        t.match(b, { ok: true, status: 403, body: /^refused by the egress gateway: b\.evil\.test resolves to ::1 \(loopback\)/ }, 'b.evil.test → ::1: 403 from the gateway');
        t.match(tls, { ok: false }, `https to a.evil.test fails (${tls.message})`);
        assertRefusedRecord(t, records, 'http', 'a.evil.test', P4, { address: '127.0.0.1', rule: LOOPBACK_RULE('a.evil.test', '127.0.0.1') }, 'a.evil.test refused on record, naming loopback');
        assertRefusedRecord(t, records, 'http', 'b.evil.test', P6, { address: '::1', rule: LOOPBACK_RULE('b.evil.test', '::1') }, 'b.evil.test refused on record, naming loopback');
        assertRefusedRecord(t, records, 'connect', 'a.evil.test', P4, { address: '127.0.0.1', rule: LOOPBACK_RULE('a.evil.test', '127.0.0.1') }, 'the CONNECT for https refused on record too');
      }
      assertUntouched(t, v4, v6);
    });
  }

  t.test('with the names in the hosts file at load, "*" refuses the wildcard there already', async (t) => {
    const ns = await namespacedRuntime(t, { hosts: EVIL_HOSTS, policy: starPolicy('cap-egress-prober', C) });
    const { decisions } = await ns.inspect(plantEgressProber(t.testdir(), { probe: [], declared: [`*.evil.test:${P4}`] }));
    t.match(decisions.find((decision) => decision.scope === `*.evil.test:${P4}`), { granted: false, rule: /^\/etc\/hosts maps "a\.evil\.test" to 127\.0\.0\.1 \(loopback\), and "\*\.evil\.test:\d+" covers it: "\*" covers public hosts only/ });
  });
});

t.test('an exact name granted at load for a public address, then resolving to loopback: refused at the gateway (DNS rebinding)', { skip }, async (t) => {
  const manifest = plantEgressProber(t.testdir(), { probe: [`api.evil.test:${P4}`, C] });
  for (const variant of [DEFAULT, GATEWAY_ALONE]) {
    t.test(variant.name, { skip: variant.skip ?? false }, async (t) => {
      // 203.0.113.7 is only ever read from the hosts file: it changes before the first call starts any process.
      const ns = await namespacedRuntime(t, { hosts: `${BASE_HOSTS}203.0.113.7 api.evil.test\n`, policy: starPolicy('cap-egress-prober', C), layerOverrides: variant.overrides });
      const { decisions } = await ns.inspect(manifest);
      t.match(decisions.find((decision) => decision.scope === `api.evil.test:${P4}`), { granted: true, rule: /\("\*"\)$/ }, 'granted at load: its address looked public');
      await ns.load(manifest);
      ns.setHosts(`${BASE_HOSTS}127.0.0.1 api.evil.test\n`);
      t.same((await ns.audit()).filter((record) => record.type === 'launch'), [], 'no process had started before the name changed');

      const call = caller(t, ns);
      await assertControl(t, ns, call);
      t.match(await call({ kind: 'fetch', url: `http://api.evil.test:${P4}/rebound` }), { ok: true, status: 403, body: /api\.evil\.test resolves to 127\.0\.0\.1 \(loopback\)/ }, 'the tool gets 403');
      const records = await ns.audit();
      assertRefusedRecord(t, records, 'http', 'api.evil.test', P4, { address: '127.0.0.1', rule: LOOPBACK_RULE('api.evil.test', '127.0.0.1') }, 'refused on record, naming the address it resolves to now');
      t.same(egressRecords(records).filter((record) => record.address === '203.0.113.7'), [], 'the load-time address was never dialled');
      assertUntouched(t, v4);
    });
  }
});

t.test("this machine's own name and addresses under a wildcard: refused at load by \"*\", at the gateway under a policy wildcard", { skip }, async (t) => {
  const root = t.testdir();
  const star = plantEgressProber(root, { probe: [], declared: [`*.evil.test:${P4}`] }, 'cap-egress-star');
  const wild = plantEgressProber(root, { probe: [`*.evil.test:${P4}`, C] }, 'cap-egress-wild');
  const ns = await namespacedRuntime(t, {
    hosts: `${BASE_HOSTS}127.0.1.1 self.evil.test\n`,
    hostname: 'self.evil.test',
    policy: { plugins: { 'cap-egress-star': { 'access-network': ['*'] }, 'cap-egress-wild': { 'access-network': [`*.evil.test:${P4}`, C] } } },
  });
  const machine = await ns.machine();
  t.equal(machine.hostname, 'self.evil.test', 'the namespace has its own host name');

  const { decisions } = await ns.inspect(star);
  t.match(decisions.find((decision) => decision.scope === `*.evil.test:${P4}`), { granted: false, rule: /^"self\.evil\.test" is this machine's own name, and "\*\.evil\.test:\d+" covers it/ }, '"*" refuses a wildcard over this machine’s own name');

  // The operator names the domain: granted, and still never to this machine.
  await ns.load(wild);
  const call = caller(t, ns, 'cap-egress-wild');
  await assertControl(t, ns, call);
  const url = `http://self.evil.test:${P4}/self`;
  t.match(await call({ kind: 'fetch', url }), { ok: true, status: 403, body: /self\.evil\.test resolves to 127\.0\.1\.1 \(loopback\)/ }, '→ 127.0.1.1: 403');
  assertRefusedRecord(t, await ns.audit(), 'http', 'self.evil.test', P4, { address: '127.0.1.1', rule: LOOPBACK_RULE('self.evil.test', '127.0.1.1') }, '127.0.1.1 on record as loopback');

  // The network is the machine's in this namespace: its interfaces' addresses are real.
  const own = Object.values(machine.interfaces)
    .flat()
    .filter((entry) => !entry.internal)
    .sort((x, y) => (x.family === 'IPv4' ? 0 : 1) - (y.family === 'IPv4' ? 0 : 1))[0];
  if (!own) {
    t.comment('this machine has no address but loopback: the own-address case is not tried');
  } else {
    const address = own.address.replace(/%.*$/, '');
    ns.setHosts(`${BASE_HOSTS}${address} self.evil.test\n`);
    const range = specialRangeOf(own.family === 'IPv6' ? `[${address}]` : address);
    const why = range ? `\\(${range}\\)` : 'an address of this machine';
    t.match(await call({ kind: 'fetch', url }), { ok: true, status: 403, body: new RegExp(`self\\.evil\\.test resolves to ${address.replaceAll('.', '\\.')}(, | )${why}`) }, `→ ${address} (${own.family} of this machine): 403`);
    matchOne(t, egressRecords(await ns.audit(), { host: 'self.evil.test', address }), { kind: 'http', decision: 'refused', rule: new RegExp(why) }, `${address} on record, naming why`);
  }
  assertUntouched(t, v4);
});

t.test('a redirect from the granted server to a wildcard name that resolves to loopback: the second hop is refused at the gateway', { skip }, async (t) => {
  const redirector = await loopbackHttp(t, 'redirector', (request, response) => {
    const to = request.url === '/to-evil' ? `http://a.evil.test:${P4}/landed` : `http://127.0.0.1:${redirector.port}/landed`;
    if (request.url === '/landed') response.end('redirector landed');
    else response.writeHead(302, { location: to }).end();
  });
  const R = `127.0.0.1:${redirector.port}`;
  const manifest = plantEgressProber(t.testdir(), { probe: [R, `*.evil.test:${P4}`] });
  for (const variant of [DEFAULT, GATEWAY_ALONE]) {
    t.test(variant.name, { skip: variant.skip ?? false }, async (t) => {
      const ns = await namespacedRuntime(t, { hosts: BASE_HOSTS, policy: starPolicy('cap-egress-prober', R), layerOverrides: variant.overrides });
      await ns.load(manifest);
      ns.setHosts(EVIL_HOSTS);
      const call = caller(t, ns);
      const before = (await ns.audit()).length;
      t.match(await call({ kind: 'fetch', url: `http://${R}/to-self` }), { ok: true, status: 200, body: 'redirector landed' }, 'positive control: a redirect to the granted server is followed through the gateway');
      t.match(egressRecords((await ns.audit()).slice(before), { port: redirector.port }), [{ decision: 'allowed', status: 302, address: '127.0.0.1' }, { decision: 'allowed', status: 200, address: '127.0.0.1' }], 'two requests, each judged and allowed');

      t.match(await call({ kind: 'fetch', url: `http://${R}/to-evil` }), { ok: true, status: 403, body: /a\.evil\.test resolves to 127\.0\.0\.1 \(loopback\)/ }, 'the followed redirect ends in the gateway’s 403');
      const records = await ns.audit();
      t.match(egressRecords(records, { port: redirector.port }).at(-1), { decision: 'allowed', status: 302 }, 'the first hop went through');
      assertRefusedRecord(t, records, 'http', 'a.evil.test', P4, { address: '127.0.0.1', rule: LOOPBACK_RULE('a.evil.test', '127.0.0.1') }, 'the second hop was a new request, refused on record');
      t.ok(redirector.requests.includes('/to-evil'), 'the redirector was asked');
      assertUntouched(t, v4);
    });
  }
});

t.test('a WebSocket to a wildcard name that resolves to loopback is refused; one to the server granted by address opens and echoes', { skip }, async (t) => {
  const ws = await startWebSocketEcho(t);
  const W = `127.0.0.1:${ws.port}`;
  const manifest = plantEgressProber(t.testdir(), { probe: [W, `*.evil.test:${ws.port}`] });
  for (const variant of [DEFAULT, GATEWAY_ALONE]) {
    t.test(variant.name, { skip: variant.skip ?? false }, async (t) => {
      const ns = await namespacedRuntime(t, { hosts: BASE_HOSTS, policy: starPolicy('cap-egress-prober', W), layerOverrides: variant.overrides });
      await ns.load(manifest);
      ns.setHosts(EVIL_HOSTS);
      const call = caller(t, ns);
      const upgrades = ws.upgrades.length;
      t.match(await call({ kind: 'websocket', url: `ws://${W}/granted` }), { ok: true, message: 'echo:ping' }, 'positive control: the granted server upgrades and echoes');
      // A relayed connection is on record once it closes.
      const allowed = await recordOf(ns, 'the WebSocket’s record', (records) => egressRecords(records, { kind: 'websocket', port: ws.port, decision: 'allowed' })[0]);
      t.match(allowed, { host: '127.0.0.1', address: '127.0.0.1', rule: W }, 'through the gateway as a websocket, to the vetted address');
      t.ok(allowed.bytesUp! > 0 && allowed.bytesDown! > 0, `with bytes each way (${allowed.bytesUp} up, ${allowed.bytesDown} down)`);

      t.match(await call({ kind: 'websocket', url: `ws://a.evil.test:${ws.port}/evil` }), { ok: false }, 'the WebSocket to a.evil.test does not open');
      assertRefusedRecord(t, await ns.audit(), 'websocket', 'a.evil.test', ws.port, { address: '127.0.0.1', rule: LOOPBACK_RULE('a.evil.test', '127.0.0.1') }, 'refused on record as a websocket, naming loopback');
      t.same(ws.upgrades.slice(upgrades), ['/granted'], 'the server saw only the granted upgrade');
      t.same(ws.requests, [], 'and no plain request');
    });
  }
});

t.test('raw TCP and DNS by name: the gateway never sees them, Deno or the namespace refuses them', { skip }, async (t) => {
  const manifest = plantEgressProber(t.testdir(), { probe: [`*.evil.test:${P4}`, C], other: [`*.evil.test:${P4}`] });
  const variants: (Variant & { namespace: boolean })[] = [
    { ...DEFAULT, namespace: true },
    { ...STRIPPED, namespace: true },
    { ...FLAGS_ONLY, namespace: false },
  ];
  for (const variant of variants) {
    t.test(variant.name, { skip: variant.skip ?? false }, async (t) => {
      const ns = await namespacedRuntime(t, { hosts: BASE_HOSTS, policy: starPolicy('cap-egress-prober', C), layerOverrides: variant.overrides });
      const loaded = await ns.load(manifest);
      ns.setHosts(EVIL_HOSTS);
      const call = caller(t, ns);
      await assertControl(t, ns, call);

      const direct = await call({ kind: 'tcp', host: '127.0.0.1', port: control.port });
      if (variant.namespace) t.match(direct, { ok: false, error: 'ConnectionRefused' }, 'raw TCP even to the granted address finds nothing: the namespace’s only way out is the gateway');
      else t.match(direct, { ok: true, answer: 'HTTP/1.1 200 OK' }, 'positive control: raw TCP to the address granted literally connects');

      for (const tool of ['probe', 'other']) {
        for (const kind of ['tcp', 'node-net']) {
          const result = await call({ kind, host: 'a.evil.test', port: P4 }, tool);
          if (variant.namespace) t.match(result, { ok: false, message: /name resolution|EAI_AGAIN|lookup/ }, `${tool} ${kind}: the name does not resolve inside (${result.message})`);
          else t.match(result, { ok: false, error: 'NotCapable', message: new RegExp(`"127\\.0\\.0\\.1:${P4}"`) }, `${tool} ${kind}: Deno refuses the address the name resolves to (${result.message})`);
        }
      }
      if (!variant.namespace) {
        const argv = loaded.tools.find((tool) => tool.name === 'probe')!.argv;
        t.ok(argv.find((arg) => arg.startsWith('--deny-net='))?.split(',').includes(`127.0.0.1:${P4}`), "the literal grant's hole in --deny-net is closed again on the wildcard's port");
      }

      const dns = await call({ kind: 'dns', name: 'x.evil.test' }, 'other');
      const records = await ns.audit();
      if (variant.namespace) {
        for (const tool of ['probe', 'other']) {
          const queries = egressRecords(records, { kind: 'dns', tool, host: 'a.evil.test' });
          t.ok(queries.length >= 1, `${tool}: its name lookups are on record as dns (${queries.length})`);
          for (const query of queries) t.match(query, { decision: 'refused', port: 53, rule: /^DNS is closed inside the tool's network namespace/ });
        }
        if (variant.overrides.stripDenoPermissions) {
          t.match(dns, { ok: false }, `Deno.resolveDns gets no answer (${dns.message})`);
          t.match(egressRecords(records, { kind: 'dns', host: 'x.evil.test' }), [{ decision: 'refused', tool: 'other', rule: /query type 1\)/ }], 'the A query is on record as dns');
        } else {
          t.match(dns, { ok: false, error: 'NotCapable' }, 'Deno.resolveDns is refused by Deno before a query is sent');
          t.same(egressRecords(records, { host: 'x.evil.test' }), [], 'so no query reached the namespace’s DNS sink');
        }
      } else {
        t.match(dns, { ok: false, error: 'NotCapable' }, 'Deno.resolveDns is refused by Deno');
        t.same(egressRecords(records).filter((record) => record.host !== '127.0.0.1'), [], 'the gateway saw none of it');
      }
      assertUntouched(t, v4);
    });
  }
});
