import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { PluginRuntimeError } from '../errors.ts';
import type { PluginHandle } from '../host/plugin-handle.ts';
import type { PreparedTool } from '../host/prepare-plugin.ts';

/** Between a plugin's name and its tool's in an MCP tool name. Plugin names hold no `_`, so the first `__` splits a name unambiguously. */
export const MCP_NAME_SEPARATOR = '__';
/** The longest tool name MCP allows (the SDK's tool-name rules: `[A-Za-z0-9._-]{1,128}`). */
export const MAX_MCP_TOOL_NAME = 128;

/** One tool as an MCP client sees it, and what serves it. */
export interface McpToolEntry {
  /** `<plugin>__<tool>`. */
  name: string;
  plugin: PluginHandle;
  tool: PreparedTool;
  /** What `tools/list` shows: the manifest's description and schemas, unchanged. */
  listing: Tool;
}

/** A granted tool the bridge cannot serve over MCP, and why (said on stderr and to the client). */
export interface SkippedTool {
  name: string;
  plugin: string;
  tool: string;
  why: string;
}

/** A note about a tool the bridge serves, but not fully (its `output` schema cannot be MCP's `outputSchema`). */
export interface ToolNote {
  name: string;
  note: string;
}

/** Every tool of the given plugins that MCP can carry, what it cannot, and any caveats. */
export interface McpToolTable {
  entries: ReadonlyMap<string, McpToolEntry>;
  skipped: SkippedTool[];
  notes: ToolNote[];
}

/** The MCP name of a plugin's tool. */
export function mcpToolName(plugin: string, tool: string): string {
  return `${plugin}${MCP_NAME_SEPARATOR}${tool}`;
}

const isObjectSchema = (schema: Record<string, unknown> | undefined) => schema?.type === 'object';

/**
 * Pure: the table `tools/list` and `tools/call` serve. Each tool's input schema is advertised
 * exactly as its manifest declares it; MCP requires `type: "object"` there, so a tool whose
 * schema says otherwise is skipped, with the reason. An `output` schema is advertised as
 * `outputSchema` when it is an object schema (MCP's structured content is an object);
 * otherwise it still checks every value, and the client is told nothing of it.
 *
 * @throws PluginRuntimeError `name_collision` when two plugins give a tool the same name (the
 *   same plugin listed twice, or two manifests with one name), naming both.
 */
export function mcpToolTable(plugins: readonly PluginHandle[]): McpToolTable {
  const entries = new Map<string, McpToolEntry>();
  const skipped: SkippedTool[] = [];
  const notes: ToolNote[] = [];
  for (const plugin of plugins) {
    for (const tool of plugin.tools) {
      const name = mcpToolName(plugin.name, tool.name);
      const taken = entries.get(name);
      if (taken !== undefined) {
        const where = (handle: PluginHandle) => `${handle.name} ${handle.version} (${handle.manifestPath})`;
        throw new PluginRuntimeError(
          'name_collision',
          `two plugins would serve the MCP tool ${name}: ${where(taken.plugin)} and ${where(plugin)}; list each plugin once, under a name of its own`,
          { details: { name, plugins: [taken.plugin.name, plugin.name], manifestPaths: [taken.plugin.manifestPath, plugin.manifestPath] } },
        );
      }
      const skip = (why: string) => skipped.push({ name, plugin: plugin.name, tool: tool.name, why });
      if (name.length > MAX_MCP_TOOL_NAME) {
        skip(`its MCP name is ${name.length} characters, over MCP's ${MAX_MCP_TOOL_NAME}`);
        continue;
      }
      if (!isObjectSchema(tool.input)) {
        skip('its input schema does not say "type": "object", which MCP requires of every tool');
        continue;
      }
      const listing: Tool = { name, description: tool.description, inputSchema: tool.input as Tool['inputSchema'] };
      if (tool.output !== undefined) {
        if (isObjectSchema(tool.output)) listing.outputSchema = tool.output as Tool['outputSchema'];
        else notes.push({ name, note: 'its output schema is not an object schema, so it is not advertised (values are still checked against it)' });
      }
      entries.set(name, { name, plugin, tool, listing });
    }
  }
  return { entries, skipped, notes };
}
