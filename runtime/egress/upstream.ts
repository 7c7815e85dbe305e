import type http from 'node:http';
import net from 'node:net';

/** Headers that belong to one hop (RFC 9110 §7.6.1) or to the gateway itself: never passed on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'x-manasvi-dns']);

/** The request's headers as raw pairs, without hop-by-hop ones (and those its Connection header names). */
export function endToEndHeaders(req: http.IncomingMessage, keepUpgrade = false): [string, string][] {
  const named = new Set(
    String(req.headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    const lower = name.toLowerCase();
    const upgradeHeader = keepUpgrade && (lower === 'upgrade' || lower === 'connection');
    if (!upgradeHeader && (HOP_BY_HOP.has(lower) || named.has(lower))) continue;
    if (lower.startsWith('proxy-')) continue;
    pairs.push([name, req.rawHeaders[i + 1]!]);
  }
  return pairs;
}

/** The head of a plain upgrade request (WebSocket), in origin form, as the upstream must see it. */
export function plainUpgradeHead(req: http.IncomingMessage, path: string): string {
  const lines = endToEndHeaders(req, true).map(([name, value]) => `${name}: ${value}`);
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
