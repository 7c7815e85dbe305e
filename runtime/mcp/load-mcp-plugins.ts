import { isPluginRuntimeError, type PluginRuntimeError } from '../errors.ts';
import type { Runtime } from '../host/runtime-types.ts';
import type { PluginHandle } from '../host/plugin-handle.ts';

/** A manifest the runtime refused to load, and its error (recorded as `load_refused` in the audit). */
export interface RefusedLoad {
  manifestPath: string;
  error: PluginRuntimeError;
}

/** What {@link loadMcpPlugins} loaded, and what it could not. */
export interface McpPlugins {
  plugins: PluginHandle[];
  refused: RefusedLoad[];
}

/**
 * Loads each manifest for serving over MCP. A plugin the runtime refuses (an invalid
 * manifest, a sandbox the policy does not grant, an import outside its folder, …) is left
 * out, not fatal: the session serves the others, and the caller says why. The loads run
 * together; the order of `plugins` is the order of `manifestPaths`.
 *
 * @param runtime the runtime to load into
 * @param manifestPaths each plugin's manifest.json, or its folder
 * @returns the loaded plugins, and each refusal with its typed error
 * @throws PluginRuntimeError `runtime_closed` when the runtime closes meanwhile; any error
 *   that is not the runtime's is rethrown.
 * @example
 * const { plugins, refused } = await loadMcpPlugins(runtime, ['plugins/echo', 'plugins/notes']);
 * for (const { manifestPath, error } of refused) console.error(manifestPath, error.code);
 */
export async function loadMcpPlugins(runtime: Runtime, manifestPaths: readonly string[]): Promise<McpPlugins> {
  const outcomes = await Promise.allSettled(manifestPaths.map((manifestPath) => runtime.load(manifestPath)));
  const plugins: PluginHandle[] = [];
  const refused: RefusedLoad[] = [];
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') return void plugins.push(outcome.value);
    const error: unknown = outcome.reason;
    if (!isPluginRuntimeError(error) || error.code === 'runtime_closed') throw error;
    refused.push({ manifestPath: manifestPaths[i]!, error });
  });
  return { plugins, refused };
}
