/**
 * The runtime's one error class and its stable codes.
 *
 * Code that handles errors matches on `code`, never on message text. Errors that
 * cross the wire to or from a plugin use the plain {@link WireError} shape instead.
 */
import type { ViolationReason } from './channel/violation.ts';
import type { GrantDecision } from './grants/grants.ts';
import type { HandshakeFailureReason } from './handshake/token-registry.ts';
import type { ArgumentIssue } from './manifest/input-validator.ts';
import type { SchemaIssue } from './schema-issues.ts';

/** Every code a {@link PluginRuntimeError} can carry, with what it means. */
export const ERROR_CODES = {
  manifest_not_found: 'no manifest at the path given (a folder stands for its manifest.json); `details.manifestPath` is the absolute path looked for',
  manifest_invalid: 'the manifest failed validation; `details.issues` names each field',
  config_invalid: 'deno-launch.json or a runtime option failed validation',
  policy_invalid: 'the operator policy failed validation; `details.issues` names each field',
  grant_refused: 'a granted tree holds a symlink leading out or a hard-linked file; the path is named',
  deno_not_found: 'no Deno binary at the configured path',
  deno_unsupported: 'the Deno binary is older than deno-launch.json allows',
  import_refused: 'the plugin bundle imports something outside its folder and the SDK',
  bundle_failed: 'esbuild could not bundle the plugin entry',
  sandbox_exceeds_grants: "a tool's sandbox asks for more than the plugin is granted",
  unknown_tool: 'the plugin has no tool by that name',
  invalid_arguments: "call arguments do not match the tool's input schema",
  invalid_output: "the tool's value does not match the `output` schema its manifest declares; `details.issues` names each path",
  handshake_failed: 'the plugin process did not complete the launch handshake',
  protocol_violation: 'the plugin process broke the channel protocol and was killed',
  plugin_crashed: 'the plugin process exited or was killed while the call was in flight',
  timeout: 'the call passed its deadline',
  cancelled: "the caller's signal aborted the call",
  overloaded: 'the tool process has too many calls in flight and queued',
  capability_denied: 'a capability request was not granted',
  tool_failed: 'the tool ran and reported an error',
  shutting_down: 'the runtime or plugin is stopping',
  plugin_parked: 'the tool crashed too often within the restart window and is parked until reset or the window passes',
  resource_exhausted: 'the process passed a resource limit (`details.limit`: heap, rss, cpu or file_size) and was killed',
  runtime_closed: 'the runtime was closed (a load in flight when close() began ends with this too)',
  load_timeout: "loading the plugin (manifest, grants, bundle) did not finish within deno-launch.json's `load.timeoutMs`",
  layer_unavailable:
    'a layer deno-launch.json or the policy requires cannot be given on this host; `details.layer` names it, `details.reason` says why, `details.requiredBy` where it was required',
  name_collision: 'two tools served together (over MCP) would have the same name; `details.name` is the name, `details.plugins` and `details.manifestPaths` the plugins that claim it',
} as const;

/** A stable error code: one of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Issues from a manifest, policy, config or arguments check: one per field, by dotted path. */
type Issues = { issues: SchemaIssue[] };

/**
 * What each code's `details` holds. A code mapped to `undefined` carries no details.
 * Shapes are plain object types (not interfaces) so any of them still reads as a
 * `Record<string, unknown>`.
 */
export interface ErrorDetailsByCode {
  /** The absolute path looked for: the path given, or `<folder>/manifest.json` for a folder. */
  manifest_not_found: { manifestPath: string };
  /** From the manifest file (`manifestPath`) or a tool's sandbox check (`tool`). */
  manifest_invalid: Issues & { manifestPath?: string; tool?: string };
  config_invalid: Issues & { source: string };
  policy_invalid: Issues & { source: string };
  /** `mode` is `read` or `write`; `root` the granted tree; `path` the entry inside it that was refused. */
  grant_refused: { mode: string; root: string; path: string; why: string };
  deno_not_found: undefined;
  deno_unsupported: { found: string; required: string };
  /** What is known about the refused import: the checks at resolution, load and after the build each name what they saw. */
  import_refused: {
    entryPath?: string;
    specifier?: string;
    importer?: string;
    path?: string;
    why?: string;
    /** The template-literal imports esbuild expanded into globs. */
    globImports?: string[];
    /** Imports still left in the bundle after the build. */
    imports?: string[];
  };
  bundle_failed: undefined;
  /** Each sandbox entry the plugin's grants do not cover. */
  sandbox_exceeds_grants: { tool: string; refused: { field: string; entry: string }[]; advice?: GrantAdvice };
  /** The plugin's tools. */
  unknown_tool: { tools: string[] };
  invalid_arguments: { issues: ArgumentIssue[] };
  invalid_output: { issues: ArgumentIssue[] };
  handshake_failed: { reason: HandshakeFailureReason; stderr: string[] };
  protocol_violation: { reason: ViolationReason };
  /** An exit (`exitCode`, `signal`, the `stderr` tail) or a process that stopped answering pings. */
  plugin_crashed: {
    exitCode?: number | null;
    signal?: string | null;
    stderr?: string[];
    reason?: 'unresponsive';
    missedPings?: number;
  };
  timeout: undefined;
  cancelled: undefined;
  overloaded: undefined;
  capability_denied: undefined;
  /** The code the plugin's own error carried (printable text). */
  tool_failed: { pluginCode: string };
  shutting_down: undefined;
  /** Epoch milliseconds when the tool may start again. */
  plugin_parked: { until: number };
  /** The limit passed; for `rss` the size seen and the limit, otherwise how the process exited. */
  resource_exhausted: {
    limit: 'heap' | 'rss' | 'cpu' | 'file_size' | 'egress_connections_per_call' | 'egress_bytes_per_call' | 'egress_concurrent_connections';
    rssMb?: number;
    limitMb?: number;
    exitCode?: number | null;
    signal?: string | null;
    stderr?: string[];
  };
  /** The manifest whose load was in flight, if any. */
  runtime_closed: { manifestPath?: string };
  load_timeout: { manifestPath: string; timeoutMs: number };
  name_collision: { name: string; plugins: string[]; manifestPaths: string[] };
  layer_unavailable: { layer: string; reason: string; requiredBy: string; plugin: string; tool: string };
}

type DetailKey = { [C in ErrorCode]: ErrorDetailsByCode[C] extends object ? keyof ErrorDetailsByCode[C] : never }[ErrorCode];

/**
 * Each code's details with every other code's fields declared absent (`?: never`): an
 * error whose code is not known statically still reads its details by key
 * (`error.details?.issues`), and narrowing by code gives the exact shape.
 */
type ExclusiveDetailsByCode = {
  [C in ErrorCode]: ErrorDetailsByCode[C] extends undefined
    ? undefined
    : ErrorDetailsByCode[C] & { [K in Exclude<DetailKey, keyof ErrorDetailsByCode[C]>]?: never };
};

/** The details of an error with code `C` (any code: the union of them all). */
export type ErrorDetails<C extends ErrorCode = ErrorCode> = ExclusiveDetailsByCode[C];

/** How an operator could grant what a sandbox was refused (see `grants/grant-advice.ts`). */
export interface GrantAdvice {
  /** The policy in force (its file), or null when none was given. */
  policy: string | null;
  /** One sentence: no policy was given, or which policy lacks the entry. */
  summary: string;
  /** Policy JSON granting exactly the refusable scopes: a policy file of its own, or entries to add. Null when none would help. */
  snippet: { plugins: Record<string, Record<string, unknown>> } | null;
  /** Scopes no policy can grant, with the rule that refuses them. */
  ungrantable: { scope: string; why: string }[];
}

/**
 * A plugin refused at load time while its grants were computed: its name and one
 * decision per declared scope, so an operator still sees every rule that decided.
 */
export interface LoadDecisions {
  plugin: string;
  decisions: readonly GrantDecision[];
}

/** The shape of an error on the wire and in `--json` output: no stack, no cause. */
export interface WireError {
  code: string;
  message: string;
}

/** What a {@link PluginRuntimeError} is built with besides its code and message. */
export interface PluginRuntimeErrorOptions<C extends ErrorCode = ErrorCode> {
  cause?: unknown;
  details?: ErrorDetails<C>;
  loadDecisions?: LoadDecisions;
}

/**
 * The one error class the runtime throws. Match on `code`; narrowing by code (see
 * {@link isPluginRuntimeError}) types `details`.
 *
 * @example
 * if (isPluginRuntimeError(error, 'sandbox_exceeds_grants')) {
 *   for (const { field, entry } of error.details?.refused ?? []) console.error(field, entry);
 * }
 */
export class PluginRuntimeError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = 'PluginRuntimeError';
  readonly code: C;
  /** What this code says beyond its message: see {@link ErrorDetailsByCode}. */
  readonly details: ErrorDetails<C> | undefined;
  /** Set when a load was refused after its grants were decided: every decision, with its rule. */
  readonly loadDecisions: LoadDecisions | undefined;

  constructor(code: C, message: string, options: PluginRuntimeErrorOptions<C> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
    this.loadDecisions = options.loadDecisions;
  }

  /** The error as it crosses the wire or goes to `--json` output. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/**
 * True when `error` is a {@link PluginRuntimeError}, optionally with the given code; with a
 * code, `details` is narrowed to that code's shape.
 *
 * @param error anything caught
 * @param code the code to match; omitted, any code matches
 * @returns whether `error` is a runtime error (with that code)
 * @example
 * try {
 *   await plugin.call('echo', { text: 'hi' });
 * } catch (error) {
 *   if (isPluginRuntimeError(error, 'invalid_arguments')) console.error(error.details?.issues);
 *   else if (isPluginRuntimeError(error)) console.error(error.code, error.message);
 * }
 */
export function isPluginRuntimeError<C extends ErrorCode = ErrorCode>(error: unknown, code?: C): error is PluginRuntimeError<C> {
  return error instanceof PluginRuntimeError && (code === undefined || error.code === code);
}
