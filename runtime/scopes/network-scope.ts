/**
 * Network scopes: how a `host` / `host:port` / `*.domain[:port]` grant entry is read and
 * what it covers. Matching is on the text as Deno's `--allow-net` reads it (names are not
 * resolved here; addresses are judged in policy/network-ranges.ts).
 *
 * @module
 */

/**
 * Splits `host:port`, `[v6]:port` or `host` into its parts; the host lower-cased, IPv6
 * kept in its brackets. A wildcard `*.domain` is a host like any other here.
 *
 * @example
 * parseNetworkHost('Example.TEST:443'); // { host: 'example.test', port: '443' }
 * parseNetworkHost('[::1]');            // { host: '[::1]', port: null }
 */
export function parseNetworkHost(entry: string): { host: string; port: string | null } {
  const bracketed = /^(\[[^\]]+\])(?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), port: bracketed[2] ?? null };
  const colon = entry.lastIndexOf(':');
  if (colon === -1) return { host: entry.toLowerCase(), port: null };
  return { host: entry.slice(0, colon).toLowerCase(), port: entry.slice(colon + 1) };
}

/**
 * The domain of a wildcard entry (`*.example.com[:port]` → `example.com`), lower-cased;
 * null for an entry that is no wildcard. Only a whole first label of `*` makes one.
 *
 * @example
 * wildcardDomain('*.Example.com:8443'); // 'example.com'
 * wildcardDomain('example.com');        // null
 */
export function wildcardDomain(entry: string): string | null {
  const { host } = parseNetworkHost(entry);
  return host.startsWith('*.') ? host.slice(2) : null;
}

/**
 * True when a name's last label is a number (`1.2.3.4`, `10.0x7f`): the URL parser and
 * inet_aton read such a name as an IPv4 address, so no wildcard may reach it.
 */
export function endsInNumber(name: string): boolean {
  return /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/i.test(name);
}

/**
 * True when `name` lies strictly below `domain` (one or more labels more), never `domain`
 * itself, and neither holds a `*` or reads as an address.
 */
function strictlyBelow(name: string, domain: string): boolean {
  if (name.includes('*') || domain.includes('*') || endsInNumber(name)) return false;
  return name.length > domain.length + 1 && name.endsWith(`.${domain}`);
}

/**
 * True when the grant `grant` covers `wanted`, and for a `host:port` grant only on that
 * port (a grant without a port covers every port). An exact host covers that host only
 * (case-insensitive, never a subdomain, never a wildcard). A wildcard `*.domain` covers
 * every name strictly below `domain` and every wildcard at or below its own, never the
 * apex `domain` itself: that is a separate grant.
 *
 * @example
 * networkGrantCovers('example.test', 'example.test:8080');     // true
 * networkGrantCovers('example.test:443', 'example.test');      // false
 * networkGrantCovers('example.test', 'api.example.test');      // false
 * networkGrantCovers('*.example.test', 'a.b.example.test');    // true
 * networkGrantCovers('*.example.test', '*.a.example.test');    // true
 * networkGrantCovers('*.example.test', 'example.test');        // false
 * networkGrantCovers('a.example.test', '*.a.example.test');    // false
 */
export function networkGrantCovers(grant: string, wanted: string): boolean {
  const g = parseNetworkHost(grant);
  const w = parseNetworkHost(wanted);
  if (g.port !== null && g.port !== w.port) return false;
  const grantDomain = wildcardDomain(grant);
  if (grantDomain === null) return g.host === w.host;
  const wantedDomain = wildcardDomain(wanted);
  if (wantedDomain !== null) return !grantDomain.includes('*') && (wantedDomain === grantDomain || strictlyBelow(wantedDomain, grantDomain));
  return strictlyBelow(w.host, grantDomain);
}
