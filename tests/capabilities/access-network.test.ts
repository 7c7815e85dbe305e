import t, { type Test } from 'tap';
import { isPluginRuntimeError, PluginHandle } from '../../runtime/index.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { loopbackHttp, loopbackUdp } from '../helpers/loopback-server.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, waitFor } from '../helpers/wait-for.ts';

// Loopback servers this file starts: A is granted, B is not (except to the wide tool,
// the positive control), PROXY stands in for an HTTP proxy, DNS for a name server.
const serverA = await loopbackHttp(t, 'A', (request, response) => {
  if (request.url === '/redirect') {
    response.writeHead(302, { location: `http://127.0.0.1:${serverB.port}/landed` }).end();
  } else {
    response.end('A');
  }
});
const serverB = await loopbackHttp(t, 'B');
const proxy = await loopbackHttp(t, 'PROXY');
const dns = await loopbackUdp(t);
const A = `127.0.0.1:${serverA.port}`;
const B = `127.0.0.1:${serverB.port}`;

// Proxy variables on the host: Deno would honour them (even for loopback targets) if the
// plugin's environment were not scrubbed.
const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'];
const savedEnv = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
for (const name of PROXY_VARIABLES) process.env[name] = `http://127.0.0.1:${proxy.port}`;
t.teardown(() => {
  for (const name of PROXY_VARIABLES) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

const root = t.testdir();
const prober = plantPlugin(root, 'net-prober', (manifest) => {
  manifest.capabilities['access-network'] = [A, B];
  manifest.tools.probe.sandbox.network = [A];
  manifest.tools.probe_wide.sandbox.network = [A, B];
});
const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-net-prober': { 'access-network': [A, B] } } } });
const plugin = await runtime.load(prober.manifestPath);

type ProbeResult = { reached: boolean; detail?: string; error?: string; message?: string };
const probe = (tool: 'probe' | 'probe_wide', args: Record<string, unknown>) =>
  plugin.call(tool, args, { timeoutMs: GENEROUS_MS }) as Promise<ProbeResult>;

/** Asserts Deno refused the attempt by permission, and that it named what was refused. */
function assertRefused(t: Test, result: ProbeResult, what: string) {
  t.equal(result.reached, false, `${what}: not reached`);
  t.equal(result.error, 'NotCapable', `${what}: refused by Deno's permission check (${result.message})`);
}

t.test('a tool reaches the host:port its sandbox grants, exactly as written', async (t) => {
  const argv = plugin.tools.find((tool) => tool.name === 'probe')!.argv;
  const gateway = plugin.tools.find((tool) => tool.name === 'probe')!.network.gateway!.replace('http://', '');
  t.same(argv.filter((a) => a.startsWith('--allow-net')), [`--allow-net=${A},${gateway}`], 'the grant as written, and the egress gateway');
  const result = await probe('probe', { kind: 'fetch', url: `http://${A}/hello` });
  t.same(result, { reached: true, detail: '200 A' });
  t.ok(serverA.requests.includes('/hello'));
});

t.test('HTTP_PROXY set on the host never reaches the plugin: the proxy receives nothing', async (t) => {
  const result = await probe('probe', { kind: 'fetch', url: `http://${A}/direct` });
  t.same(result, { reached: true, detail: '200 A' }, 'answered by A itself, not by the proxy');
  t.equal(proxy.connections, 0);
  t.same(proxy.requests, []);
});

t.test('another port of the same host is blocked however the plugin tries', async (t) => {
  const attempts: [string, Record<string, unknown>][] = [
    ['fetch', { kind: 'fetch', url: `http://${B}/fetch` }],
    ['WebSocket', { kind: 'websocket', url: `ws://${B}/ws` }],
    ['raw TCP (Deno.connect)', { kind: 'tcp', host: '127.0.0.1', port: serverB.port }],
    ['node:net', { kind: 'node-net', host: '127.0.0.1', port: serverB.port }],
    ['node:http', { kind: 'node-http', url: `http://${B}/node-http` }],
  ];
  for (const [what, args] of attempts) assertRefused(t, await probe('probe', args), what);
  t.equal(serverB.connections, 0, 'B never saw a connection');

  // Positive control: the same probes from the tool whose sandbox names B do get through,
  // so the refusals above are the sandbox's doing and not a broken probe. Under the
  // sandbox a networked tool's only way out is the egress gateway: raw TCP reaches nothing.
  const bridged = plugin.tools.find((tool) => tool.name === 'probe_wide')!.network.namespace === 'bridged';
  for (const [what, args] of attempts) {
    const before = serverB.connections;
    const requestsBefore = serverB.requests.length;
    if (bridged && (args.kind === 'tcp' || args.kind === 'node-net')) {
      t.equal((await probe('probe_wide', args)).reached, false, `${what} past the gateway, from the tool's own namespace: not reached`);
      t.equal(serverB.connections, before, `${what} reached nothing from the bridged namespace`);
      continue;
    }
    const result = await probe('probe_wide', args);
    if (what !== 'WebSocket') t.equal(result.reached, true, `${what} reaches B when granted (${result.message ?? ''})`);
    // The server may accept a moment after the plugin's connect returns.
    // Through the egress gateway a request may ride a connection the gateway already holds to B.
    t.ok(await waitFor(`${what}'s connection to B`, () => serverB.connections > before || serverB.requests.length > requestsBefore), `${what} reached B when granted`);
  }
});

t.test('another form of the granted host is blocked: names are matched as written', async (t) => {
  const before = serverA.connections;
  assertRefused(t, await probe('probe', { kind: 'fetch', url: `http://localhost:${serverA.port}/` }), 'localhost');
  assertRefused(t, await probe('probe', { kind: 'fetch', url: `http://[::1]:${serverA.port}/` }), '[::1]');
  assertRefused(t, await probe('probe', { kind: 'tcp', host: 'localhost', port: serverA.port }), 'tcp localhost');
  t.equal(serverA.connections, before);
});

t.test('a redirect from the granted host to an ungranted port is blocked', async (t) => {
  const before = serverB.requests.length;
  assertRefused(t, await probe('probe', { kind: 'fetch', url: `http://${A}/redirect` }), 'redirect to B');
  t.ok(serverA.requests.includes('/redirect'), 'A was asked and answered with the redirect');
  t.equal(serverB.requests.length, before, 'B never saw the redirected request');

  const control = await probe('probe_wide', { kind: 'fetch', url: `http://${A}/redirect` });
  t.same(control, { reached: true, detail: '200 B' }, 'the redirect is followed when B is granted');
});

t.test('DNS for an unknown name is blocked before any query is sent', async (t) => {
  const result = await probe('probe', { kind: 'dns', name: 'unknown-name.invalid', nameServerPort: dns.port });
  assertRefused(t, result, 'Deno.resolveDns');
  t.equal(dns.packets, 0, 'the name server received no query');
  assertRefused(t, await probe('probe', { kind: 'fetch', url: `http://unknown-name.invalid:${serverA.port}/` }), 'fetch by name');
  assertRefused(t, await probe('probe', { kind: 'tcp', host: 'unknown-name.invalid', port: serverA.port }), 'connect by name');
});

t.test('under a "*" policy, loopback, private, link-local and metadata literals are refused at load', async (t) => {
  const literals = [
    '127.0.0.1',
    `127.0.0.1:${serverB.port}`,
    '[::1]:80',
    '10.1.2.3',
    '172.16.0.1:443',
    '192.168.1.1',
    '169.254.169.254',
    '169.254.10.10',
    'localhost',
    `localhost:${serverB.port}`,
    '[::ffff:127.0.0.1]',
    '[fe80::1]',
    '0.0.0.0',
    // Other spellings of loopback and metadata that the OS resolver reads as addresses.
    '2130706433',
    '127.1',
    '0x7f000001',
    '2852039166',
  ];
  const root = t.testdir();
  const planted = plantPlugin(root, 'net-prober', (manifest) => {
    manifest.capabilities['access-network'] = [...literals, 'example.com:443'];
  });
  const star = testRuntime(t, { policy: { plugins: { 'cap-net-prober': { 'access-network': ['*'] } } } });
  const prepared = await star.runtime.inspect(planted.manifestPath);
  for (const literal of literals) {
    const decision = prepared.decisions.find((d) => d.capability === 'access-network' && d.scope === literal);
    t.equal(decision?.granted, false, `${literal} refused under "*"`);
    t.match(decision?.rule, /covers public hosts only/, `${literal}: the rule says why`);
  }
  t.same(prepared.grants.network, ['example.com:443'], '"*" still grants a public host');

  const named = testRuntime(t, { policy: { plugins: { 'cap-net-prober': { 'access-network': literals } } } });
  const namedPrepared = await named.runtime.inspect(planted.manifestPath);
  t.same(namedPrepared.grants.network, literals, 'each is granted when the policy names it exactly');
  for (const decision of namedPrepared.decisions.filter((d) => d.capability === 'access-network' && d.granted)) {
    t.match(decision.rule, /^policy plugins\.cap-net-prober\.access-network\[\d+\]/);
  }
});

t.test('a numeric spelling of loopback under "*" cannot reach a loopback server', async (t) => {
  // 2130706433 is 127.0.0.1: Deno checks the name as written, then the OS resolver
  // connects to loopback. The policy layer must see through it.
  for (const alias of ['2130706433', '127.1', '0x7f000001']) {
    const root = t.testdir();
    const entry = `${alias}:${serverB.port}`;
    const planted = plantPlugin(root, 'net-prober', (manifest) => {
      manifest.capabilities['access-network'] = [entry];
      manifest.tools.probe.sandbox.network = [entry];
      delete manifest.tools.probe_wide.sandbox;
    }, alias);
    const star = testRuntime(t, { policy: { plugins: { 'cap-net-prober': { 'access-network': ['*'] } } } });
    const before = serverB.connections;
    const loaded = await star.runtime.load(planted.manifestPath).catch((error: unknown) => error);
    if (loaded instanceof PluginHandle) {
      const result = await loaded.call('probe', { kind: 'tcp', host: alias, port: serverB.port }, { timeoutMs: GENEROUS_MS });
      t.fail(`${alias} was granted and the plugin tried: ${JSON.stringify(result)}`);
    } else {
      t.ok(isPluginRuntimeError(loaded, 'sandbox_exceeds_grants'), `${alias}: load refused (${(loaded as Error).message})`);
    }
    t.equal(serverB.connections, before, `${alias}: B saw no connection`);
  }
});

t.test('a global deny CIDR overrides a plugin policy that names the host exactly', async (t) => {
  const root = t.testdir();
  const declaredOnly = plantPlugin(root, 'net-prober', (manifest) => {
    manifest.capabilities['access-network'] = [B];
    delete manifest.tools.probe.sandbox;
    delete manifest.tools.probe_wide.sandbox;
  }, 'declared-only');
  const planted = plantPlugin(root, 'net-prober', (manifest) => {
    manifest.capabilities['access-network'] = [B];
    manifest.tools.probe.sandbox.network = [B];
    delete manifest.tools.probe_wide.sandbox;
  });
  const denied = testRuntime(t, {
    policy: { plugins: { 'cap-net-prober': { 'access-network': [B] } }, deny: { hosts: ['127.0.0.0/8'] } },
  });
  const prepared = await denied.runtime.inspect(declaredOnly.manifestPath);
  t.same(prepared.decisions.find((d) => d.scope === B), {
    capability: 'access-network',
    scope: B,
    granted: false,
    rule: 'policy deny.hosts[0] ("127.0.0.0/8")',
  });
  const before = serverB.connections;
  const loaded = await denied.runtime.load(planted.manifestPath).catch((error: unknown) => error);
  if (loaded instanceof PluginHandle) {
    await loaded.call('probe', { kind: 'fetch', url: `http://${B}/` }, { timeoutMs: GENEROUS_MS });
    t.fail('a denied host was granted');
  } else {
    t.ok(isPluginRuntimeError(loaded, 'sandbox_exceeds_grants'));
  }
  t.equal(serverB.connections, before);
});
