import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import t, { type Test } from 'tap';
import { createCertificateAuthority, type CertificateAuthority } from '../../runtime/egress/certificates/certificate-authority.ts';
import { interceptTls, type InterceptOutcome } from '../../runtime/egress/interception/tls-interception.ts';
import { waitFor } from '../helpers/wait-for.ts';

// An adversarial review of the interception: a tool that has only the leaf of the runtime's
// CA tries to make the upstream's answer carry the secret past the redactor, or to make one
// budgeted tunnel cost the upstream more than one connection. The upstream here is a raw
// TLS server on 127.0.0.1 that writes exactly the bytes each test gives it.

const SECRET = 'sk-review-7f3a9c2e1b';
const VALUE = `Bearer ${SECRET}`;
const HOST = 'api.test';

/** One request as the raw upstream parsed it. */
interface RawRequest {
  line: string;
  head: string;
  auth: string;
}

/** The bytes a raw upstream answers one request with; `end` closes its connection after them. */
type Answer = (request: RawRequest) => Buffer | { bytes: Buffer; end: true } | Promise<Buffer>;

/** A raw TLS upstream: each request (heads only, no bodies) is answered with the bytes `answer` returns. */
async function rawUpstream(t: Test, ca: CertificateAuthority, answer: Answer) {
  const state = { port: 0, requests: [] as RawRequest[], connections: 0, open: 0, maxOpen: 0 };
  const server = tls.createServer({ ...ca.leafFor(HOST) }, (socket) => {
    state.connections++;
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    socket.on('close', () => state.open--);
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let chain = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        const auth = /^authorization: *(.*)$/im.exec(head)?.[1] ?? '';
        const request = { line: head.split('\r\n')[0] ?? '', head, auth };
        state.requests.push(request);
        chain = chain.then(async () => {
          const answered = await answer(request);
          if (socket.destroyed) return;
          if (Buffer.isBuffer(answered)) socket.write(answered);
          else socket.end(answered.bytes);
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}

/** The runtime CA, an intercepting front on loopback in front of `upstream`, and a raw tool client. */
async function front(t: Test, upstreamCa: CertificateAuthority, upstreamPort: number) {
  const runtimeCa = createCertificateAuthority();
  const outcomes: Promise<InterceptOutcome>[] = [];
  const server = net.createServer((socket) => {
    outcomes.push(
      interceptTls(socket, {
        host: HOST,
        port: upstreamPort,
        address: '127.0.0.1',
        leaf: runtimeCa.leafFor(HOST),
        injection: { header: 'Authorization', value: VALUE, secret: SECRET },
        upstreamCa: [upstreamCa.certificatePem],
        onBytes: () => {},
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  /** Writes `bytes` on a fresh TLS connection and returns everything read until the front closes it. */
  const exchange = async (bytes: string): Promise<string> => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: HOST, ca: runtimeCa.certificatePem });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    socket.write(bytes);
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return text;
  };
  return { exchange, outcomes, host: `${HOST}:${upstreamPort}` };
}

async function setup(t: Test, answer: Answer) {
  const upstreamCa = createCertificateAuthority();
  const upstream = await rawUpstream(t, upstreamCa, answer);
  return { upstream, ...(await front(t, upstreamCa, upstream.port)) };
}

const response = (head: string[], body: string | Buffer = '') =>
  Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1')]);

const get = (host: string, path = '/', close = true) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

t.test('pipelined requests in one tunnel reach the upstream over one connection at a time', async (t) => {
  const { upstream, exchange, host } = await setup(t, async () => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return response(['HTTP/1.1 200 OK', 'content-length: 2'], 'ok');
  });
  const text = await exchange(`${get(host, '/1', false)}${get(host, '/2', false)}${get(host, '/3', false)}${get(host, '/4', false)}${get(host, '/5')}`);
  t.equal(text.match(/HTTP\/1\.1 200/g)?.length, 5, 'every pipelined request was answered');
  t.equal(upstream.requests.length, 5);
  t.equal(upstream.maxOpen, 1, 'never more than one upstream connection open for the one tunnel the budget admitted');
});

t.test('a response header whose name carries the secret comes back with the name masked', async (t) => {
  const { exchange, host } = await setup(t, (request) =>
    response(['HTTP/1.1 200 OK', `x-echo-${request.auth.slice(7)}: 1`, 'content-length: 2', 'connection: close'], 'ok'),
  );
  const text = await exchange(get(host));
  t.match(text, new RegExp(`^HTTP/1\\.1 200 .*\r\nx-echo-${'\\*'.repeat(SECRET.length)}: 1\r\n`, 's'), 'the name is kept, as long, the secret masked');
  t.notOk(text.includes(SECRET), 'the secret is nowhere in what the tool read');
});

t.test('a transfer coding other than chunked (gzip under chunked) is not passed on unredacted', async (t) => {
  const { exchange, host } = await setup(t, (request) => {
    const packed = gzipSync(`you sent ${request.auth}`);
    return response(['HTTP/1.1 200 OK', 'transfer-encoding: gzip, chunked', 'connection: close'], Buffer.concat([Buffer.from(`${packed.length.toString(16)}\r\n`), packed, Buffer.from('\r\n0\r\n\r\n')]));
  });
  const text = await exchange(get(host));
  const body = text.slice(text.indexOf('\r\n\r\n') + 4);
  t.match(text, /^HTTP\/1\.1 502 .*transfer-encoding gzip, chunked cannot be redacted/s);
  t.notOk(text.includes(SECRET), 'the secret is not in the bytes');
  // The tool can gunzip what it got: the gzip bytes themselves must not reach it.
  t.notOk(body.includes('\x1f\x8b'), 'no gzip stream reaches the tool to be unpacked there');
});

t.test('1xx informational responses and trailers carrying the secret never reach the tool', async (t) => {
  const { exchange, host } = await setup(t, (request) =>
    Buffer.concat([
      response(['HTTP/1.1 103 Early Hints', `link: </x?t=${request.auth}>; rel=preload`]),
      response(['HTTP/1.1 200 OK', 'transfer-encoding: chunked', 'trailer: x-echo', 'connection: close'], `2\r\nok\r\n0\r\nx-echo: ${request.auth}\r\n\r\n`),
    ]),
  );
  const text = await exchange(get(host));
  t.match(text, /^HTTP\/1\.1 200/);
  t.notOk(text.includes(SECRET), 'neither the early hint nor the trailer brought the secret back');
});

t.test('an upstream switching protocols on a plain request gets no raw stream to the tool', async (t) => {
  const { exchange, host } = await setup(t, (request) => ({
    bytes: response(['HTTP/1.1 101 Switching Protocols', 'upgrade: raw', 'connection: upgrade'], `raw ${request.auth}`),
    end: true,
  }));
  const text = await exchange(get(host));
  t.match(text, /^HTTP\/1\.1 502 .*closed the connection without an answer/s, 'the tool is told, not left waiting');
  t.notOk(text.includes(SECRET), 'no byte of the switched stream reaches the tool');
});

t.test('smuggling shapes are refused before the upstream, which sees one request or none', async (t) => {
  const { upstream, exchange, host } = await setup(t, (request) => response(['HTTP/1.1 200 OK', `content-length: ${request.auth.length}`], request.auth));
  const attempts: [string, string][] = [
    ['Content-Length with Transfer-Encoding', `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 37\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: evil.test\r\n\r\n`],
    ['two Content-Lengths', `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\nGET /2 HTTP/1.1\r\nHost: evil.test\r\n\r\n`],
    ['obs-fold hiding a second Host', `GET / HTTP/1.1\r\nHost: ${host}\r\nX-A: 1\r\n Host: evil.test\r\nConnection: close\r\n\r\n`],
    ['a header name with a trailing space', `GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization : Bearer mine\r\nConnection: close\r\n\r\n`],
    ['a second Host naming another site', `GET / HTTP/1.1\r\nHost: ${host}\r\nHost: evil.test\r\nConnection: close\r\n\r\n`],
    ['Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: evil.test\r\n\r\n`],
  ];
  for (const [what, bytes] of attempts) {
    const before = upstream.requests.length;
    const text = await exchange(bytes);
    const reached = upstream.requests.slice(before);
    t.ok(reached.length <= 1, `${what}: at most one request reached the upstream`);
    t.notOk(reached.some((request) => /evil\.test/.test(request.head)), `${what}: no request naming another site did`);
    t.notOk(text.includes(SECRET), `${what}: the secret did not come back`);
  }
});
