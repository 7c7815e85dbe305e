import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ECHO_ARGS, type EchoProcess } from './echo-side.ts';
import { descendantPids } from './proc-descendants.ts';
import { type ProcessIdentity, readProcessIdentity } from './proc-identity.ts';
import { survivors } from './fleet-processes.ts';

const STDERR_TAIL_CHARS = 2000;
/** A call that takes this long means a wedged server: the bench stops instead of waiting for its watchdog. */
const CALL_TIMEOUT_MS = 30_000;
/** After the client closed, how long the server and everything it started get to be gone from /proc. */
const EXIT_TIMEOUT_MS = 10_000;

/** The bridge, the unsandboxed server, and the unchecked forwarder to a raw Deno echo. */
export type McpServerLabel = 'runtime' | 'floor' | 'forward';

export interface McpEchoServerOptions {
  label: McpServerLabel;
  command: string;
  args: string[];
  /** Added to the SDK's default inherited environment (HOME, PATH, …), as an MCP client configures a server. */
  env: Record<string, string>;
  cwd: string;
  /** The echo tool's name on this server. */
  tool: string;
}

/** One MCP server on stdio, driven by the official SDK client, calling its echo tool. */
export interface McpEchoServer extends EchoProcess {
  readonly label: McpServerLabel;
  /** The server process's pid (the bridge's Node process, or the floor's). */
  readonly pid: number;
  /** One `tools/call` of the echo tool; resolves with the whole result. */
  echo(): Promise<CallToolResult>;
  /** Processes the server started (a Deno process, for the bridge and the forwarder), as /proc shows them now. */
  descendants(): number[];
  /** The last of the server's stderr, for error messages. */
  stderrTail(): string;
}

/**
 * Spawns the server through the SDK's StdioClientTransport and completes `initialize`.
 * `stop()` closes the client (stdin ends; the SDK escalates to SIGTERM, then SIGKILL) and
 * then waits for the server and every process it had started to be gone, so nothing
 * outlives the bench; a survivor is killed and reported as an error.
 */
export async function connectMcpEcho(options: McpEchoServerOptions): Promise<McpEchoServer> {
  const transport = new StdioClientTransport({
    command: options.command,
    args: options.args,
    env: options.env,
    cwd: options.cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS)));
  const client = new Client({ name: `manasvi-bench-${options.label}`, version: '1.0.0' });
  const fail = (error: unknown) =>
    new Error(`${options.label} MCP server: ${error instanceof Error ? error.message : String(error)}; stderr: ${stderr.trim() || '(none)'}`);
  try {
    await client.connect(transport);
  } catch (error) {
    await client.close().catch(() => {});
    throw fail(error);
  }
  const pid = transport.pid;
  if (pid === null) {
    await client.close().catch(() => {});
    throw fail('no pid after connect');
  }
  // Everything the server has started so far, by identity, so a later pid reuse is never mistaken for it.
  const seen = new Map<number, ProcessIdentity>();
  const remember = (pids: readonly number[]) => {
    for (const each of pids) {
      const identity = readProcessIdentity(each);
      if (identity && !seen.has(each)) seen.set(each, identity);
    }
  };
  remember([pid]);
  const params = { name: options.tool, arguments: { ...ECHO_ARGS } };
  let stopping: Promise<void> | undefined;
  return {
    label: options.label,
    pid,
    async echo() {
      let result: CallToolResult;
      try {
        result = (await client.callTool(params, undefined, { timeout: CALL_TIMEOUT_MS })) as CallToolResult;
      } catch (error) {
        throw fail(error);
      }
      // A tool error is a result, not a rejection: timing it as an echo would flatter the side.
      if (result.isError) throw fail(`the echo tool answered an error: ${JSON.stringify(result.content)}`);
      return result;
    },
    descendants() {
      const pids = descendantPids(pid);
      remember(pids);
      return pids;
    },
    stderrTail: () => stderr,
    stop() {
      return (stopping ??= (async () => {
        remember(descendantPids(pid));
        await client.close();
        const left = await survivors(seen, EXIT_TIMEOUT_MS);
        if (left.running.length > 0) {
          for (const each of left.running) {
            try {
              process.kill(each, 'SIGKILL');
            } catch {
              // gone meanwhile
            }
          }
          throw new Error(`${options.label} MCP server left processes behind after the client closed (killed): ${left.running.join(', ')}`);
        }
      })());
    },
  };
}
