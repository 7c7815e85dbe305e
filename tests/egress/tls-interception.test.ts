import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { createCertificateAuthority, type CertificateAuthority } from '../../runtime/egress/certificates/certificate-authority.ts';
import { interceptTls, type InterceptOptions, type InterceptOutcome } from '../../runtime/egress/interception/tls-interception.ts';
import { rejection, waitFor } from '../helpers/wait-for.ts';

const SECRET = 's3cr3t-token-1234';
const VALUE = `Bearer ${SECRET}`;
const HOST = 'api.test';

/** What the test upstream saw of one request. */
interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The test upstream's routes: each shows back what it was sent, in the ways a real API might. */
async function route(request: http.IncomingMessage, response: http.ServerResponse, body: string): Promise<void> {
  const auth = request.headers.authorization ?? '';
  const echo = `you sent ${auth}; again: ${auth.slice(7)}\n`;
  const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));
  switch (request.url) {
    case '/echo':
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(echo), 'x-echo': auth, 'set-cookie': [`t=${auth.slice(7)}`, 'plain=1'] });
      return void response.end(echo);
    case '/chunked': {
      // The secret split across writes (and so across chunks), halves a pause apart.
      response.writeHead(200, { 'content-type': 'text/plain', 'x-echo': auth });
      const cut = Math.floor(echo.length / 2) - 5;
      for (const piece of [echo.slice(0, 14), echo.slice(14, cut), echo.slice(cut)]) {
        response.write(piece);
        await pause();
      }
      return void response.end();
    }
    case '/gzip':
      response.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
      return void response.end(gzipSync(echo));
    case '/reason':
      response.writeHead(200, `OK ${auth.slice(7)}`, { 'content-length': 2 });
      return void response.end('ok');
    case '/upload':
      return void response.end(`got ${body.length} bytes: ${body}`);
    case '/zstd':
      response.writeHead(200, { 'content-encoding': 'zstd' });
      return void response.end(echo);
    case '/encoding':
      return void response.end(`accept-encoding=${request.headers['accept-encoding']}`);
    default:
      return void response.end('ok');
  }
}

/** An HTTPS server on 127.0.0.1 with a leaf from its own test CA for `name`; closed at teardown. */
async function upstreamServer(t: Test, ca: CertificateAuthority, name = HOST) {
  const seen: Seen[] = [];
  const state = { port: 0, seen, connections: 0, upgrades: 0 };
  const server = https.createServer({ ...ca.leafFor(name) }, (request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      void route(request, response, body);
    });
  });
  server.on('secureConnection', () => state.connections++);
  server.on('upgrade', (_request, socket) => {
    state.upgrades++;
    socket.destroy();
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))));
  return state;
}

interface Front {
  port: number;
  outcomes: Promise<InterceptOutcome>[];
  bytes: { up: number; down: number };
  refusals: string[];
}

/** A plain TCP server on 127.0.0.1 that intercepts every connection it accepts, as the gateway would after CONNECT. */
async function interceptingFront(t: Test, options: Omit<InterceptOptions, 'onBytes' | 'onRefused'>, onBytes?: InterceptOptions['onBytes']): Promise<Front> {
  const front: Front = { port: 0, outcomes: [], bytes: { up: 0, down: 0 }, refusals: [] };
  const server = net.createServer((socket) => {
    front.outcomes.push(
      interceptTls(socket, {
        ...options,
        onBytes: onBytes ?? ((up, down) => ((front.bytes.up += up), (front.bytes.down += down))),
        onRefused: (reason) => front.refusals.push(reason),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front.port = (server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return front;
}

/** A runtime CA, a test upstream with its own CA, and an intercepting front between them. */
async function setup(
  t: Test,
  override: { host?: string; upstreamName?: string; trustUpstream?: boolean; port?: number; onBytes?: InterceptOptions['onBytes'] } = {},
) {
  const host = override.host ?? HOST;
  const runtimeCa = createCertificateAuthority();
  const upstreamCa = createCertificateAuthority();
  const upstream = await upstreamServer(t, upstreamCa, override.upstreamName ?? host);
  const port = override.port ?? upstream.port;
  const front = await interceptingFront(t, {
    host,
    port,
    address: '127.0.0.1',
    leaf: runtimeCa.leafFor(host),
    injection: { header: 'Authorization', value: VALUE, secret: SECRET },
    ...(override.trustUpstream === false ? {} : { upstreamCa: [upstreamCa.certificatePem] }),
  }, override.onBytes);
  // The tool: trusts the runtime CA only, asks for api.test, reaches the front on loopback.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: runtimeCa.certificatePem, ...(host === HOST ? { servername: HOST } : {}) });
  t.teardown(() => agent.destroy());
  const tool = (path: string, extra: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    new Promise<{ status: number; message: string; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const request = https.request(
        { agent, host: '127.0.0.1', port: front.port, path, method: extra.method ?? 'GET', headers: { host: `${host}:${port}`, ...extra.headers } },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, message: response.statusMessage ?? '', headers: response.headers, body }));
        },
      );
      request.on('error', reject);
      request.end(extra.body);
    });
  /** Closes the tool's connections and waits for every interception to end. */
  const done = async (): Promise<InterceptOutcome[]> => {
    agent.destroy();
    return Promise.all(front.outcomes);
  };
  return { runtimeCa, upstreamCa, upstream, front, port, tool, done };
}

const stars = (text: string): string => '*'.repeat(Buffer.byteLength(text));

t.test('the upstream sees the injected secret; the tool sees it masked, lengths intact', async (t) => {
  const { upstream, front, port, tool, done } = await setup(t);
  const reply = await tool('/echo', { headers: { 'accept-encoding': 'gzip', 'proxy-authorization': 'Basic dG9vbA==' } });
  t.equal(upstream.seen.length, 1);
  const seen = upstream.seen[0]!;
  t.equal(seen.headers.authorization, VALUE, 'the header is injected');
  t.equal(seen.headers.host, `${HOST}:${port}`, 'Host as the tool sent it');
  t.equal(seen.headers['accept-encoding'], 'identity');
  t.equal(seen.headers['proxy-authorization'], undefined, 'hop-by-hop headers stop at the gateway');

  const expected = `you sent ${stars(VALUE)}; again: ${stars(SECRET)}\n`;
  t.equal(reply.status, 200);
  t.equal(reply.body, expected);
  t.equal(reply.headers['content-length'], String(Buffer.byteLength(expected)), "the upstream's Content-Length still holds");
  t.equal(reply.headers['x-echo'], stars(VALUE));
  t.same(reply.headers['set-cookie'], [`t=${stars(SECRET)}`, 'plain=1']);
  t.notMatch(JSON.stringify(reply), SECRET);
  t.same(await done(), [{ requests: 1, refused: 0 }]);
  t.ok(front.bytes.up > 0 && front.bytes.down >= Buffer.byteLength(expected), 'bytes were counted both ways');
});

t.test('a secret split across chunks of a chunked response is masked all the same', async (t) => {
  const { tool, done } = await setup(t);
  const reply = await tool('/chunked');
  t.equal(reply.headers['transfer-encoding'], 'chunked');
  t.equal(reply.body, `you sent ${stars(VALUE)}; again: ${stars(SECRET)}\n`);
  t.equal(reply.headers['x-echo'], stars(VALUE));
  await done();
});

t.test('the status message, and a body compressed against the request, are masked too', async (t) => {
  const { tool, done } = await setup(t);
  const reason = await tool('/reason');
  t.equal(reason.message, `OK ${stars(SECRET)}`);
  const gzipped = await tool('/gzip');
  t.equal(gzipped.body, `you sent ${stars(VALUE)}; again: ${stars(SECRET)}\n`, 'decoded so it could be masked');
  t.equal(gzipped.headers['content-encoding'], undefined);
  t.equal((await tool('/encoding')).body, 'accept-encoding=identity');
  const unknown = await tool('/zstd');
  t.equal(unknown.status, 502, 'an encoding the gateway cannot undo is not passed on');
  t.match(unknown.body, /content-encoding zstd cannot be redacted/);
  await done();
});

t.test('a request that sets the injected header itself is refused with 403 and never reaches the upstream', async (t) => {
  const { upstream, front, tool, done } = await setup(t);
  for (const name of ['Authorization', 'authorization']) {
    const reply = await tool('/echo', { headers: { [name]: 'Bearer mine' } });
    t.equal(reply.status, 403);
    t.match(reply.body, /Authorization header is injected by the host/);
    t.equal(reply.headers['content-type'], 'text/plain; charset=utf-8');
  }
  t.equal(upstream.seen.length, 0, 'the upstream saw nothing');
  t.equal(front.refusals.length, 2);
  t.match(front.refusals[0], /injected by the host/);
  const after = await tool('/echo');
  t.equal(after.status, 200, 'the connection still serves a proper request');
  t.same(await done(), [{ requests: 3, refused: 2 }], 'all on one connection');
});

t.test('keep-alive: requests share one tool connection and one upstream connection; bodies go through', async (t) => {
  const { upstream, front, tool, done } = await setup(t);
  t.equal((await tool('/')).body, 'ok');
  t.equal((await tool('/upload', { method: 'POST', body: 'x'.repeat(5000) })).body, `got 5000 bytes: ${'x'.repeat(5000)}`);
  t.equal((await tool('/upload', { method: 'PUT', headers: { 'transfer-encoding': 'chunked' }, body: 'chunked body' })).body, 'got 12 bytes: chunked body');
  t.equal(front.outcomes.length, 1, 'one tool connection');
  t.equal(upstream.connections, 1, 'one upstream connection, kept alive');
  t.same(upstream.seen.map(({ method, url }) => `${method} ${url}`), ['GET /', 'POST /upload', 'PUT /upload']);
  t.ok(front.bytes.up > 5000);
  t.same(await done(), [{ requests: 3, refused: 0 }]);
});

t.test('an upstream whose certificate is not trusted, or names another host, or is not there, gets the tool a 502', async (t) => {
  const untrusted = await setup(t, { trustUpstream: false });
  const reply = await untrusted.tool('/echo');
  t.equal(reply.status, 502);
  t.match(reply.body, /could not complete the request to api\.test: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)/);
  t.equal(untrusted.upstream.seen.length, 0);
  await untrusted.done();

  const misnamed = await setup(t, { upstreamName: 'other.test' });
  const wrongName = await misnamed.tool('/echo');
  t.equal(wrongName.status, 502);
  t.match(wrongName.body, /ERR_TLS_CERT_ALTNAME_INVALID/);
  t.equal(misnamed.upstream.seen.length, 0);
  await misnamed.done();

  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const absent = await setup(t, { port: closedPort });
  const refused = await absent.tool('/');
  t.equal(refused.status, 502);
  t.match(refused.body, /ECONNREFUSED/);
  await absent.done();
});

/** Writes `head` on a fresh TLS connection to the front and reads until the front closes it. */
async function rawExchange(front: Front, ca: CertificateAuthority, head: string): Promise<string> {
  const socket = tls.connect({ host: '127.0.0.1', port: front.port, servername: HOST, ca: ca.certificatePem });
  await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  socket.write(head);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return text;
}

t.test('WebSocket upgrades, CONNECT, other hosts and absolute targets are refused with 403 saying why', async (t) => {
  const { runtimeCa, upstream, front, port, done } = await setup(t);
  const host = `${HOST}:${port}`;
  const upgrade = await rawExchange(front, runtimeCa, `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
  t.match(upgrade, /^HTTP\/1\.1 403 Forbidden\r\n/);
  t.match(upgrade, /upgrades \(WebSocket\) are refused/);
  const connect = await rawExchange(front, runtimeCa, `CONNECT elsewhere.test:443 HTTP/1.1\r\nHost: elsewhere.test:443\r\n\r\n`);
  t.match(connect, /^HTTP\/1\.1 403 .*CONNECT inside the connection/s);
  const otherHost = await rawExchange(front, runtimeCa, `GET / HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n`);
  t.match(otherHost, /^HTTP\/1\.1 403 .*Host header must name api\.test/s);
  const absolute = await rawExchange(front, runtimeCa, `GET https://evil.test/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  t.match(absolute, /^HTTP\/1\.1 403 .*must be a path on api\.test/s);
  t.equal(upstream.seen.length + upstream.upgrades, 0, 'the upstream saw none of them');
  t.equal(front.refusals.length, 4);
  t.same(await done(), Array(4).fill({ requests: 1, refused: 1 }));
});

t.test('the tool is offered HTTP/1.1 only, and a tool not trusting the CA ends the interception with a reason', async (t) => {
  const { runtimeCa, front, done } = await setup(t);
  const socket = tls.connect({ host: '127.0.0.1', port: front.port, servername: HOST, ca: runtimeCa.certificatePem, ALPNProtocols: ['h2', 'http/1.1'] });
  await new Promise<void>((resolve) => socket.once('secureConnect', resolve));
  t.equal(socket.alpnProtocol, 'http/1.1');
  socket.end();
  const distrusting = tls.connect({ host: '127.0.0.1', port: front.port, servername: HOST, ca: createCertificateAuthority().certificatePem });
  const error = await new Promise<NodeJS.ErrnoException>((resolve) => distrusting.once('error', resolve));
  t.equal(error.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  const outcomes = await done();
  t.same(outcomes[0], { requests: 0, refused: 0 });
  t.match(outcomes[1], { requests: 0, refused: 0, reason: /TLS handshake/ });
});

t.test('aborting the signal ends the interception at once, in-flight upstream request included', async (t) => {
  const runtimeCa = createCertificateAuthority();
  const upstreamCa = createCertificateAuthority();
  let arrived = false;
  let upstreamClosed = false;
  // Never answers; notes when the gateway's connection to it goes.
  const hanging = https.createServer({ ...upstreamCa.leafFor(HOST) }, (request) => {
    arrived = true;
    request.socket.once('close', () => (upstreamClosed = true));
  });
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (hanging.closeAllConnections(), hanging.close(() => resolve()))));
  const port = (hanging.address() as AddressInfo).port;
  const controller = new AbortController();
  const [client, server] = await socketPair();
  const outcome = interceptTls(server, {
    host: HOST, port, address: '127.0.0.1', leaf: runtimeCa.leafFor(HOST), upstreamCa: [upstreamCa.certificatePem],
    injection: { header: 'Authorization', value: VALUE, secret: SECRET }, onBytes: () => {}, signal: controller.signal,
  });
  const tool = tls.connect({ socket: client, servername: HOST, ca: runtimeCa.certificatePem });
  tool.on('error', () => {});
  await new Promise<void>((resolve) => tool.once('secureConnect', resolve));
  tool.write(`GET /hang HTTP/1.1\r\nHost: ${HOST}:${port}\r\n\r\n`);
  await waitFor('the request to reach the upstream', () => arrived);
  controller.abort();
  t.same(await outcome, { requests: 1, refused: 0, reason: 'aborted' });
  await new Promise<void>((resolve) => (tool.destroyed ? resolve() : tool.once('close', () => resolve())));
  t.ok(tool.destroyed, "the tool's connection is gone");
  t.ok(await waitFor('the upstream connection to close', () => upstreamClosed), 'and so is the upstream one');
});

/** A connected pair of TCP sockets on loopback. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect((listener.address() as AddressInfo).port, '127.0.0.1');
  const server = await accepted;
  listener.close();
  return [client, server];
}

t.test('bad options are refused at the call, naming each field, and the connection is closed', async (t) => {
  const [client, server] = await socketPair();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const ca = createCertificateAuthority();
  const error = await rejection(
    interceptTls(server, {
      host: '*.test', port: 0, address: 'api.test', leaf: ca.leafFor('a.test'),
      injection: { header: 'Host', value: 'a\r\nb', secret: '' }, onBytes: () => {},
    }),
  );
  t.equal(error.code, 'config_invalid');
  const paths = (error.details?.issues as { path: string }[]).map(({ path }) => path);
  t.same(paths, ['host', 'port', 'address', 'injection.header', 'injection.value', 'injection.secret']);
  t.notMatch(error.message, /a\r\nb/, 'the value is not repeated');
  await closed;
});

t.test('an IP literal host is verified against the upstream certificate’s IP address, without SNI', async (t) => {
  const { upstream, tool, done } = await setup(t, { host: '127.0.0.1' });
  const reply = await tool('/echo');
  t.equal(reply.status, 200);
  t.equal(upstream.seen[0]?.headers.authorization, VALUE);
  t.same(await done(), [{ requests: 1, refused: 0 }]);
});

t.test('a callback that throws ends the interception, named in the outcome, not the process', async (t) => {
  const { tool, done } = await setup(t, {
    onBytes: () => {
      throw new Error('quota bookkeeping broke');
    },
  });
  await t.rejects(tool('/echo'));
  const [outcome] = await done();
  t.match(outcome, { requests: 1, reason: 'a callback threw: quota bookkeeping broke' });
});

t.test('a connection already closed ends at once, with a reason', async (t) => {
  const [client, server] = await socketPair();
  server.destroy();
  client.destroy();
  const ca = createCertificateAuthority();
  const outcome = await interceptTls(server, {
    host: HOST, port: 443, address: '127.0.0.1', leaf: ca.leafFor(HOST),
    injection: { header: 'Authorization', value: VALUE, secret: SECRET }, onBytes: () => {},
  });
  t.same(outcome, { requests: 0, refused: 0, reason: "the tool's connection was already closed" });
});

t.test('a signal aborted before the call ends the interception at once and closes the connection', async (t) => {
  const [client, server] = await socketPair();
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  const ca = createCertificateAuthority();
  const outcome = await interceptTls(server, {
    host: HOST, port: 443, address: '127.0.0.1', leaf: ca.leafFor(HOST), signal: AbortSignal.abort(),
    injection: { header: 'Authorization', value: VALUE, secret: SECRET }, onBytes: () => {},
  });
  t.same(outcome, { requests: 0, refused: 0, reason: 'aborted' });
  await closed;
});
