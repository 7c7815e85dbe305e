import http from 'node:http';
import type { Duplex } from 'node:stream';

/** How every refusal's body starts (a tool's HTTP client sees it as a 403 with this text). */
export const GATEWAY_REFUSAL = 'refused by the egress gateway: ';

/** Answers on a raw socket (a CONNECT or an upgrade) with a short plain-text status, and closes it. */
export function refuseRaw(socket: Duplex, status: number, reason: string, extraHeaders = ''): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${extraHeaders}Content-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
