// What a plugin author writes against: the handler and context types, apart from the
// serving code so that it and mod.ts can both use them without importing each other.
import type { WelcomeGrants } from './protocol/messages.ts';

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
  /**
   * Reports how far the call has got; an MCP client that asked for progress receives each
   * report as `notifications/progress`. Reports faster than the host forwards (deno-launch.json's
   * `calls.progressPerSecond`) are coalesced: the latest is sent when its turn comes. Nothing
   * is sent once the call has settled or been cancelled.
   *
   * @param done how much is done: a finite number, above the last report's
   * @param total how much there is in all, when known: at least `done`
   * @param message a short note (cut at 256 characters)
   * @throws RangeError when `done` does not rise, `total` is below `done`, or either is not a finite number ≥ 0
   * @example
   * for (const [i, file] of files.entries()) {
   *   await process(file);
   *   ctx.progress(i + 1, files.length, file);
   * }
   */
  progress(done: number, total?: number, message?: string): void;
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
