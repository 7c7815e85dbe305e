/**
 * Which headers cross the intercepting gateway, each way. Hop-by-hop headers describe one
 * connection (RFC 9110 §7.6.1) and stop here; Node's client and server write their own.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { redactHeaderName, redactHeaderValue } from './redact-stream.ts';

/** Headers that are always hop-by-hop, lower case. */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers the gateway sets itself, besides the hop-by-hop ones: accept-encoding
 * (identity, so the body can be redacted) and expect (the tool's 100-continue was answered
 * by the gateway's own server already).
 */
const GATEWAY_REQUEST_HEADERS: ReadonlySet<string> = new Set(['accept-encoding', 'expect']);

/** One header as it will be written: its name as first seen, and every value in order. */
export interface HeaderLines {
  name: string;
  values: string[];
}

/** The names a message's Connection header marks hop-by-hop, besides the fixed ones. */
function connectionTokens(rawHeaders: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() !== 'connection') continue;
    for (const token of (rawHeaders[i + 1] ?? '').split(',')) tokens.add(token.trim().toLowerCase());
  }
  return tokens;
}

/**
 * The end-to-end headers of a message from Node's `rawHeaders`, grouped by name (lower
 * case key), values kept in order; hop-by-hop headers and those in `drop` left out.
 */
export function endToEndHeaders(rawHeaders: readonly string[], drop: ReadonlySet<string> = new Set()): Map<string, HeaderLines> {
  const listed = connectionTokens(rawHeaders);
  const headers = new Map<string, HeaderLines>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const key = name.toLowerCase();
    if (HOP_BY_HOP_HEADERS.has(key) || listed.has(key) || drop.has(key)) continue;
    const lines = headers.get(key) ?? { name, values: [] };
    lines.values.push(rawHeaders[i + 1] ?? '');
    headers.set(key, lines);
  }
  return headers;
}

/**
 * The headers sent upstream: the tool's end-to-end headers (Host as it sent it), the
 * injected header, `accept-encoding: identity`, and `transfer-encoding: chunked` again when
 * the tool's body was chunked (Node then chunks it too, whatever the method).
 */
export function upstreamRequestHeaders(
  rawHeaders: readonly string[],
  injection: { header: string; value: string },
): OutgoingHttpHeaders {
  const drop = new Set([...GATEWAY_REQUEST_HEADERS, injection.header.toLowerCase()]);
  const headers: OutgoingHttpHeaders = {};
  for (const { name, values } of endToEndHeaders(rawHeaders, drop).values()) headers[name] = values.length === 1 ? values[0] : values;
  const chunked = rawHeaders.some((entry, i) => i % 2 === 0 && entry.toLowerCase() === 'transfer-encoding');
  if (chunked) headers['transfer-encoding'] = 'chunked';
  headers[injection.header] = injection.value;
  headers['accept-encoding'] = 'identity';
  return headers;
}

/**
 * The headers passed back to the tool: the upstream's end-to-end headers with the
 * patterns masked in every name and value. `decoded` drops content-encoding and content-length,
 * for a body the gateway decompressed to redact it.
 */
export function toolResponseHeaders(rawHeaders: readonly string[], patterns: readonly Buffer[], decoded: boolean): HeaderLines[] {
  const drop: ReadonlySet<string> = decoded ? new Set(['content-encoding', 'content-length']) : new Set();
  return [...endToEndHeaders(rawHeaders, drop).values()].map(({ name, values }) => ({
    name: redactHeaderName(name, patterns),
    values: values.map((value) => redactHeaderValue(value, patterns)),
  }));
}

/** Roughly how many bytes a message head takes on the wire: its first line and header lines. */
export function headSize(firstLine: string, rawHeaders: readonly string[]): number {
  let size = Buffer.byteLength(firstLine, 'latin1') + 4; // CRLF after it and after the last header
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) size += (rawHeaders[i] ?? '').length + 2 + (rawHeaders[i + 1] ?? '').length + 2;
  return size;
}
