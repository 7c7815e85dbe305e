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
