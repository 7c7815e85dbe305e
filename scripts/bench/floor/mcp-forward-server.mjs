// A second floor for the MCP section: the architecture of the bridge without the runtime.
// The same McpServer as mcp-echo-server.mjs, but each call is forwarded to the raw Deno echo
// (floor/echo.ts, spawned as the bench's floor side spawns it: the argv and scrubbed
// environment the runtime gives a tool with no grants) over the same framing, and its value
// answered as text + structuredContent. No token check, no schemas beyond zod's, no
// deadlines, no audit: what a bridge to a sandboxed process costs before any host check.
//
// The bench passes the Deno binary, its argv and its environment as JSON in
// MANASVI_BENCH_FORWARD. The Deno process ends when this server's stdin ends.
import { spawn } from 'node:child_process';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import * as z from 'zod/v4';

const HEADER_BYTES = 4;
const { denoPath, argv, env } = JSON.parse(process.env.MANASVI_BENCH_FORWARD ?? 'null') ?? {};
if (typeof denoPath !== 'string') throw new Error('MANASVI_BENCH_FORWARD must name denoPath, argv and env');

const child = spawn(denoPath, argv, { env, stdio: ['pipe', 'pipe', 'inherit'] });
child.stdin.on('error', () => {}); // EPIPE once Deno is gone; its exit ends the calls below
const pending = new Map();
let nextId = 1;
let buffered = Buffer.alloc(0);
child.stdout.on('data', (chunk) => {
  buffered = buffered.byteLength === 0 ? chunk : Buffer.concat([buffered, chunk]);
  while (buffered.byteLength >= HEADER_BYTES) {
    const end = HEADER_BYTES + buffered.readUInt32BE(0);
    if (buffered.byteLength < end) break;
    const message = JSON.parse(buffered.toString('utf8', HEADER_BYTES, end));
    buffered = buffered.subarray(end);
    if (message.type !== 'result') continue; // the hello
    pending.get(message.id)?.resolve(message.value);
    pending.delete(message.id);
  }
});
child.on('close', () => {
  for (const call of pending.values()) call.reject(new Error('the Deno echo exited'));
  pending.clear();
});

function forward(args) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    const payload = Buffer.from(JSON.stringify({ type: 'call', id, tool: 'echo', args }));
    const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.byteLength);
    frame.writeUInt32BE(payload.byteLength, 0);
    payload.copy(frame, HEADER_BYTES);
    child.stdin.write(frame);
  });
}

const EchoInput = z.strictObject({ text: z.string().max(10_000) });
const server = new McpServer({ name: 'bench-forward-echo', version: '1.0.0' });
server.registerTool('echo', { description: 'Returns the text it was given.', inputSchema: EchoInput }, async (args) => {
  const value = await forward(args);
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
});
process.stdin.once('end', () => child.stdin.end());
await server.connect(new StdioServerTransport());
