import * as v from 'valibot';
import { allowedWildcard, PLUGIN_NAME_PATTERN, SecretEntrySchema } from '../manifest/manifest-schema.ts';
import { RequiredLayerSchema } from '../layer-names.ts';
import { parseCidr } from './network-ranges.ts';

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

/** Per-plugin overrides of deno-launch.json's numbers. */
export const LimitsPolicySchema = v.strictObject({
  heapMb: v.optional(positiveInt),
  rssMb: v.optional(positiveInt),
  cpuSeconds: v.optional(positiveInt),
  fileSizeMb: v.optional(positiveInt),
  maxConcurrent: v.optional(positiveInt),
  maxQueued: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  maxProcesses: v.optional(positiveInt),
  defaultTimeoutMs: v.optional(positiveInt),
  idleMs: v.optional(positiveInt),
  /** Per process, per call, through the egress gateway (deno-launch.json `egress`). */
  egressConnectionsPerCall: v.optional(positiveInt),
  egressBytesPerCall: v.optional(positiveInt),
  egressConcurrentConnections: v.optional(positiveInt),
});

const pathEntry = v.pipe(v.string(), v.minLength(1), v.maxLength(4096));
const hostEntry = v.pipe(v.string(), v.minLength(1), v.maxLength(260));
/** A `*` anywhere but as the whole first label of a name with two labels or more would be read as something else, or as far too much. */
const WILDCARD_RULE = 'a wildcard only as "*.domain" or "*.domain:port", the domain of two labels or more and no IP address (not "*.com", "a.*.example.com" or "*.10.0.0.1")';
const wildcardWellFormed = (entry: string) => !entry.includes('*') || allowedWildcard(entry);
const networkEntry = v.pipe(hostEntry, v.check((entry) => entry === '*' || wildcardWellFormed(entry), `"*", an exact host, or ${WILDCARD_RULE}`));
/** A deny entry that could never match (a typo'd CIDR) would deny nothing, silently. */
const denyHostEntry = v.pipe(
  hostEntry,
  v.check((entry) => !entry.includes('/') || parseCidr(entry) !== null, 'a host, an IP address, or a CIDR range such as 10.0.0.0/8'),
  v.check(wildcardWellFormed, WILDCARD_RULE),
);

/** What the operator allows one plugin: each list is a ceiling its manifest is intersected with. */
export const PluginPolicySchema = v.strictObject({
  /** Default true: a plugin may serve the tools its manifest lists. */
  'provide-tools': v.optional(v.boolean()),
  /**
   * Exact `host` / `host:port` strings, wildcards `*.domain[:port]` (names below the
   * domain, not the domain itself), or "*" for any public host (never private, loopback,
   * link-local or metadata ranges).
   */
  'access-network': v.optional(v.array(networkEntry)),
  /**
   * Secret names a tool may read, or inject entries `{name, inject: {host, header,
   * format}}` the egress gateway may inject: each grants only its own form, an inject
   * entry only the very same injection.
   */
  'access-secret': v.optional(v.array(SecretEntrySchema)),
  /** Folders (or files) a declared path must lie inside; relative entries resolve against the policy file's folder. */
  'access-filesystem': v.optional(
    v.strictObject({ read: v.optional(v.array(pathEntry)), write: v.optional(v.array(pathEntry)) }),
  ),
  limits: v.optional(LimitsPolicySchema),
  /** Layers this plugin's tools must run under (added to deno-launch.json's); a host that cannot give one refuses the load. */
  layers: v.optional(v.strictObject({ require: v.optional(v.array(RequiredLayerSchema)) })),
});

export type LimitsPolicy = v.InferOutput<typeof LimitsPolicySchema>;

export const PolicySchema = v.strictObject({
  $schema: v.optional(v.string()),
  plugins: v.optional(
    v.record(v.pipe(v.string(), v.regex(PLUGIN_NAME_PATTERN, 'a plugin name')), PluginPolicySchema),
    {},
  ),
  /** Denied whatever any plugin entry says. */
  deny: v.optional(
    v.strictObject({
      paths: v.optional(v.array(pathEntry), []),
      /** Host names, IP addresses, CIDR ranges such as 10.0.0.0/8, or wildcards `*.domain` (every name below it). */
      hosts: v.optional(v.array(denyHostEntry), []),
    }),
    { paths: [], hosts: [] },
  ),
});

/**
 * The operator policy as written (a `policy.json`, or the same object for
 * `createRuntime({ policy })`): per plugin what it may be granted, and global denies.
 *
 * @example
 * const policy: PolicyInput = { plugins: { notes: { 'access-filesystem': { read: ['/srv/notes'] } } }, deny: { paths: ['/home'] } };
 */
export type PolicyInput = v.InferInput<typeof PolicySchema>;
export type Policy = v.InferOutput<typeof PolicySchema>;
export type PluginPolicy = v.InferOutput<typeof PluginPolicySchema>;
