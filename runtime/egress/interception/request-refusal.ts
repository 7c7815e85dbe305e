/**
 * Why an intercepted request must not be forwarded with the secret, if it must not. Pure:
 * it reads the request's method, target and headers only.
 */
import { isIP } from 'node:net';

/** The parts of a request the rules read (an `http.IncomingMessage` has them). */
export interface RequestHead {
  method?: string | undefined;
  url?: string | undefined;
  rawHeaders: readonly string[];
}

/** The target the tool's CONNECT named. */
export interface InterceptTarget {
  host: string;
  port: number;
  /** The injected header's name. */
  header: string;
}

/**
 * The reason to refuse, or null to forward. Refused:
 * - a request carrying the injected header itself (any case, any count): the host sets
 *   it, and a tool choosing its own value would defeat the point;
 * - a request target that is not a path (absolute form, `GET https://other/`): servers
 *   must prefer it over Host, so it could carry the secret to another site;
 * - a Host naming another site than the one CONNECT asked for: a server hosting several
 *   sites (a CDN) would route the request, secret and all, to that other site.
 */
export function refusalFor(request: RequestHead, target: InterceptTarget): string | null {
  const headerName = target.header.toLowerCase();
  const hosts: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]?.toLowerCase();
    if (name === headerName) return `the ${target.header} header is injected by the host for ${target.host}; the tool must not send it`;
    if (name === 'host') hosts.push(request.rawHeaders[i + 1] ?? '');
  }
  const url = request.url ?? '';
  if (!url.startsWith('/') && !(url === '*' && request.method === 'OPTIONS')) {
    return `the request target must be a path on ${target.host}, not ${JSON.stringify(url.slice(0, 100))}`;
  }
  if (hosts.length !== 1 || !namesTarget(hosts[0] ?? '', target)) {
    return `the Host header must name ${target.host}, the host this connection was opened to`;
  }
  return null;
}

/** The reason an Upgrade (WebSocket) or a CONNECT inside the intercepted connection is refused. */
export function upgradeRefusal(method: string | undefined, target: InterceptTarget): string {
  if (method === 'CONNECT') return `CONNECT inside the connection to ${target.host} is refused`;
  return (
    `protocol upgrades (WebSocket) are refused on ${target.host}: ` +
    `the host injects ${target.header} into HTTP/1.1 requests only and cannot redact an upgraded stream`
  );
}

/** Whether a Host value ("name", "name:port", "[v6]:port") names the target, port included when given. */
function namesTarget(value: string, target: InterceptTarget): boolean {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim());
  if (!match) return false;
  const name = (match[1] ?? '').replace(/^\[(.*)\]$/, '$1').toLowerCase().replace(/\.$/, '');
  // No port in Host means https's default.
  const port = match[2] === undefined ? 443 : Number(match[2]);
  const wanted = target.host.toLowerCase();
  return port === target.port && (name === wanted || (isIP(name) === 6 && isIP(wanted) === 6 && sameIPv6(name, wanted)));
}

/** Two spellings of one IPv6 address compare equal through the URL parser's canonical form. */
function sameIPv6(a: string, b: string): boolean {
  return new URL(`https://[${a}]/`).hostname === new URL(`https://[${b}]/`).hostname;
}
