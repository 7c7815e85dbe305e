import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface LoopbackServer {
  /** `127.0.0.1:<port>`, the form a manifest grants. */
  hostPort: string;
  port: number;
  url: string;
  /** Every request received, as `METHOD url`. */
  requests: string[];
}

/**
 * An HTTP server on 127.0.0.1 with an OS-chosen port, closed at teardown. It answers
 * every request with `body` and records it, so a test can tell whether a plugin got through.
 */
export async function startLoopbackServer(t: Test, body = 'loopback says hi'): Promise<LoopbackServer> {
  const requests: string[] = [];
  const server = http.createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return { hostPort: `127.0.0.1:${port}`, port, url: `http://127.0.0.1:${port}/`, requests };
}

/** An HTTP server on 127.0.0.1 that counts TCP connections and records request paths. */
export interface CountingServer {
  port: number;
  connections: number;
  requests: string[];
  server: http.Server;
}

/** Starts a loopback HTTP server; `handler` may answer, else it says its own name. Closed when `t` ends. */
export async function loopbackHttp(
  t: Test,
  name: string,
  handler?: (request: http.IncomingMessage, response: http.ServerResponse) => void,
): Promise<CountingServer> {
  const counting: CountingServer = { port: 0, connections: 0, requests: [], server: http.createServer() };
  counting.server.on('connection', () => counting.connections++);
  counting.server.on('request', (request, response) => {
    counting.requests.push(request.url ?? '');
    if (handler) handler(request, response);
    else response.end(name);
  });
  // A WebSocket attempt that got this far would show as an upgrade request.
  counting.server.on('upgrade', (request, socket) => {
    counting.requests.push(`upgrade ${request.url ?? ''}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => counting.server.listen(0, '127.0.0.1', resolve));
  counting.port = (counting.server.address() as AddressInfo).port;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        counting.server.closeAllConnections();
        counting.server.close(() => resolve());
      }),
  );
  return counting;
}

/** A UDP socket on 127.0.0.1 that counts datagrams: a stand-in DNS server. Closed when `t` ends. */
export async function loopbackUdp(t: Test): Promise<{ port: number; packets: number }> {
  const socket = dgram.createSocket('udp4');
  const counting = { port: 0, packets: 0 };
  socket.on('message', () => counting.packets++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  counting.port = socket.address().port;
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return counting;
}
