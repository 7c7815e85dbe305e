/**
 * The MCP bridge: the granted tools of loaded plugins served as one Model Context Protocol
 * server, each call through `PluginHandle.call` and every host check. A subpath of its
 * own (`manasvi-plugins/mcp`), so a host that does not serve MCP never loads the MCP SDK.
 *
 * ```ts
 * import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
 * import { createRuntime } from 'manasvi-plugins';
 * import { loadMcpPlugins, serveMcp } from 'manasvi-plugins/mcp';
 * const runtime = createRuntime({ policy: 'policy.json' });
 * const { plugins } = await loadMcpPlugins(runtime, ['plugins/echo']);
 * const bridge = await serveMcp(runtime, plugins, new StdioServerTransport());
 * await bridge.closed;
 * ```
 * @module
 */
export { serveMcp } from './serve-mcp.ts';
export type { McpBridge, ServeMcpOptions } from './serve-mcp.ts';
export { loadMcpPlugins } from './load-mcp-plugins.ts';
export type { McpPlugins, RefusedLoad } from './load-mcp-plugins.ts';
export { mcpToolName, MCP_NAME_SEPARATOR } from './mcp-tool-table.ts';
export type { McpToolEntry, SkippedTool, ToolNote } from './mcp-tool-table.ts';
export { ERROR_META_KEY } from './call-result.ts';
