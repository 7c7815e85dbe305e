import { EventEmitter } from 'node:events';
import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { GrantDecision, Grants } from '../grants/grants.ts';
import type { Manifest } from '../manifest/manifest-schema.ts';
import type { CallProgress } from '../supervisor/call-ledger.ts';
import type { ToolPool } from '../supervisor/tool-pool.ts';
import type { ToolStateEvent } from './create-tool-pools.ts';
import type { PluginPlan, PreparedTool } from './prepare-plugin.ts';
import { describeSchemaIssues } from '../schema-issues.ts';

/** One line a plugin process wrote to stderr (control characters escaped, cut at `limits.stderrLineBytes`). */
export interface PluginLogLine {
  plugin: string;
  tool: string;
  launchId: string;
  line: string;
}

/** Per-call options for {@link PluginHandle.call}. */
export interface CallOptions {
  /** Deadline for this call; capped by deno-launch.json's `calls.maxTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting it cancels the call: it ends with `cancelled`. */
  signal?: AbortSignal;
  /**
   * Receives the tool's progress reports (`ctx.progress` in the SDK), in order: `done`
   * always rises, `total` is at least `done` when given, at most `calls.progressPerSecond`
   * a second. Nothing arrives after the call ends.
   */
  onProgress?: (progress: CallProgress) => void;
}

/**
 * A loaded plugin: its grants, its tools, and calls into them. Returned by
 * `runtime.load`; only the runtime makes one.
 *
 * @example
 * const echo = await runtime.load('manifests/examples/echo/manifest.json');
 * echo.on('state', ({ tool, state }) => console.log(tool, state));
 * console.log(await echo.call('echo', { text: 'hi' }));
 */
export interface PluginHandle {
  readonly name: string;
  readonly version: string;
  readonly manifest: Manifest;
  /** The manifest file, canonical and absolute. */
  readonly manifestPath: string;
  /** What the plugin is granted: the ceiling for its tools. */
  readonly grants: Grants;
  /** One decision per declared scope, granted or refused, with its rule. */
  readonly decisions: readonly GrantDecision[];
  /** Each tool with its own grants and exact Deno argv. */
  readonly tools: readonly PreparedTool[];
  /** Declared scopes the policy refused. */
  readonly refused: GrantDecision[];

  /**
   * Calls a tool in its own sandboxed process (started on first use).
   *
   * @param tool a tool the manifest declares
   * @param args the tool's arguments, checked against its input schema first (default `{}`)
   * @param options the call's deadline, abort signal and progress listener
   * @returns the tool's JSON value, checked against its `output` schema when the manifest declares one
   * @throws PluginRuntimeError `unknown_tool`, `invalid_arguments` (naming the path),
   *   `invalid_output` (the value does not match the tool's `output` schema),
   *   `timeout`, `cancelled`, `overloaded`, `tool_failed`, `handshake_failed`,
   *   `protocol_violation`, `plugin_crashed`, `resource_exhausted`, `plugin_parked`,
   *   `grant_refused`, `capability_denied`, `shutting_down`.
   * @example
   * const value = await plugin.call('echo', { text: 'hi' }, { timeoutMs: 5000 });
   */
  call(tool: string, args?: unknown, options?: CallOptions): Promise<unknown>;

  /**
   * Process ids of a tool's live processes (for operators and tests).
   *
   * @param tool the tool's name
   * @returns one pid per live process; none for an unknown tool
   * @example
   * for (const pid of plugin.pids('echo')) console.log(pid);
   */
  pids(tool: string): number[];

  /**
   * Unparks a tool (or every tool) that crashed too often: its next call starts a fresh process.
   *
   * @param tool the tool to reset; omitted, every tool
   * @example
   * plugin.reset('echo');
   */
  reset(tool?: string): void;

  /**
   * Stops every process of this plugin (shutdown → ack → SIGKILL after the grace period);
   * calls in flight and later calls end with `shutting_down`.
   *
   * @example
   * await plugin.close();
   */
  close(): Promise<void>;

  /**
   * Listens to the state changes of the plugin's tools (each is in the audit log too), or
   * to the lines its tool processes write to stderr (also given to the runtime's `onLog`).
   *
   * @param event `'state'` or `'log'`
   * @param listener receives each {@link ToolStateEvent}, or each {@link PluginLogLine}
   * @returns the handle
   * @example
   * plugin.on('state', ({ tool, state, reason }) => console.log(tool, state, reason ?? ''));
   * plugin.on('log', ({ tool, line }) => console.error(`${tool}: ${line}`));
   */
  on(event: 'state', listener: (event: ToolStateEvent) => void): this;
  on(event: 'log', listener: (line: PluginLogLine) => void): this;
  /** Like {@link PluginHandle.on}, for the next event only. */
  once(event: 'state', listener: (event: ToolStateEvent) => void): this;
  once(event: 'log', listener: (line: PluginLogLine) => void): this;
  /** Removes a listener added with {@link PluginHandle.on} or {@link PluginHandle.once}. */
  off(event: 'state', listener: (event: ToolStateEvent) => void): this;
  off(event: 'log', listener: (line: PluginLogLine) => void): this;
}

/** The runtime's handle; internal: users see it as {@link PluginHandle}. */
export class RuntimePluginHandle extends EventEmitter<{ state: [ToolStateEvent]; log: [PluginLogLine] }> implements PluginHandle {
  readonly name: string;
  readonly version: string;
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly grants: Grants;
  readonly decisions: readonly GrantDecision[];
  readonly tools: readonly PreparedTool[];
  readonly #plan: PluginPlan;
  readonly #pools: ReadonlyMap<string, ToolPool>;
  readonly #config: LaunchConfig;

  constructor(plan: PluginPlan, pools: ReadonlyMap<string, ToolPool>, config: LaunchConfig) {
    super();
    this.#plan = plan;
    this.#pools = pools;
    this.#config = config;
    this.manifest = plan.manifest;
    this.manifestPath = plan.manifestPath;
    this.name = this.manifest.name;
    this.version = this.manifest.version;
    this.grants = plan.grants;
    this.decisions = plan.decisions;
    this.tools = plan.tools;
  }

  get refused(): GrantDecision[] {
    return this.decisions.filter((decision) => !decision.granted);
  }

  async call(tool: string, args: unknown = {}, options: CallOptions = {}): Promise<unknown> {
    const pool = this.#pools.get(tool);
    const validate = this.#plan.inputValidators.get(tool);
    if (!pool || !validate) {
      throw new PluginRuntimeError('unknown_tool', `plugin ${this.name} has no tool "${tool}"`, {
        details: { tools: [...this.#pools.keys()] },
      });
    }
    const issues = validate(args);
    if (issues.length > 0) {
      throw new PluginRuntimeError(
        'invalid_arguments',
        describeSchemaIssues(`the call of ${this.name}/${tool}`, issues),
        { details: { issues } },
      );
    }
    const declared = this.tools.find((t) => t.name === tool)?.timeoutMs;
    const timeoutMs = Math.min(
      options.timeoutMs ?? declared ?? this.#plan.limits.defaultTimeoutMs,
      this.#config.calls.maxTimeoutMs,
    );
    const value = await pool.call(args, { timeoutMs, signal: options.signal, onProgress: options.onProgress });
    const checkOutput = this.#plan.outputValidators.get(tool);
    const outputIssues = checkOutput?.(value) ?? [];
    if (outputIssues.length > 0) {
      throw new PluginRuntimeError('invalid_output', describeSchemaIssues(`the value ${this.name}/${tool} returned`, outputIssues), {
        details: { issues: outputIssues },
      });
    }
    return value;
  }

  pids(tool: string): number[] {
    return (this.#pools.get(tool)?.processes ?? []).flatMap((process) => (process.pid === undefined ? [] : [process.pid]));
  }

  reset(tool?: string): void {
    for (const [name, pool] of this.#pools) if (tool === undefined || tool === name) pool.reset();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close('plugin closed')));
  }
}

/**
 * `value instanceof PluginHandle` for the public name, which has no constructor to call:
 * true for a handle the runtime returned.
 */
export const PluginHandle: { readonly [Symbol.hasInstance]: (value: unknown) => value is PluginHandle } = Object.freeze({
  [Symbol.hasInstance]: (value: unknown): value is PluginHandle => value instanceof RuntimePluginHandle,
});
