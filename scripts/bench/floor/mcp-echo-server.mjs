// The MCP section's floor: the echo tool as most MCP servers are written today, with the
// official SDK's McpServer on stdio in plain Node, no sandbox and no process of its own for
// the tool. Its answer is the bridge's answer for the echo example (the value's JSON as the
// text block, the value itself as structuredContent), so both sides carry the same bytes.
//
// Plain JavaScript run with plain node, so no loader's start-up or hooks are on this side.
// It exits when the client closes stdin, as every stdio MCP server does.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod/v4';

// The echo example's input schema: one string, at most 10,000 characters, nothing else.
const EchoInput = z.strictObject({ text: z.string().max(10_000) });

const server = new McpServer({ name: 'bench-floor-echo', version: '1.0.0' });
server.registerTool('echo', { description: 'Returns the text it was given.', inputSchema: EchoInput }, async ({ text }) => {
  const value = { text };
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
});
await server.connect(new StdioServerTransport());
