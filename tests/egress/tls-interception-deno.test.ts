import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { createCertificateAuthority } from '../../runtime/egress/certificates/certificate-authority.ts';
import { interceptTls, type InterceptOutcome } from '../../runtime/egress/interception/tls-interception.ts';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';

const SECRET = 'deno-s3cr3t-5678';
const HOST = 'api.test';

/** Fetches through the proxy: once plainly, once setting Authorization itself; prints both as JSON. */
const TOOL = `
const [proxy, url] = Deno.args;
const client = Deno.createHttpClient({ proxy: { url: proxy } });
const results = [];
for (const headers of [{}, { authorization: 'Bearer mine' }]) {
  const response = await fetch(url, { client, headers });
  results.push({ status: response.status, echo: response.headers.get('x-echo'), length: response.headers.get('content-length'), body: await response.text() });
}
client.close();
console.log(JSON.stringify(results));
`;

t.test('a Deno tool trusting the runtime CA (DENO_CERT) fetches through a CONNECT front: secret injected, masked, refused when sent', async (t) => {
  const runtimeCa = createCertificateAuthority();
  const upstreamCa = createCertificateAuthority();
  const seen: (string | undefined)[] = [];
  const upstream = https.createServer({ ...upstreamCa.leafFor(HOST) }, (request, response) => {
    seen.push(request.headers.authorization);
    const body = `token ${request.headers.authorization ?? ''}\n`;
    response.writeHead(200, { 'content-length': Buffer.byteLength(body), 'x-echo': request.headers.authorization ?? '' });
    response.end(body);
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (upstream.closeAllConnections(), upstream.close(() => resolve()))));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  // The front: answers CONNECT for api.test with 200 and intercepts; nothing else is resolved or dialled.
  const outcomes: Promise<InterceptOutcome>[] = [];
  const connects: string[] = [];
  const front = http.createServer((_request, response) => response.writeHead(405).end());
  front.on('connect', (request: http.IncomingMessage, socket, head: Buffer) => {
    connects.push(request.url ?? '');
    socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    outcomes.push(
      interceptTls(socket, {
        host: HOST,
        port: upstreamPort,
        address: '127.0.0.1',
        leaf: runtimeCa.leafFor(HOST),
        injection: { header: 'Authorization', value: `Bearer ${SECRET}`, secret: SECRET },
        upstreamCa: [upstreamCa.certificatePem],
        onBytes: () => {},
      }),
    );
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => (front.closeAllConnections(), front.close(() => resolve()))));
  const frontPort = (front.address() as AddressInfo).port;

  const dir = t.testdir({ 'tool.ts': TOOL });
  const caFile = path.join(dir, 'runtime-ca.pem');
  runtimeCa.writeCertificate(caFile);
  const result = await execa(
    bundledDenoPath(),
    ['run', '--no-prompt', `--allow-net=${HOST},127.0.0.1`, path.join(dir, 'tool.ts'), `http://127.0.0.1:${frontPort}`, `https://${HOST}:${upstreamPort}/`],
    { env: { DENO_CERT: caFile, DENO_DIR: path.join(dir, 'deno-dir'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, extendEnv: false, reject: false },
  );
  t.equal(result.exitCode, 0, result.stderr);
  const masked = '*'.repeat(`Bearer ${SECRET}`.length);
  const [plain, selfSet] = JSON.parse(result.stdout) as { status: number; echo: string | null; length: string | null; body: string }[];
  t.same(plain, { status: 200, echo: masked, length: String(`token ${masked}\n`.length), body: `token ${masked}\n` });
  t.match(selfSet, { status: 403, echo: null, body: /Authorization header is injected by the host/ });
  t.same(seen, [`Bearer ${SECRET}`], 'the upstream saw the injected secret once, and never the tool’s own');
  t.same(connects, [`${HOST}:${upstreamPort}`], 'one CONNECT, kept alive for both requests');
  front.closeAllConnections();
  t.same(await Promise.all(outcomes), [{ requests: 2, refused: 1 }]);
});
