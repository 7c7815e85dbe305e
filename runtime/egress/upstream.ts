import type http from 'node:http';
import net from 'node:net';
import { endToEndHeaders } from './interception/forward-headers.ts';

/**
 * The request's headers as raw pairs for the upstream: the end-to-end ones (see
 * forward-headers.ts), never a `Proxy-*` one or the bridge's DNS marker; `transfer-encoding:
 * chunked` again when the tool's body was chunked, and for an upgrade its `Connection` and
 * `Upgrade` again (they are what the upgrade is).
 */
export function endToEndPairs(message: http.IncomingMessage, upgrade = false): [string, string][] {
  const pairs = [...endToEndHeaders(message.rawHeaders, new Set(['x-manasvi-dns'])).values()]
    .filter(({ name }) => !name.toLowerCase().startsWith('proxy-'))
    .flatMap(({ name, values }) => values.map((value): [string, string] => [name, value]));
  if (message.headers['transfer-encoding'] !== undefined) pairs.push(['Transfer-Encoding', 'chunked']);
  if (upgrade && message.headers.upgrade !== undefined) pairs.unshift(['Connection', 'Upgrade'], ['Upgrade', message.headers.upgrade]);
  return pairs;
}

/** The head of a plain upgrade request (WebSocket), in origin form, as the upstream must see it. */
export function plainUpgradeHead(req: http.IncomingMessage, path: string): string {
  const lines = endToEndPairs(req, true).map(([name, value]) => `${name}: ${value}`);
  return `${req.method} ${path || '/'} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A TCP connection to an address already vetted (never a name: nothing is resolved again). */
export function openUpstream(
  address: string,
  port: number,
  family: 4 | 6,
  timeoutMs: number,
): Promise<{ ok: true; socket: net.Socket } | { ok: false; reason: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, family, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, reason: `no connection within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ ok: true, socket });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, reason: error.code ?? error.message });
    });
  });
}
