/**
 * Where a proxy request asks to go, read from its request line.
 *
 * @module
 */
import { parseNetworkHost } from '../scopes/network-scope.ts';

/** Host, port (the scheme's default when absent) and origin-form path of an absolute-form URL with one of `protocols`, else null. */
export function absoluteTarget(raw: string | undefined, protocols: readonly string[]): { host: string; port: number; path: string } | null {
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    return null;
  }
  if (!protocols.includes(url.protocol)) return null;
  return { host: url.hostname, port: url.port ? Number(url.port) : 80, path: `${url.pathname}${url.search}` || '/' };
}

/** `host:port` of a CONNECT, or null when it is not one. */
export function connectTarget(authority: string | undefined): { host: string; port: number } | null {
  if (!authority) return null;
  const { host, port } = parseNetworkHost(authority);
  const n = Number(port);
  return host && Number.isInteger(n) && n >= 1 && n <= 65535 ? { host, port: n } : null;
}
