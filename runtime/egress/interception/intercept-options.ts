/**
 * What {@link interceptTls} is given and gives back, and the one place its options are
 * checked: a bad option fails at the call, naming the field, not later inside a socket
 * handler.
 */
import { isIP } from 'node:net';
import { PluginRuntimeError } from '../../errors.ts';
import type { SchemaIssue } from '../../schema-issues.ts';
import { normaliseHostname } from '../certificates/certificate-authority.ts';
import { HOP_BY_HOP_HEADERS } from './forward-headers.ts';

/** How to intercept one CONNECT tunnel the gateway has already answered with 200. */
export interface InterceptOptions {
  /** The host name the tool asked for (SNI toward the upstream, and what its certificate must name). */
  host: string;
  port: number;
  /** The vetted IP the gateway resolved `host` to: dialled as is, never resolved again. */
  address: string;
  /** The leaf presented to the tool, from `CertificateAuthority.leafFor(host)`. */
  leaf: { key: string; cert: string };
  injection: {
    /** The header the host sets, e.g. "Authorization". */
    header: string;
    /** Its formatted value, e.g. "Bearer s3cr3t". */
    value: string;
    /** The raw secret, masked wherever the upstream echoes it. */
    secret: string;
  };
  /** CAs to trust for the upstream besides Node's default roots (tests use a test CA). */
  upstreamCa?: string[];
  /** Bytes as they are forwarded: `up` tool→server (heads and bodies), `down` server→tool. */
  onBytes(up: number, down: number): void;
  /** Each request answered 403 instead of forwarded, with the reason the tool was told. */
  onRefused?(reason: string): void;
  /** Aborting destroys the tool's connection and every upstream one. */
  signal?: AbortSignal;
}

/** How an interception ended. */
export interface InterceptOutcome {
  /** Requests the tool sent, refused ones included. */
  requests: number;
  /** Requests answered 403 (injected header sent by the tool, upgrade, another host). */
  refused: number;
  /** Why it ended, when not by the tool closing its connection cleanly. */
  reason?: string;
}

/** An HTTP field name (RFC 9110 §5.1 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that frame or route the message: injecting one would break or redirect it. */
const NOT_INJECTABLE = new Set([...HOP_BY_HOP_HEADERS, 'host', 'content-length', 'expect', 'accept-encoding']);
/** Characters a header value cannot carry without splitting the head. */
const UNSAFE_VALUE = /[\r\n\0]/;

/**
 * Checks and copies the options, the host name normalised as leaves are issued for it.
 * @throws PluginRuntimeError `config_invalid` naming every bad field (`details.issues`)
 */
export function normaliseInterceptOptions(options: InterceptOptions): InterceptOptions {
  const issues: SchemaIssue[] = [];
  const problem = (path: string, message: string, received: unknown): void => {
    issues.push({ path, message, expected: null, received: JSON.stringify(received) ?? String(received) });
  };
  let host = options.host;
  try {
    host = normaliseHostname(options.host);
  } catch {
    problem('host', 'must be a DNS name or an IP literal', options.host);
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) problem('port', 'must be an integer 1–65535', options.port);
  if (typeof options.address !== 'string' || isIP(options.address) === 0) {
    problem('address', 'must be an IP literal (the vetted address: it is never resolved)', options.address);
  }
  if (!options.leaf?.key || !options.leaf?.cert) problem('leaf', 'must hold a PEM key and cert', '(missing)');
  const { header, value, secret } = options.injection ?? {};
  if (typeof header !== 'string' || !TOKEN.test(header) || NOT_INJECTABLE.has(header.toLowerCase())) {
    problem('injection.header', 'must be a header name that neither frames nor routes the message', header);
  }
  if (typeof value !== 'string' || UNSAFE_VALUE.test(value)) problem('injection.value', 'must be a string without CR, LF or NUL', '(hidden)');
  if (typeof secret !== 'string' || secret.length === 0) problem('injection.secret', 'must be a non-empty string', '(hidden)');
  if (options.upstreamCa !== undefined && !(Array.isArray(options.upstreamCa) && options.upstreamCa.every((ca) => typeof ca === 'string'))) {
    problem('upstreamCa', 'must be an array of PEM strings', '(not one)');
  }
  if (typeof options.onBytes !== 'function') problem('onBytes', 'must be a function', typeof options.onBytes);
  if (issues.length > 0) {
    const fields = issues.map((issue) => `${issue.path} ${issue.message}`).join('; ');
    throw new PluginRuntimeError('config_invalid', `interceptTls: ${fields}`, { details: { source: 'interceptTls', issues } });
  }
  return { ...options, host, injection: { ...options.injection }, upstreamCa: [...(options.upstreamCa ?? [])] };
}
