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
import type { PluginDefinition } from './plugin-types.ts';

export type { PluginDefinition, ToolContext, ToolHandler } from './plugin-types.ts';

routeConsoleToStderr();

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
