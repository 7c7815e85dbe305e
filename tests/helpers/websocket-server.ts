import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Test } from 'tap';

/** The GUID RFC 6455 §1.3 appends to the client's key. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WebSocketEchoServer {
  port: number;
  /** Every upgrade request's path, in order. */
  upgrades: string[];
  /** Every text message received, in order. */
  messages: string[];
  /** Every plain (non-upgrade) request's path. */
  requests: string[];
}

/** One unmasked frame from the server: FIN set, a payload under 64 KiB. */
function frame(opcode: number, payload: Buffer): Buffer {
  const head = payload.length < 126 ? Buffer.from([0x80 | opcode, payload.length]) : Buffer.from([0x80 | opcode, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([head, payload]);
}

/** The first whole frame in `buffer` (client frames are masked), or null while it is incomplete. */
function readFrame(buffer: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (buffer.length < 2) return null;
  const opcode = buffer[0]! & 0x0f;
  const masked = (buffer[1]! & 0x80) !== 0;
  let length = buffer[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (buffer.length < 4) return null;
    length = buffer.readUInt16BE(2);
    at = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return null;
    length = Number(buffer.readBigUInt64BE(2));
    at = 10;
  }
  const mask = masked ? buffer.subarray(at, at + 4) : null;
  if (masked) at += 4;
  if (buffer.length < at + length) return null;
  const payload = Buffer.from(buffer.subarray(at, at + length));
  if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
  return { opcode, payload, size: at + length };
}

/** Answers text frames with `echo:<text>`, pings with pongs and a close with a close. */
function echoFrames(socket: Duplex, server: WebSocketEchoServer): void {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (let parsed = readFrame(pending); parsed; parsed = readFrame(pending)) {
      pending = pending.subarray(parsed.size);
      if (parsed.opcode === 0x1) {
        server.messages.push(parsed.payload.toString('utf8'));
        socket.write(frame(0x1, Buffer.from(`echo:${parsed.payload.toString('utf8')}`)));
      } else if (parsed.opcode === 0x9) {
        socket.write(frame(0xa, parsed.payload));
      } else if (parsed.opcode === 0x8) {
        socket.end(frame(0x8, parsed.payload.subarray(0, 2)));
        return;
      }
    }
  });
  socket.on('error', () => socket.destroy());
}

/**
 * A WebSocket echo server on 127.0.0.1 (an OS-chosen port), closed when `t` ends: the
 * RFC 6455 handshake (`Sec-WebSocket-Accept` from the client's key) and text frames
 * answered `echo:<text>`. Enough for a plugin's `new WebSocket(url)` to open, send and
 * hear back, so a test can tell a refused upgrade from one that got through.
 */
export async function startWebSocketEcho(t: Test): Promise<WebSocketEchoServer> {
  const echo: WebSocketEchoServer = { port: 0, upgrades: [], messages: [], requests: [] };
  const server = http.createServer((request, response) => {
    echo.requests.push(request.url ?? '');
    response.writeHead(426, { 'Content-Type': 'text/plain' }).end('upgrade required\n');
  });
  const sockets = new Set<Duplex>();
  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex) => {
    echo.upgrades.push(request.url ?? '');
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const key = request.headers['sec-websocket-key'];
    if (typeof key !== 'string' || String(request.headers.upgrade).toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    echoFrames(socket, echo);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  echo.port = (server.address() as AddressInfo).port;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return echo;
}
