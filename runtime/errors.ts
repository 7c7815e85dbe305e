/**
 * The runtime's one error class and its stable codes.
 *
 * Code that handles errors matches on `code`, never on message text. Errors that
 * cross the wire to or from a plugin use the plain {@link WireError} shape instead.
 */

/** Every code a {@link PluginRuntimeError} can carry, with what it means. */
export const ERROR_CODES = {
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
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The shape of an error on the wire and in `--json` output: no stack, no cause. */
export interface WireError {
  code: string;
  message: string;
}

/** The one error class the runtime throws. Match on `code`. */
export class PluginRuntimeError extends Error {
  override readonly name = 'PluginRuntimeError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details;
  }

  /** The error as it crosses the wire or goes to `--json` output. */
  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

/** True when `error` is a {@link PluginRuntimeError}, optionally with the given code. */
export function isPluginRuntimeError(error: unknown, code?: ErrorCode): error is PluginRuntimeError {
  return error instanceof PluginRuntimeError && (code === undefined || error.code === code);
}
