import { existsSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import t, { type Test } from 'tap';
import { ConnectionBudget, type EgressLimitName, type EgressLimits } from '../../runtime/egress/connection-budget.ts';
import { EgressGateway } from '../../runtime/egress/egress-gateway.ts';
import type { EgressEvent } from '../../runtime/egress/egress-launch.ts';
import { egressRule } from '../../runtime/egress/egress-rules.ts';
import { loopbackTcp, startTestGateway } from '../helpers/egress-harness.ts';
import { GENEROUS_MS, waitFor } from '../helpers/wait-for.ts';

// ---- the upstreams: an HTTP server (requests, upgrades) and a raw echo server, both on 127.0.0.1

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  localAddress: string;
}

async function startUpstream(t: Test) {
  const seen: Seen[] = [];
  const upgrades: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, localAddress: req.socket.localAddress ?? '' });
      const answer = req.method === 'POST' ? `got ${body.length} bytes` : `hello from upstream at ${req.url}`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(answer), 'X-Upstream': 'yes' }).end(answer);
    });
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    upgrades.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', localAddress: socket.localAddress ?? '' });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nwelcome;');
    socket.on('data', (chunk: Buffer) => socket.write(`echo:${chunk.toString('utf8')};`));
    socket.on('error', () => socket.destroy());
  });
  // Upgraded sockets leave the server's own bookkeeping: ended here, or close() would wait on them.
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, seen, upgrades };
}

/** An echo server on 127.0.0.1. */
const startEcho = (t: Test) => loopbackTcp(t, (socket) => socket.pipe(socket));

/** A port on 127.0.0.1 nothing listens on (it was free a moment ago). */
async function downPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- the gateway, with a resolver of the test's own (no real DNS)

const startGateway = startTestGateway;

interface TestLaunch {
  auth: string;
  proxyUrl: string;
  events: EgressEvent[];
  exhausted: EgressLimitName[];
  revoke(): void;
}

let launches = 0;

/** Registers a launch with `rules` (entry → named) and one call in flight, unless `inFlight` says otherwise. */
function register(gateway: EgressGateway, rules: [string, boolean][], limits: Partial<EgressLimits> = {}, inFlight = 1): TestLaunch {
  const events: EgressEvent[] = [];
  const exhausted: EgressLimitName[] = [];
  const budget = new ConnectionBudget({ connectionsPerCall: 1000, bytesPerCall: 10_000_000, concurrentConnections: 100, ...limits }, { inFlight: () => inFlight, exhausted: (limit) => exhausted.push(limit) });
  budget.callStarted();
  const registration = gateway.register({
    plugin: 'p',
    tool: 't',
    launchId: `launch-${++launches}`,
    rules: rules.map(([entry, named]) => egressRule(entry, named)),
    injections: [],
    budget,
    readSecret: async () => undefined,
    record: (event) => events.push(event),
  });
  const url = new URL(registration.proxyUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`;
  return { auth, proxyUrl: registration.proxyUrl, events, exhausted, revoke: registration.revoke };
}

// ---- clients

type Via = { host: string; port: number } | { socketPath: string };
const tcp = (gateway: EgressGateway): Via => ({ host: gateway.address.host, port: gateway.address.port });
const unix = (gateway: EgressGateway): Via => ({ socketPath: gateway.address.socketPath });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request through the proxy in absolute form, on a connection of its own. */
function proxied(via: Via, target: string, o: { auth?: string; method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(target);
  return new Promise((resolve, reject) => {
    const req = http.request({
      ...via,
      agent: false,
      method: o.method ?? 'GET',
      path: target,
      headers: { Host: url.host, ...(o.auth ? { 'Proxy-Authorization': o.auth } : {}), ...o.headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.end(o.body);
  });
}

/** A raw connection to the gateway and what it has read so far. */
class RawClient {
  readonly socket: net.Socket;
  #buffer = '';
  #closed = false;
  /** Bytes read from the gateway in all. */
  received = 0;
  #wake: (() => void)[] = [];

  constructor(via: Via) {
    this.socket = 'socketPath' in via ? net.connect(via.socketPath) : net.connect(via.port, via.host);
    this.socket.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('latin1');
      this.received += chunk.length;
      this.#notify();
    });
    this.socket.on('error', () => {});
    this.socket.on('close', () => {
      this.#closed = true;
      this.#notify();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #notify(): void {
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Waits until the text read so far holds `marker`, then takes everything up to and including it. */
  async take(marker: string, what = JSON.stringify(marker)): Promise<string> {
    const deadline = Date.now() + GENEROUS_MS;
    for (;;) {
      const at = this.#buffer.indexOf(marker);
      if (at !== -1) {
        const taken = this.#buffer.slice(0, at + marker.length);
        this.#buffer = this.#buffer.slice(at + marker.length);
        return taken;
      }
      if (this.#closed) throw new Error(`closed before ${what}; read ${JSON.stringify(this.#buffer)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.#wake.push(resolve);
        setTimeout(resolve, 1000);
      });
    }
  }

  /** Everything until the gateway closes the connection. */
  async rest(): Promise<string> {
    await waitFor('the connection to close', () => this.#closed);
    const text = this.#buffer;
    this.#buffer = '';
    return text;
  }

  write(text: string): void {
    this.socket.write(text);
  }
}

/** Sends a CONNECT and reads the answer's head: the status and the client, its tunnel open if 200. */
async function connect(via: Via, authority: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; client: RawClient }> {
  const client = new RawClient(via);
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  client.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${lines.join('')}\r\n`);
  const head = await client.take('\r\n\r\n', 'the CONNECT answer');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head, client };
}

const firstEvent = (launch: TestLaunch, what: string, match: (event: EgressEvent) => boolean) => waitFor(what, () => launch.events.find(match));

// ---- the shared setup

const upstream = await startUpstream(t);
const echo = await startEcho(t);
const down = await downPort();
const UP = upstream.port;

const lookups: string[] = [];
let rebindAnswers = 0;
const NAMES: Record<string, string[]> = { 'good.test': ['127.0.0.1'], 'evil.test': ['127.0.0.1'], 'a.wild.test': ['127.0.0.1'], 'down.test': ['127.0.0.1'] };
const gateway = await startGateway(t, async (name) => {
  lookups.push(name);
  if (name === 'rebind.test') return [{ address: rebindAnswers++ === 0 ? '127.0.0.1' : '127.0.0.2', family: 4 }];
  const answer = NAMES[name];
  if (!answer) throw new Error(`no such name ${name}`);
  return answer.map((address) => ({ address, family: 4 }));
});

const RULES: [string, boolean][] = [
  [`127.0.0.1:${UP}`, true],
  [`good.test:${UP}`, true],
  [`evil.test:${UP}`, false],
  ['*.wild.test', false],
  [`rebind.test:${UP}`, true],
  [`down.test:${down}`, true],
  [`127.0.0.1:${echo.port}`, true],
];
const main = register(gateway, RULES);

t.test('the gateway listens on its loopback address and on a Unix socket only its owner may open', async (t) => {
  const { host, port, socketPath } = gateway.address;
  t.match(host, /^127\.\d+\.\d+\.\d+$/);
  t.not(host, '127.0.0.1', 'a random loopback address, not the one services bind');
  t.ok(port > 0);
  t.ok(statSync(socketPath).isSocket());
  t.equal(statSync(socketPath).mode & 0o777, 0o600);
  t.match(main.proxyUrl, new RegExp(`^http://launch-\\d+:[A-Za-z0-9_-]+@${host.replaceAll('.', '\\.')}:${port}$`));
});

t.test('407 without the credential, with a wrong or malformed one, on every kind of request', async (t) => {
  const other = register(gateway, RULES);
  const wrong = main.auth.replace(/.{4}$/, 'AAA=');
  const bad = [
    undefined,
    wrong,
    `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`, // a malformed escape in the user name
    `Basic ${Buffer.from(`${decodeURIComponent(new URL(main.proxyUrl).username)}:${decodeURIComponent(new URL(other.proxyUrl).password)}`).toString('base64')}`, // another launch's password
    'Bearer nothing',
  ];
  const before = { seen: upstream.seen.length, upgrades: upstream.upgrades.length, lookups: lookups.length };
  for (const auth of bad) {
    const what = auth === undefined ? 'no credential' : JSON.stringify(auth.slice(0, 30));
    for (const via of [tcp(gateway), unix(gateway)]) {
      const plain = await proxied(via, `http://good.test:${UP}/secret`, auth === undefined ? {} : { auth });
      t.equal(plain.status, 407, `plain request, ${what}`);
      t.match(plain.headers['proxy-authenticate'], /^Basic realm=/);
      const tunnel = await connect(via, `good.test:${UP}`, auth === undefined ? {} : { 'Proxy-Authorization': auth });
      t.equal(tunnel.status, 407, `CONNECT, ${what}`);
      t.match(tunnel.head, /\r\nProxy-Authenticate: Basic realm=/);
      const upgrade = new RawClient(via);
      upgrade.write(`GET http://good.test:${UP}/ws HTTP/1.1\r\nHost: good.test:${UP}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${auth === undefined ? '' : `Proxy-Authorization: ${auth}\r\n`}\r\n`);
      t.match(await upgrade.take('\r\n\r\n'), /^HTTP\/1\.1 407 /, `upgrade, ${what}`);
    }
  }
  t.same({ seen: upstream.seen.length, upgrades: upstream.upgrades.length, lookups: lookups.length }, before, 'nothing reached the upstream or the resolver');
  t.same(main.events, [], 'nothing is recorded for a request without its launch');
  t.equal((await proxied(tcp(gateway), `http://good.test:${UP}/after`, { auth: main.auth })).status, 200, 'the gateway still serves the right credential');
  await firstEvent(main, 'the event of /after', (e) => e.kind === 'http');
  main.events.length = 0;
});

t.test('a plain GET reaches the upstream at the vetted address with its path and Host, and is recorded', async (t) => {
  for (const [via, name] of [
    [tcp(gateway), 'TCP'],
    [unix(gateway), 'Unix socket'],
  ] as const) {
    const count = upstream.seen.length;
    const answer = await proxied(via, `http://good.test:${UP}/hello?x=1&y=two`, { auth: main.auth, headers: { 'X-Tool': 'kept', 'Proxy-Connection': 'keep-alive' } });
    t.equal(answer.status, 200, name);
    t.equal(answer.body, 'hello from upstream at /hello?x=1&y=two');
    t.equal(answer.headers['x-upstream'], 'yes', "the upstream's headers come back");
    const got = upstream.seen[count]!;
    t.equal(got.method, 'GET');
    t.equal(got.url, '/hello?x=1&y=two', 'origin form, path and query kept');
    t.equal(got.headers.host, `good.test:${UP}`, 'the Host header as the tool sent it');
    t.equal(got.headers['x-tool'], 'kept');
    t.equal(got.headers['proxy-authorization'], undefined, 'the credential is never passed on');
    t.equal(got.headers['proxy-connection'], undefined);
    t.equal(got.localAddress, '127.0.0.1');
    const event = await firstEvent(main, `the event of the ${name} GET`, (e) => e.kind === 'http');
    t.match(event, { kind: 'http', host: 'good.test', port: UP, decision: 'allowed', rule: `good.test:${UP}`, address: '127.0.0.1', status: 200, bytesUp: 0, bytesDown: Buffer.byteLength(answer.body) });
    t.type(event.durationMs, 'number');
    main.events.length = 0;
  }
});

t.test('a POST body reaches the upstream and its bytes are counted', async (t) => {
  const body = 'x'.repeat(5000);
  const answer = await proxied(tcp(gateway), `http://127.0.0.1:${UP}/submit`, { auth: main.auth, method: 'POST', body, headers: { 'Content-Type': 'text/plain' } });
  t.equal(answer.status, 200);
  t.equal(answer.body, 'got 5000 bytes');
  t.equal(upstream.seen.at(-1)!.body, body);
  const event = await firstEvent(main, 'the POST event', (e) => e.kind === 'http');
  t.match(event, { decision: 'allowed', rule: `127.0.0.1:${UP}`, address: '127.0.0.1', status: 200, bytesUp: 5000, bytesDown: Buffer.byteLength(answer.body) });
  main.events.length = 0;
});

t.test('a host or port no grant covers is refused with 403 and the refusal recorded', async (t) => {
  const count = upstream.seen.length;
  const asked = lookups.length;
  const otherPort = UP === 65535 ? UP - 1 : UP + 1; // good.test is granted on UP alone
  for (const [target, host, port] of [
    [`http://other.test:${UP}/`, 'other.test', UP],
    [`http://good.test:${otherPort}/`, 'good.test', otherPort],
    ['http://good.test/', 'good.test', 80],
  ] as const) {
    const answer = await proxied(tcp(gateway), target, { auth: main.auth });
    t.equal(answer.status, 403, target);
    t.match(answer.body, /not granted/);
    const event = await firstEvent(main, `the refusal of ${target}`, (e) => e.host === host && e.port === port);
    t.match(event, { kind: 'http', decision: 'refused', rule: new RegExp(`^not granted: ${host.replace('.', '\\.')}:${port} is covered by none`) });
    t.equal(event.address, undefined, 'nothing was resolved');
  }
  t.equal(upstream.seen.length, count, 'nothing reached the upstream');
  t.equal(lookups.length, asked, 'nothing was resolved');
  main.events.length = 0;
});

t.test('a name the operator did not name, resolving to loopback, is refused naming the range', async (t) => {
  const count = upstream.seen.length;
  const plain = await proxied(tcp(gateway), `http://evil.test:${UP}/`, { auth: main.auth });
  t.equal(plain.status, 403);
  t.match(plain.body, /evil\.test resolves to 127\.0\.0\.1 \(loopback\)/);
  t.match(await firstEvent(main, 'the evil.test refusal', (e) => e.kind === 'http'), { host: 'evil.test', decision: 'refused', address: '127.0.0.1', rule: /\(loopback\)/ });
  const tunnel = await connect(tcp(gateway), `evil.test:${UP}`, { 'Proxy-Authorization': main.auth });
  t.equal(tunnel.status, 403);
  t.match(await tunnel.client.rest(), /\(loopback\)/);
  t.match(await firstEvent(main, 'the evil.test CONNECT refusal', (e) => e.kind === 'connect'), { decision: 'refused', address: '127.0.0.1', rule: /\(loopback\)/ });
  const wild = await connect(tcp(gateway), `a.wild.test:${UP}`, { 'Proxy-Authorization': main.auth });
  t.equal(wild.status, 403, 'a wildcard is never named');
  t.match(await wild.client.rest(), /a\.wild\.test resolves to 127\.0\.0\.1 \(loopback\)/);
  const literal = await proxied(tcp(gateway), `http://127.0.0.1:${UP}/`, { auth: register(gateway, [[`127.0.0.1:${UP}`, false]]).auth });
  t.equal(literal.status, 403, 'a literal loopback address under a rule not named');
  t.equal(upstream.seen.length, count, 'nothing reached the upstream');
  main.events.length = 0;
});

t.test('CONNECT opens a tunnel to the vetted address that carries bytes both ways', async (t) => {
  for (const [via, authority, rule] of [
    [tcp(gateway), `127.0.0.1:${UP}`, `127.0.0.1:${UP}`],
    [unix(gateway), `good.test:${UP}`, `good.test:${UP}`],
    [tcp(gateway), `GOOD.TEST.:${UP}`, `good.test:${UP}`],
  ] as const) {
    const tunnel = await connect(via, authority, { 'Proxy-Authorization': main.auth });
    t.equal(tunnel.status, 200, authority);
    const request = `GET /tunnelled HTTP/1.1\r\nHost: tunnelled.test\r\nConnection: close\r\n\r\n`;
    tunnel.client.write(request);
    const response = await tunnel.client.rest();
    t.match(response, /^HTTP\/1\.1 200 OK\r\n/);
    t.match(response, /hello from upstream at \/tunnelled$/);
    t.equal(upstream.seen.at(-1)!.headers.host, 'tunnelled.test', 'the upstream saw the request sent inside the tunnel');
    const event = await firstEvent(main, `the ${authority} tunnel event`, (e) => e.kind === 'connect');
    t.match(event, { decision: 'allowed', rule, address: '127.0.0.1', port: UP, bytesUp: Buffer.byteLength(request), bytesDown: Buffer.byteLength(response, 'latin1') });
    main.events.length = 0;
  }
});

t.test('CONNECT with bytes sent before the answer passes them on', async (t) => {
  const client = new RawClient(tcp(gateway));
  client.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nProxy-Authorization: ${main.auth}\r\n\r\nearly bytes`);
  t.match(await client.take('\r\n\r\n'), /^HTTP\/1\.1 200 /);
  t.equal(await client.take('early bytes'), 'early bytes', 'echoed back through the tunnel');
  client.socket.destroy();
  t.match(await firstEvent(main, 'the early-bytes event', (e) => e.kind === 'connect'), { decision: 'allowed', bytesUp: 11, bytesDown: 11 }, 'counted like the rest');
  main.events.length = 0;

  const small = register(gateway, RULES, { bytesPerCall: 5 });
  const over = new RawClient(tcp(gateway));
  over.write(`CONNECT 127.0.0.1:${echo.port} HTTP/1.1\r\nProxy-Authorization: ${small.auth}\r\n\r\nearly bytes`);
  t.match(await over.take('\r\n\r\n'), /^HTTP\/1\.1 200 /);
  t.equal(await over.rest(), '', 'bytes past the allowance sent with the CONNECT end the tunnel, never echoed');
  t.same(small.exhausted, ['egress_bytes_per_call']);
  t.match(await firstEvent(small, 'the over-budget event', (e) => e.kind === 'connect'), { bytesUp: 11, bytesDown: 0 });
});

t.test('CONNECT refusals: no grant, a malformed target, a name not named resolving to loopback', async (t) => {
  const notGranted = await connect(tcp(gateway), 'other.test:443', { 'Proxy-Authorization': main.auth });
  t.equal(notGranted.status, 403);
  t.match(await notGranted.client.rest(), /not granted: other\.test:443/);
  t.match(await firstEvent(main, 'the not-granted CONNECT', (e) => e.host === 'other.test'), { kind: 'connect', decision: 'refused', port: 443, rule: /^not granted/ });
  for (const authority of ['good.test', `good.test:0`, `good.test:65536`, 'good.test:http', ':443']) {
    const bad = await connect(tcp(gateway), authority, { 'Proxy-Authorization': main.auth });
    t.equal(bad.status, 400, authority);
  }
  main.events.length = 0;
});

t.test('a CONNECT carrying X-Manasvi-Dns is refused and recorded as a dns event, nothing resolved', async (t) => {
  const asked = lookups.length;
  const tunnel = await connect(tcp(gateway), `good.test:${UP}`, { 'Proxy-Authorization': main.auth, 'X-Manasvi-Dns': 'AAAA' });
  t.equal(tunnel.status, 403);
  t.match(await tunnel.client.rest(), /DNS is closed/);
  t.match(await firstEvent(main, 'the dns event', (e) => e.kind === 'dns'), { kind: 'dns', host: 'good.test', port: UP, decision: 'refused', rule: /DNS is closed .*query type AAAA/ });
  t.equal(lookups.length, asked);
  main.events.length = 0;
});

t.test('a plain ws:// upgrade in absolute form reaches the upstream and carries bytes both ways', async (t) => {
  const client = new RawClient(tcp(gateway));
  client.write(`GET http://good.test:${UP}/ws?room=1 HTTP/1.1\r\nHost: good.test:${UP}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nProxy-Authorization: ${main.auth}\r\n\r\n`);
  const head = await client.take('\r\n\r\n', 'the 101');
  t.match(head, /^HTTP\/1\.1 101 /);
  t.equal(await client.take('welcome;'), 'welcome;', 'the upstream speaks first');
  client.write('ping');
  t.equal(await client.take('echo:ping;'), 'echo:ping;', 'and answers what the tool sends');
  const got = upstream.upgrades.at(-1)!;
  t.equal(got.url, '/ws?room=1', 'origin form');
  t.equal(got.headers.host, `good.test:${UP}`);
  t.equal(got.headers.upgrade, 'websocket');
  t.match(got.headers.connection, /upgrade/i);
  t.equal(got.headers['sec-websocket-version'], '13');
  t.equal(got.headers['proxy-authorization'], undefined, 'the credential is never passed on');
  client.socket.end();
  const event = await firstEvent(main, 'the upgrade event', (e) => e.kind === 'websocket');
  t.match(event, { host: 'good.test', port: UP, decision: 'allowed', rule: `good.test:${UP}`, address: '127.0.0.1', bytesUp: 4 });
  await waitFor('the client to see the end', () => client.closed);
  t.equal(event.bytesDown, client.received, "every byte down is counted, the upstream's 101 included");
  const refused = new RawClient(tcp(gateway));
  refused.write(`GET http://evil.test:${UP}/ws HTTP/1.1\r\nHost: evil.test:${UP}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nProxy-Authorization: ${main.auth}\r\n\r\n`);
  t.match(await refused.take('\r\n\r\n'), /^HTTP\/1\.1 403 /, 'an upgrade to a name not named resolving to loopback');
  main.events.length = 0;
});

t.test('DNS rebinding: each connection dials the one address its name resolved to', async (t) => {
  const before = lookups.filter((name) => name === 'rebind.test').length;
  t.equal(before, 0);
  const count = upstream.seen.length;
  const first = await connect(tcp(gateway), `rebind.test:${UP}`, { 'Proxy-Authorization': main.auth });
  t.equal(first.status, 200);
  first.client.write('GET /one HTTP/1.1\r\nHost: rebind.test\r\n\r\n');
  t.match(await first.client.take('/one'), /^HTTP\/1\.1 200 /);
  first.client.write('GET /two HTTP/1.1\r\nHost: rebind.test\r\nConnection: close\r\n\r\n');
  t.match(await first.client.rest(), /at \/two$/);
  t.same(
    upstream.seen.slice(count).map((s) => [s.url, s.localAddress]),
    [
      ['/one', '127.0.0.1'],
      ['/two', '127.0.0.1'],
    ],
    'both requests went to the first answer',
  );
  t.equal(lookups.filter((name) => name === 'rebind.test').length, 1, 'resolved once for the whole connection');
  t.match(await firstEvent(main, 'the first rebind event', (e) => e.host === 'rebind.test'), { decision: 'allowed', address: '127.0.0.1' });
  main.events.length = 0;
  const second = await connect(tcp(gateway), `rebind.test:${UP}`, { 'Proxy-Authorization': main.auth });
  t.not(second.status, 200, 'the next connection dials the new answer, where nothing listens');
  t.match(await firstEvent(main, 'the second rebind event', (e) => e.host === 'rebind.test'), { decision: 'refused', address: '127.0.0.2' });
  t.equal(upstream.seen.length, count + 2, 'the upstream saw nothing more');
  main.events.length = 0;
});

t.test('an upstream that is down: 502 and a refused event, for CONNECT and plain requests', async (t) => {
  const tunnel = await connect(tcp(gateway), `down.test:${down}`, { 'Proxy-Authorization': main.auth });
  t.equal(tunnel.status, 502);
  t.match(await tunnel.client.rest(), /could not reach down\.test/);
  t.match(await firstEvent(main, 'the CONNECT to the down upstream', (e) => e.kind === 'connect'), { decision: 'refused', address: '127.0.0.1', rule: /^upstream unreachable: ECONNREFUSED/ });
  const plain = await proxied(tcp(gateway), `http://down.test:${down}/`, { auth: main.auth });
  t.equal(plain.status, 502);
  t.match(plain.body, /ECONNREFUSED/);
  const event = await firstEvent(main, 'the plain request to the down upstream', (e) => e.kind === 'http');
  t.match(event, { decision: 'refused', address: '127.0.0.1', rule: /^upstream unreachable: ECONNREFUSED/ });
  t.equal(event.status, undefined, 'no upstream status');
  main.events.length = 0;
});

t.test('the budget: no call in flight, one connection too many, bytes past the call allowance mid-tunnel', async (t) => {
  const idle = register(gateway, RULES, {}, 0);
  const refused = await connect(tcp(gateway), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': idle.auth });
  t.equal(refused.status, 403);
  t.match(await refused.client.rest(), /no call in flight/);
  t.match(await firstEvent(idle, 'the idle refusal', () => true), { decision: 'refused', rule: /no call in flight/ });

  const one = register(gateway, RULES, { connectionsPerCall: 1 });
  const open = await connect(tcp(gateway), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': one.auth });
  t.equal(open.status, 200);
  const more = await proxied(tcp(gateway), `http://127.0.0.1:${UP}/`, { auth: one.auth });
  t.equal(more.status, 403);
  t.match(more.body, /more than 1 connections in one call/);
  t.same(one.exhausted, ['egress_connections_per_call']);
  open.client.socket.destroy();

  const bytes = register(gateway, RULES, { bytesPerCall: 500 });
  const tunnel = await connect(tcp(gateway), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': bytes.auth });
  t.equal(tunnel.status, 200);
  tunnel.client.write('a'.repeat(100));
  t.equal(await tunnel.client.take('a'.repeat(100)), 'a'.repeat(100), 'within the allowance the bytes flow');
  t.equal(tunnel.client.closed, false);
  tunnel.client.write('b'.repeat(2000));
  await waitFor('the tunnel to end', () => tunnel.client.closed);
  t.same(bytes.exhausted.slice(0, 1), ['egress_bytes_per_call']);
  const event = await firstEvent(bytes, 'the exhausted tunnel event', (e) => e.kind === 'connect');
  t.match(event, { decision: 'allowed' });
  t.ok(event.bytesDown! >= 100 && event.bytesDown! < 2100, 'the echo of the excess never all came back');
  t.ok(event.bytesUp! + event.bytesDown! > 500, 'it ended once the allowance was passed');
  const after = await connect(tcp(gateway), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': bytes.auth });
  t.equal(after.status, 200, 'the connection slot came back');
  after.client.write('c');
  await waitFor('the next tunnel to end at its first byte: the call spent its bytes', () => after.client.closed);
  t.equal(bytes.exhausted.at(-1), 'egress_bytes_per_call');
});

t.test('revoke: the credential is dead at once and open connections end', async (t) => {
  const launch = register(gateway, RULES);
  const tunnel = await connect(tcp(gateway), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': launch.auth });
  t.equal(tunnel.status, 200);
  tunnel.client.write('still here');
  await tunnel.client.take('still here');
  const idle = new RawClient(unix(gateway));
  idle.write(`GET http://127.0.0.1:${UP}/keep HTTP/1.1\r\nHost: 127.0.0.1:${UP}\r\nProxy-Authorization: ${launch.auth}\r\n\r\n`);
  await idle.take('/keep', 'the keep-alive answer');
  launch.revoke();
  await waitFor('the tunnel to end', () => tunnel.client.closed);
  await waitFor('the idle keep-alive connection to end', () => idle.closed);
  t.match(await firstEvent(launch, 'the tunnel event', (e) => e.kind === 'connect'), { decision: 'allowed', bytesUp: 10, bytesDown: 10 });
  t.equal((await proxied(tcp(gateway), `http://127.0.0.1:${UP}/`, { auth: launch.auth })).status, 407);
  t.equal((await connect(tcp(gateway), `127.0.0.1:${UP}`, { 'Proxy-Authorization': launch.auth })).status, 407);
  t.equal((await proxied(tcp(gateway), `http://127.0.0.1:${UP}/`, { auth: main.auth })).status, 200, "another launch's credential lives on");
});

t.test('close() ends every open connection and removes the socket file', async (t) => {
  const own = await startGateway(t, async () => [{ address: '127.0.0.1', family: 4 }]);
  const launch = register(own, RULES);
  const { socketPath, host, port } = own.address;
  const tunnel = await connect(tcp(own), `127.0.0.1:${echo.port}`, { 'Proxy-Authorization': launch.auth });
  t.equal(tunnel.status, 200);
  const viaUnix = await connect(unix(own), `good.test:${UP}`, { 'Proxy-Authorization': launch.auth });
  t.equal(viaUnix.status, 200);
  const idle = new RawClient(tcp(own));
  await new Promise<void>((resolve) => idle.socket.once('connect', () => resolve()));
  await own.close();
  await waitFor('the TCP tunnel to end', () => tunnel.client.closed);
  await waitFor('the Unix tunnel to end', () => viaUnix.client.closed);
  await waitFor('the idle connection to end', () => idle.closed);
  t.notOk(existsSync(socketPath), 'the socket file is gone');
  const refused = await new Promise<string>((resolve) => {
    const socket = net.connect(port, host);
    socket.on('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
  t.equal(refused, 'ECONNREFUSED', 'nothing listens any more');
  await waitFor('the echo server to see its tunnel end', () => echo.sockets.size === 0);
});
