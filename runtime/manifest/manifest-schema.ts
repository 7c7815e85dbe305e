import * as v from 'valibot';
import { RESERVED_KEYS } from './reserved-keys.ts';

/** `[a-z0-9-]{1,64}`: the plugin's name, used in logs, audit records and policy. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9-]{1,64}$/;
export const TOOL_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,63}$/;
export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
/** `host` or `host:port`: a DNS name, an IPv4 address or a bracketed IPv6 address. */
const NETWORK_HOST_PATTERN =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-4]\d{3}|65[0-4]\d{2}|655[0-2]\d|6553[0-5]))?$/;

const networkHost = v.pipe(
  v.string(),
  v.maxLength(260),
  v.regex(NETWORK_HOST_PATTERN, 'a "host" or "host:port" string (no scheme, path or wildcard)'),
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

export const CapabilitiesSchema = v.strictObject({
  'provide-tools': v.optional(v.literal(true)),
  'access-network': v.optional(uniqueList(networkHost)),
  'access-secret': v.optional(uniqueList(secretName)),
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
