/**
 * The Manasvi plugin SDK. Runs inside Deno, bundled with the plugin by the host.
 *
 * ```ts
 * import { definePlugin } from 'manasvi-plugins/plugin-sdk';
 * definePlugin({ tools: { echo: async (args) => args } });
 * ```
 * @module
 */
import { routeConsoleToStderr } from './internal/console-to-stderr.ts';
import { serve } from './internal/serve.ts';
import type { WelcomeGrants } from './protocol/messages.ts';

routeConsoleToStderr();

/**
 * What a tool handler receives besides its arguments.
 *
 * @example
 * const read_note = async ({ name }: { name: string }, ctx: ToolContext) => {
 *   const [dir] = ctx.grants.read;
 *   return { text: await Deno.readTextFile(`${dir}/${name}.txt`, { signal: ctx.signal }) };
 * };
 */
export interface ToolContext {
  /** The host-minted id (a ULID) of this call. */
  callId: string;
  /** The tool being called. */
  tool: string;
  /** Aborted when the host cancels the call: its deadline passed, the caller gave up, or shutdown. */
  signal: AbortSignal;
  /**
   * What this tool's process was granted, as the host sent it at `welcome`: the plugin
   * learns where its granted folders are (canonical, absolute) without guessing its cwd.
   */
  grants: Readonly<WelcomeGrants>;
  /**
   * Asks the host for a secret this tool's sandbox names. The value never enters the
   * process environment.
   *
   * @param name a secret the tool's `sandbox.secrets` names
   * @returns the secret's value
   * @throws an error whose `code` is `capability_denied` when it is not granted.
   * @example
   * const key = await ctx.secret('API_KEY');
   */
  secret(name: string): Promise<string>;
}

/**
 * A tool: JSON-serialisable arguments in, JSON-serialisable value out. Throw to fail the
 * call: the host's caller gets `tool_failed` with the message (no stack).
 *
 * @param args the call's arguments, already checked by the host against the tool's input schema
 * @param context the call's id, abort signal, grants and secret access
 * @returns the tool's value (or a promise of it); it must be JSON
 * @example
 * const echo: ToolHandler = ({ text }) => ({ text });
 */
export type ToolHandler = (args: any, context: ToolContext) => unknown;

/**
 * What {@link definePlugin} takes.
 *
 * @example
 * const definition: PluginDefinition = { tools: { echo: (args) => args } };
 */
export interface PluginDefinition {
  /** One handler per tool named in the manifest. */
  tools: Record<string, ToolHandler>;
}

let started = false;

/**
 * Declares the plugin's tool handlers and serves them to the host: reads and removes the
 * launch token, says hello, registers the tools this process was launched for, answers
 * calls, pings and shutdown, and exits when the host closes stdin. Call it once.
 *
 * @param definition the tool handlers, by tool name
 * @returns nothing: serving runs until the host closes stdin
 * @throws Error when called a second time. A failure while serving is written to stderr
 *   and ends the process (exit code 70).
 * @example
 * definePlugin({
 *   tools: {
 *     echo: async ({ text }: { text: string }) => ({ text }),
 *   },
 * });
 */
export function definePlugin(definition: PluginDefinition): void {
  if (started) throw new Error('definePlugin may be called only once');
  started = true;
  void serve(definition).catch((error: unknown) => {
    console.error(`plugin SDK failed: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(70);
  });
}
