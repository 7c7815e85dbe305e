// The upstream of the egress section: an HTTP/1.1 server on 127.0.0.1, in a process of its
// own so that the egress gateway (which runs in the bench's own Node process, as it runs in a
// host's) never shares an event loop with the server it forwards to. Plain HTTP, or HTTPS
// when ORIGIN_TLS_KEY and ORIGIN_TLS_CERT hold a PEM key and certificate (the bench's CA
// issues one for 127.0.0.1): the same routes either way, so the two rows differ by TLS alone.
//
//   GET  /small           → "ok" (2 bytes)
//   GET  /large?bytes=N   → N zero bytes, written in 1 MiB chunks as the socket drains
//   POST /upload          → the body read to its end; answers its size as text
//
// Started with child_process.fork: sends { port } once listening, and answers each
// { type: 'stats' } with { connections } (TCP connections accepted so far), so the bench can
// tell keep-alive held. Ends when the IPC channel closes.
import http from 'node:http';
import https from 'node:https';

const CHUNK = Buffer.alloc(1024 * 1024);
const MAX_BYTES = 1024 * 1024 * 1024;
let connections = 0;

function large(url, res) {
  const bytes = Number(url.searchParams.get('bytes'));
  if (!Number.isInteger(bytes) || bytes < 0 || bytes > MAX_BYTES) return res.writeHead(400).end('bytes=N, 0..1 GiB\n');
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes) });
  let left = bytes;
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

function answer(req, res) {
  const url = new URL(req.url ?? '/', 'http://origin');
  if (req.method === 'GET' && url.pathname === '/small') return res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '2' }).end('ok');
  if (req.method === 'GET' && url.pathname === '/large') return large(url, res);
  if (req.method === 'POST' && url.pathname === '/upload') {
    let received = 0;
    req.on('data', (chunk) => (received += chunk.length));
    req.on('end', () => {
      const body = String(received);
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(body.length) }).end(body);
    });
    return;
  }
  res.writeHead(404).end();
}

const { ORIGIN_TLS_KEY: key, ORIGIN_TLS_CERT: cert } = process.env;
const server = key && cert ? https.createServer({ key, cert }, answer) : http.createServer(answer);
// Past any pause between the bench's rounds, so a kept-alive connection is never closed under it.
server.keepAliveTimeout = 60_000;
server.on('connection', (socket) => {
  connections++;
  socket.setNoDelay(true);
});
server.listen({ host: '127.0.0.1', port: 0 }, () => process.send({ port: server.address().port }));
process.on('message', (message) => {
  if (message?.type === 'stats') process.send({ connections });
});
process.on('disconnect', () => process.exit(0));
