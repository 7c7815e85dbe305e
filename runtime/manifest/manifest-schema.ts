import * as v from 'valibot';
import { RESERVED_KEYS } from './reserved-keys.ts';

/** `[a-z0-9-]{1,64}`: the plugin's name, used in logs, audit records and policy. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9-]{1,64}$/;
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = `${LABEL}(?:\\.${LABEL})*`;
const PORT = '(?:[1-9]\\d{0,3}|[1-5]\\d{4}|6[0-4]\\d{3}|65[0-4]\\d{2}|655[0-2]\\d|6553[0-5])';
/** `host` or `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address. */
const EXACT_HOST_PATTERN = new RegExp(`^(?:${DNS_NAME}|\\[[0-9A-Fa-f:.]+\\])(?::${PORT})?$`);
/**
 * `host`, `host:port`, `*.domain` or `*.domain:port`: a DNS name, an IPv4 address or a
 * bracketed IPv6 address, or a DNS name under a whole first label of `*`.
 */
const NETWORK_ENTRY_PATTERN = new RegExp(`^(?:${DNS_NAME}|\\[[0-9A-Fa-f:.]+\\]|\\*\\.${DNS_NAME})(?::${PORT})?$`);
/**
 * A wildcard whose domain is one label (`*.com`, a whole top-level domain) or ends in a
 * number (`*.1.2.3.4`, which the resolver reads as an address range): the JSON Schema
 * form of {@link allowedWildcard}'s refusals.
 */
export const REFUSED_WILDCARD_SOURCE = '^\\*\\.(?:[^.]*|.*\\.(?:[0-9]+|0[xX][0-9A-Fa-f]*))(?::[0-9]+)?$';
const REFUSED_WILDCARD = new RegExp(REFUSED_WILDCARD_SOURCE);

/**
 * True for a well-formed wildcard entry a grant may hold: `*.` then a DNS name of at
 * least two labels whose last label is no number, then an optional port. `*.com` would
 * take a whole top-level domain and `*.1.2.3.4` reads as addresses, so both are refused.
 *
 * @example
 * allowedWildcard('*.example.com:8443'); // true
 * allowedWildcard('*.com');              // false
 */
export function allowedWildcard(entry: string): boolean {
  return entry.startsWith('*.') && NETWORK_ENTRY_PATTERN.test(entry) && !REFUSED_WILDCARD.test(entry);
}

/** Message of the wildcard-domain check; manifest-json-schema.ts translates it by this text. */
export const WILDCARD_DOMAIN_RULE = 'a wildcard "*.domain" whose domain has at least two labels and is no IP address (not "*.com" or "*.10.0.0.1")';

const networkHost = v.pipe(
  v.string(),
  v.maxLength(260),
  v.regex(NETWORK_ENTRY_PATTERN, 'a "host", "host:port", "*.domain" or "*.domain:port" string (no scheme or path; "*" only as the whole first label)'),
  // Judged only on entries of the right shape, so one mistake is reported once.
  v.check((entry) => !NETWORK_ENTRY_PATTERN.test(entry) || !REFUSED_WILDCARD.test(entry), WILDCARD_DOMAIN_RULE),
);
const secretName = v.pipe(v.string(), v.regex(SECRET_NAME_PATTERN, 'an upper-case secret name such as API_KEY'));
const pathEntry = v.pipe(v.string(), v.minLength(1, 'a non-empty path'), v.maxLength(4096));
const uniqueList = <T extends v.GenericSchema<string>>(item: T) =>
  v.pipe(
    v.array(item),
    v.check((list) => new Set(list).size === list.length, 'no repeated entries'),
  );

export const FilesystemAccessSchema = v.strictObject({
  read: v.optional(uniqueList(pathEntry)),
  write: v.optional(uniqueList(pathEntry)),
});

/** A header name as RFC 7230 spells a token: letters, digits and ``!#$%&'*+-.^_`|~``. */
const HEADER_TOKEN_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** `word` in any letter case, as a pattern without flags (JSON Schema patterns take none). */
const anyCase = (word: string) => [...word].map((c) => (/[a-z]/.test(c) ? `[${c.toUpperCase()}${c}]` : c)).join('');
/**
 * Headers the request is framed or routed by, or that the gateway sets itself: injecting
 * one would let a secret's value rewrite where or how the gateway's request goes (or be
 * dropped by the interception), so none may carry one.
 */
const FRAMING_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'trailer', 'keep-alive', 'expect', 'accept-encoding'];
export const REFUSED_HEADER_SOURCE = `^(?:${FRAMING_HEADERS.map(anyCase).join('|')}|${anyCase('proxy-')}.*)$`;
const REFUSED_HEADER = new RegExp(REFUSED_HEADER_SOURCE);
/** Message of the refused-header check; manifest-json-schema.ts translates it by this text. */
export const HEADER_RULE =
  'not a header the request is framed or routed by, or the gateway sets (Host, Content-Length, Transfer-Encoding, Connection, Upgrade, TE, Trailer, Keep-Alive, Expect, Accept-Encoding, Proxy-*)';
/** Printable ASCII holding `{}` exactly once: where the secret's value goes. */
const INJECT_FORMAT_PATTERN = /^(?:(?!\{\})[\x20-\x7E])*\{\}(?:(?!\{\})[\x20-\x7E])*$/;

/**
 * Where the egress gateway puts a secret the tool never sees: into one header of HTTPS
 * requests to one exact host (`host` or `host:port`, port 443 unless given), as `format`
 * with `{}` replaced by the value.
 */
export const SecretInjectSchema = v.strictObject({
  host: v.pipe(
    v.string(),
    v.maxLength(260),
    v.regex(EXACT_HOST_PATTERN, 'an exact "host" or "host:port" string (no wildcard, scheme or path; port 443 unless given)'),
  ),
  header: v.pipe(
    v.string(),
    v.maxLength(100, 'a header name of at most 100 characters'),
    v.regex(HEADER_TOKEN_PATTERN, "a header name: letters, digits and !#$%&'*+-.^_`|~ only"),
    v.check((header) => !REFUSED_HEADER.test(header), HEADER_RULE),
  ),
  format: v.optional(
    v.pipe(
      v.string(),
      v.maxLength(200, 'a format of at most 200 characters'),
      v.regex(INJECT_FORMAT_PATTERN, 'printable ASCII holding "{}" exactly once, where the value goes (such as "Bearer {}")'),
    ),
    '{}',
  ),
});

const SECRET_ENTRY_SHAPE = 'a secret name such as API_KEY, or {"name": …, "inject": {"host": …, "header": …, "format"?: …}} with exactly those keys';

/**
 * What is wrong with a secret entry that is neither form. valibot reports such a union by
 * its type alone; an object's own problems (a missing or unknown key) are what the author
 * needs, so they are named from the object form's issues.
 */
function secretEntryMessage(issue: v.UnionIssue<v.BaseIssue<unknown>>): string {
  const problems = (issue.issues ?? []).flatMap((sub) => {
    if (!sub.path?.length) return [];
    const key = sub.path.map((item) => String(item.key)).join('.');
    if (sub.expected === 'never') return [`${key} is not a key it takes`];
    return [sub.input === undefined ? `${key} is missing` : `${key}: ${sub.message}`];
  });
  return problems.length > 0 ? `${SECRET_ENTRY_SHAPE}: ${problems.join('; ')}` : SECRET_ENTRY_SHAPE;
}

/** A secret entry: a name the tool may read, or a name the gateway injects for it (the tool never reads it). */
export const SecretEntrySchema = v.union(
  [secretName, v.strictObject({ name: secretName, inject: SecretInjectSchema })],
  secretEntryMessage,
);

/** The name a secret entry is about, in either form. */
export const secretEntryName = (entry: string | { name: string }): string => (typeof entry === 'string' ? entry : entry.name);

/** Message of the one-entry-per-secret check; manifest-json-schema.ts translates it by this text. */
export const SECRET_NAMED_ONCE = 'each secret named once (as a name or as an inject entry, not both)';

export const CapabilitiesSchema = v.strictObject({
  'provide-tools': v.optional(v.literal(true)),
  'access-network': v.optional(uniqueList(networkHost)),
  /** A secret is either handed to the tool or injected for it, never both, and into one place only. */
  'access-secret': v.optional(
    v.pipe(
      v.array(SecretEntrySchema),
      v.check((list) => new Set(list.map(secretEntryName)).size === list.length, SECRET_NAMED_ONCE),
    ),
  ),
  'access-filesystem': v.optional(FilesystemAccessSchema),
});

/** What one tool's own process may do: a subset of the plugin's grants. Absent ⇒ nothing. */
export const ToolSandboxSchema = v.strictObject({
  network: v.optional(uniqueList(networkHost)),
  filesystem: v.optional(FilesystemAccessSchema),
  secrets: v.optional(uniqueList(secretName)),
});

export const ToolSchema = v.strictObject({
  description: v.pipe(v.string(), v.maxLength(2000)),
  input: v.record(v.string(), v.unknown()),
  /** A JSON Schema every value the tool returns is checked against (an MCP client sees it as `outputSchema`). */
  output: v.optional(v.record(v.string(), v.unknown())),
  sandbox: v.optional(ToolSandboxSchema),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** Tools one manifest may list: each is its own process when used, and each input schema is compiled at load. */
export const MAX_TOOLS = 1024;

/** Message of the reserved-name check; manifest-json-schema.ts translates it by this text. */
export const NOT_RESERVED = 'not a name JavaScript objects reserve (__proto__, constructor, prototype)';
/**
 * valibot skips reserved keys before a record's key schema runs (parseManifest reports
 * them); on a key this check carries the rule into the published JSON Schema, on a value
 * it applies as written.
 */
const notReserved = v.check((name: string) => !RESERVED_KEYS.includes(name), NOT_RESERVED);

export const ManifestSchema = v.strictObject({
  $schema: v.optional(v.string()),
  name: v.pipe(v.string(), v.regex(PLUGIN_NAME_PATTERN, 'a name matching [a-z0-9-]{1,64}'), notReserved),
  version: v.pipe(v.string(), v.regex(SEMVER_PATTERN, 'a semantic version such as 1.0.0')),
  description: v.optional(v.pipe(v.string(), v.maxLength(2000))),
  entry: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
  capabilities: v.optional(CapabilitiesSchema, {}),
  tools: v.pipe(
    v.record(v.pipe(v.string(), v.regex(TOOL_NAME_PATTERN, 'a tool name matching [a-z][a-z0-9_-]{0,63}'), notReserved), ToolSchema),
    v.check((tools) => Object.keys(tools).length > 0, 'at least one tool'),
    v.maxEntries(MAX_TOOLS, `at most ${MAX_TOOLS} tools`),
  ),
});

/** A plugin's `manifest.json` as validated: name, version, entry, capabilities, tools. */
export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type Capabilities = v.InferOutput<typeof CapabilitiesSchema>;
export type ToolSandbox = v.InferOutput<typeof ToolSandboxSchema>;
export type ToolDefinition = v.InferOutput<typeof ToolSchema>;
export type SecretEntry = v.InferOutput<typeof SecretEntrySchema>;
export type SecretInject = v.InferOutput<typeof SecretInjectSchema>;
