import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { EgressGateway } from '../../runtime/egress/egress-gateway.ts';
import type { ResolvedAddress } from '../../runtime/egress/vet-address.ts';

/**
 * A TCP server on 127.0.0.1 running `onSocket` for each connection, closed at teardown with
 * every socket it still holds (upgraded or tunnelled ones included, or close() would wait).
 */
export async function loopbackTcp(t: Test, onSocket: (socket: net.Socket) => void): Promise<{ port: number; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, sockets };
}

/** An upstream on 127.0.0.1 answering every request with `answer`, byte for byte: one a plugin's author runs. */
export async function rawUpstream(t: Test, answer: string): Promise<number> {
  const { port } = await loopbackTcp(t, (socket) => socket.once('data', () => socket.end(Buffer.from(answer, 'latin1'))));
  return port;
}

/** A gateway on a random loopback address and a short Unix socket, with the test's own resolver (no real DNS); closed at teardown. */
export async function startTestGateway(t: Test, lookup: (name: string) => Promise<ResolvedAddress[]> = async () => []): Promise<EgressGateway> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'eg-'));
  const gateway = await EgressGateway.start({
    listenHost: EgressGateway.randomLoopback(),
    socketPath: path.join(dir, 'g.sock'),
    connectTimeoutMs: 10_000,
    resolveTimeoutMs: 10_000,
    denyHosts: [],
    ownAddresses: () => new Set(),
    lookup,
  });
  t.teardown(async () => {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return gateway;
}
