/**
 * Injection scopes: how an `access-secret` inject entry is read, compared and named in
 * decisions. Shared by the manifest's side and the policy's, so both read one entry alike.
 *
 * @module
 */
import { parseNetworkHost } from './network-scope.ts';

/**
 * A secret granted for injection only: the egress gateway puts its value into `header`
 * (as `format`, `{}` replaced by the value) of HTTPS requests to `host`:`port`. The tool
 * never reads it, so the name is in no `Grants.secrets` and no capability token is minted
 * for it; it travels beside the grants, never on the wire.
 */
export interface SecretInjection {
  name: string;
  /** Lower-cased; an IPv6 address keeps its brackets. */
  host: string;
  /** 443 unless the entry names one. */
  port: number;
  header: string;
  format: string;
}

/** An inject entry as validated (manifest or policy): `host` or `host:port`, header, format with its default applied. */
export interface InjectEntry {
  host: string;
  header: string;
  format: string;
}

/** The port an inject entry without one means: injection is for HTTPS. */
export const DEFAULT_INJECT_PORT = 443;

/**
 * An inject entry as a {@link SecretInjection}: the host lower-cased and split from its
 * port (443 unless given), the format as validated (its default `{}` already applied).
 *
 * @example
 * readInjection('API_KEY', { host: 'API.example.com', header: 'Authorization', format: 'Bearer {}' });
 * // { name: 'API_KEY', host: 'api.example.com', port: 443, header: 'Authorization', format: 'Bearer {}' }
 */
export function readInjection(name: string, inject: InjectEntry): SecretInjection {
  const { host, port } = parseNetworkHost(inject.host);
  return { name, host, port: port === null ? DEFAULT_INJECT_PORT : Number(port), header: inject.header, format: inject.format };
}

/** True when two injections put the same secret into the same header of the same host and port, in the same format. */
export function sameInjection(a: SecretInjection, b: SecretInjection): boolean {
  return a.name === b.name && a.host === b.host && a.port === b.port && a.header === b.header && a.format === b.format;
}

/**
 * How an injection is named in decisions and audit: `NAME→host:port Header`. The format is
 * left out (one entry per name, so this names it unambiguously).
 *
 * @example
 * injectionScope({ name: 'API_KEY', host: 'api.example.com', port: 443, header: 'Authorization', format: '{}' });
 * // 'API_KEY→api.example.com:443 Authorization'
 */
export function injectionScope(injection: SecretInjection): string {
  return `${injection.name}→${injection.host}:${injection.port} ${injection.header}`;
}
