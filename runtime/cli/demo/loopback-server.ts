import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server on 127.0.0.1 that counts the requests it receives. */
export interface LoopbackServer {
  /** `127.0.0.1:<port>`, as a network grant would name it. */
  readonly hostPort: string;
  readonly url: string;
  /** Requests received so far: the host's own evidence of whether a plugin got through. */
  readonly hits: number;
  close(): Promise<void>;
}

/** Starts a server on an ephemeral loopback port that answers every request with `body`. */
export async function startLoopbackServer(body: string): Promise<LoopbackServer> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits += 1;
    response.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    response.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPort = `127.0.0.1:${port}`;
  return {
    hostPort,
    url: `http://${hostPort}/`,
    get hits() {
      return hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
