import net from 'node:net';
import t from 'tap';
import { ConnectionBudget } from '../../runtime/egress/connection-budget.ts';
import type { EgressGateway } from '../../runtime/egress/egress-gateway.ts';
import type { EgressEvent } from '../../runtime/egress/egress-launch.ts';
import { egressRule } from '../../runtime/egress/egress-rules.ts';
import { rawUpstream, startTestGateway } from '../helpers/egress-harness.ts';
import { GENEROUS_MS, waitFor } from '../helpers/wait-for.ts';

// The gateway against an upstream the tool may control (a granted name is the plugin
// author's server): whatever it answers must cost that one request, never the host.

/** A launch granted `entries` by name (named: loopback allowed), one call in flight; its Proxy-Authorization and records. */
function register(gateway: EgressGateway, entries: string[]): { auth: string; events: EgressEvent[] } {
  const events: EgressEvent[] = [];
  const budget = new ConnectionBudget({ connectionsPerCall: 1000, bytesPerCall: 10_000_000, concurrentConnections: 100 }, { inFlight: () => 1, exhausted: () => {} });
  budget.callStarted();
  const { proxyUrl } = gateway.register({
    plugin: 'p',
    tool: 't',
    launchId: `review-${events.length}-${Math.random().toString(36).slice(2)}`,
    rules: entries.map((entry) => egressRule(entry, true)),
    injections: [],
    budget,
    readSecret: async () => undefined,
    record: (event) => events.push(event),
  });
  const url = new URL(proxyUrl);
  return { auth: `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${url.password}`).toString('base64')}`, events };
}

/** One plain request through the gateway on a raw connection: everything it answers until it closes (or the host would have died). */
async function plainRequest(gateway: EgressGateway, port: number, auth: string, crashes: readonly unknown[] = []): Promise<string> {
  const socket = net.connect(gateway.address.port, gateway.address.host);
  let text = '';
  let closed = false;
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.write(`GET http://127.0.0.1:${port}/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nProxy-Authorization: ${auth}\r\nConnection: close\r\n\r\n`);
  await waitFor('the gateway to answer and close', () => closed || crashes.length > 0, GENEROUS_MS);
  socket.destroy();
  return text;
}

const STATUS_LINES = [
  ['a status of 000', 'HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n'],
  ['a status of 099', 'HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n'],
  ['a DEL in the reason phrase', 'HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n'],
] as const;

for (const [what, answer] of STATUS_LINES) {
  t.test(`an upstream answering ${what} costs that request a 502, and the gateway goes on serving`, async (t) => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    // Without the fix the throw is uncaught: caught here so the test can say so instead of dying.
    process.on('uncaughtException', onCrash);
    t.teardown(() => void process.off('uncaughtException', onCrash));
    const gateway = await startTestGateway(t);
    const bad = await rawUpstream(t, answer);
    const good = await rawUpstream(t, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const { auth, events } = register(gateway, [`127.0.0.1:${bad}`, `127.0.0.1:${good}`]);
    const text = await plainRequest(gateway, bad, auth, crashes);
    t.same(crashes, [], 'nothing was thrown past the gateway');
    t.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/, 'the tool is told 502');
    t.match(text, /the upstream's answer cannot be passed on: ERR_/, 'naming why');
    t.match(events, [{ kind: 'http', port: bad, decision: 'refused', rule: /^the upstream's answer cannot be passed on: / }], 'and the request is recorded as refused');
    t.match(await plainRequest(gateway, good, auth), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/, 'the next request is served');
  });
}

t.test('an upstream connection left idle in a launch pool is closed by the gateway, whatever the upstream would keep open', async (t) => {
  const gateway = await startTestGateway(t);
  // An upstream that keeps every connection open and answers each request at once, keep-alive.
  const closed: boolean[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const at = closed.push(false) - 1;
    sockets.add(socket);
    socket.on('close', () => {
      closed[at] = true;
      sockets.delete(socket);
    });
    socket.on('error', () => socket.destroy());
    socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=86400\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  const port = (server.address() as net.AddressInfo).port;
  const { auth, events } = register(gateway, [`127.0.0.1:${port}`]);
  t.match(await plainRequest(gateway, port, auth), /^HTTP\/1\.1 200 OK\r\n[^]*ok$/, 'the request is served');
  t.match(events, [{ decision: 'allowed', port }], 'and recorded');
  t.equal(closed.length, 1, 'over one upstream connection');
  await waitFor('the idle upstream connection to be closed', () => closed[0], GENEROUS_MS);
  t.pass('the gateway closed it');
});

t.test('a request whose answer is slower than the idle bound is still served: only a pooled connection with no request on it is closed', async (t) => {
  const gateway = await startTestGateway(t);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    // The head at once, the body a while after the gateway's idle bound (4 s) has passed.
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n');
      setTimeout(() => socket.write('late'), 5_500);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.close(() => resolve());
  }));
  const port = (server.address() as net.AddressInfo).port;
  const { auth } = register(gateway, [`127.0.0.1:${port}`]);
  t.match(await plainRequest(gateway, port, auth), /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nlate$/, 'the whole answer came through');
});
