import { EventEmitter } from 'node:events';
import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { GrantDecision, Grants } from '../grants/grants.ts';
import type { Manifest } from '../manifest/manifest-schema.ts';
import type { ToolPool } from '../supervisor/tool-pool.ts';
import type { ToolStateEvent } from './create-tool-pools.ts';
import type { PreparedPlugin, PreparedTool } from './prepare-plugin.ts';

export interface CallOptions {
  /** Deadline for this call; capped by deno-launch.json's `calls.maxTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting it cancels the call: it ends with `cancelled`. */
  signal?: AbortSignal;
}

/** A loaded plugin: its grants, its tools, and calls into them. Emits `state` ({@link ToolStateEvent}). */
export class PluginHandle extends EventEmitter<{ state: [ToolStateEvent] }> {
  readonly name: string;
  readonly version: string;
  readonly manifest: Manifest;
  readonly grants: Grants;
  readonly decisions: readonly GrantDecision[];
  readonly tools: readonly PreparedTool[];
  readonly #prepared: PreparedPlugin;
  readonly #pools: ReadonlyMap<string, ToolPool>;
  readonly #config: LaunchConfig;

  constructor(prepared: PreparedPlugin, pools: ReadonlyMap<string, ToolPool>, config: LaunchConfig) {
    super();
    this.#prepared = prepared;
    this.#pools = pools;
    this.#config = config;
    this.manifest = prepared.loaded.manifest;
    this.name = this.manifest.name;
    this.version = this.manifest.version;
    this.grants = prepared.grants;
    this.decisions = prepared.decisions;
    this.tools = prepared.tools;
  }

  /** Declared scopes the policy refused. */
  get refused(): GrantDecision[] {
    return this.decisions.filter((decision) => !decision.granted);
  }

  /**
   * Calls a tool in its own sandboxed process (started on first use).
   *
   * @returns the tool's JSON value
   * @throws PluginRuntimeError `unknown_tool`, `invalid_arguments` (naming the path),
   *   `timeout`, `cancelled`, `tool_failed`, `handshake_failed`, `protocol_violation`,
   *   `plugin_crashed`, `capability_denied`, `shutting_down`.
   * @example
   * const value = await plugin.call('echo', { text: 'hi' }, { timeoutMs: 5000 });
   */
  async call(tool: string, args: unknown = {}, options: CallOptions = {}): Promise<unknown> {
    const pool = this.#pools.get(tool);
    const validate = this.#prepared.loaded.inputValidators.get(tool);
    if (!pool || !validate) {
      throw new PluginRuntimeError('unknown_tool', `plugin ${this.name} has no tool "${tool}"`, {
        details: { tools: [...this.#pools.keys()] },
      });
    }
    const issues = validate(args);
    if (issues.length > 0) {
      throw new PluginRuntimeError(
        'invalid_arguments',
        `arguments for ${this.name}/${tool} are invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`,
        { details: { issues } },
      );
    }
    const declared = this.tools.find((t) => t.name === tool)?.timeoutMs;
    const timeoutMs = Math.min(
      options.timeoutMs ?? declared ?? this.#prepared.limits.defaultTimeoutMs,
      this.#config.calls.maxTimeoutMs,
    );
    return pool.call(args, timeoutMs, options.signal);
  }

  /** Process ids of a tool's live processes (for operators and tests). */
  pids(tool: string): number[] {
    return (this.#pools.get(tool)?.processes ?? []).flatMap((process) => (process.pid === undefined ? [] : [process.pid]));
  }

  /** Unparks a tool (or every tool) that crashed too often: its next call starts a fresh process. */
  reset(tool?: string): void {
    for (const [name, pool] of this.#pools) if (tool === undefined || tool === name) pool.reset();
  }

  /** Stops every process of this plugin. */
  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close('plugin closed')));
  }
}
