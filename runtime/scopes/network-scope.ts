/**
 * Network scopes: how a `host` / `host:port` grant entry is read and what it covers.
 * Matching is on the text as Deno's `--allow-net` reads it (names are not resolved here;
 * addresses are judged in policy/network-ranges.ts).
 *
 * @module
 */

/**
 * Splits `host:port`, `[v6]:port` or `host` into its parts; the host lower-cased, IPv6
 * kept in its brackets.
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
 * True when the grant `grant` covers `wanted`: the same host (case-insensitive, never a
 * subdomain), and for a `host:port` grant the same port. A bare `host` covers every port.
 *
 * @example
 * networkGrantCovers('example.test', 'example.test:8080');  // true
 * networkGrantCovers('example.test:443', 'example.test');   // false
 * networkGrantCovers('example.test', 'api.example.test');   // false
 */
export function networkGrantCovers(grant: string, wanted: string): boolean {
  const g = parseNetworkHost(grant);
  const w = parseNetworkHost(wanted);
  return g.host === w.host && (g.port === null || g.port === w.port);
}
