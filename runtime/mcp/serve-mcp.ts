import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CallToolRequestSchema, type CallToolResult, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallProgress } from '../supervisor/call-ledger.ts';
import type { PluginHandle, PluginLogLine } from '../host/plugin-handle.ts';
import type { Runtime } from '../host/runtime-types.ts';
import { PACKAGE_VERSION } from '../package-root.ts';
import { errorResult, invalidParams, valueResult } from './call-result.ts';
import { LogForwarder, type LogParams } from './log-forwarder.ts';
import { type McpToolEntry, type McpToolTable, mcpToolTable, type SkippedTool, type ToolNote } from './mcp-tool-table.ts';

/** What {@link serveMcp} takes besides the runtime, the plugins and the transport. */
export interface ServeMcpOptions {
  /** The server's name in `initialize` (default `manasvi-plugins`). */
  name?: string;
  /** Plugin stderr lines sent to the client per second, all plugins together (default 20). */
  logLinesPerSecond?: number;
  /**
   * Warnings for the client, sent as `notifications/message` once it has initialized: for
   * instance why a plugin was refused at load (see {@link loadMcpPlugins}).
   */
  notices?: readonly string[];
  /**
   * Hears what goes wrong in the session itself: a line from the client that is not
   * JSON-RPC, a send that failed. Default: one line on stderr (never stdout).
   */
  onError?: (error: Error) => void;
}

/** A running bridge. */
export interface McpBridge {
  /** The tools served, by MCP name, with what `tools/list` shows for each. */
  readonly tools: ReadonlyMap<string, McpToolEntry>;
  /** Granted tools MCP cannot carry, each with the reason. */
  readonly skipped: readonly SkippedTool[];
  /** Tools served with a caveat (an `output` schema that is not advertised). */
  readonly notes: readonly ToolNote[];
  /** Resolves once the client is gone (or {@link McpBridge.close} ran) and the runtime has closed. */
  readonly closed: Promise<void>;
  /** Disconnects the client and closes the runtime: every tool process is stopped (shutdown → ack → SIGKILL). */
  close(): Promise<void>;
}

const DEFAULT_LOG_LINES_PER_SECOND = 20;

/**
 * Serves the tools of `plugins` as one MCP server on `transport`: `tools/list` gives each
 * tool as `<plugin>__<tool>` with its manifest's description and schemas unchanged;
 * `tools/call` goes through {@link PluginHandle.call} with every host check. A call's
 * `_meta.progressToken` gets the tool's `ctx.progress` reports as `notifications/progress`;
 * `notifications/cancelled` aborts the call (the tool's `ctx.signal`; a tool that ignores
 * it is killed after `calls.cancelGraceMs`) and nothing is answered, as MCP says. Plugin
 * stderr lines become `notifications/message`. When the client disconnects the runtime is
 * closed, so no tool process outlives the session.
 *
 * @param runtime the runtime that loaded `plugins`; the bridge closes it when the session ends
 * @param plugins the loaded plugins whose tools to serve
 * @param transport an MCP server transport, e.g. the SDK's `StdioServerTransport`
 * @param options the server's name, the log rate, notices for the client
 * @returns the running bridge, once it is connected
 * @throws PluginRuntimeError `name_collision` when two plugins would serve a tool of the same name.
 * @example
 * import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
 * const runtime = createRuntime({ policy: 'policy.json' });
 * const echo = await runtime.load('plugins/echo/manifest.json');
 * const bridge = await serveMcp(runtime, [echo], new StdioServerTransport());
 * await bridge.closed;
 */
export async function serveMcp(
  runtime: Runtime,
  plugins: readonly PluginHandle[],
  transport: Transport,
  options: ServeMcpOptions = {},
): Promise<McpBridge> {
  const table = mcpToolTable(plugins);
  const listings = [...table.entries.values()].map((entry) => entry.listing);
  const server = new Server(
    { name: options.name ?? 'manasvi-plugins', version: PACKAGE_VERSION },
    { capabilities: { tools: {}, logging: {} } },
  );
  const log = (params: LogParams) => {
    // A client that is gone, or a write that failed, costs nothing but the line.
    server.sendLoggingMessage(params).catch(() => {});
  };
  const logs = new LogForwarder(log, options.logLinesPerSecond ?? DEFAULT_LOG_LINES_PER_SECOND);
  const onLog = (line: PluginLogLine) => logs.line(line);
  for (const plugin of plugins) plugin.on('log', onLog);

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: listings }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const { name, arguments: args = {} } = request.params;
    const entry = table.entries.get(name);
    if (entry === undefined) throw invalidParams(`unknown tool ${JSON.stringify(name)}: this server has ${describeNames(table)}`);
    const progressToken = request.params._meta?.progressToken;
    const onProgress =
      progressToken === undefined
        ? undefined
        : ({ done, total, message }: CallProgress) => {
            const params = { progressToken, progress: done, ...(total === undefined ? {} : { total }), ...(message === undefined ? {} : { message }) };
            extra.sendNotification({ method: 'notifications/progress', params }).catch(() => {});
          };
    try {
      return valueResult(await entry.plugin.call(entry.tool.name, args, { signal: extra.signal, onProgress }));
    } catch (error) {
      return errorResult(error);
    }
  });
  server.onerror = options.onError ?? ((error) => process.stderr.write(`manasvi-plugins mcp: ${error.message}\n`));
  server.oninitialized = () => {
    for (const notice of options.notices ?? []) log({ level: 'warning', logger: 'manasvi-plugins', data: notice });
  };

  let finish!: () => void;
  const closed = new Promise<void>((resolve) => (finish = resolve));
  let closing: Promise<void> | undefined;
  const shutDown = () =>
    (closing ??= (async () => {
      for (const plugin of plugins) plugin.off('log', onLog);
      await runtime.close();
      finish();
    })());
  server.onclose = () => void shutDown();
  await server.connect(transport);
  return {
    tools: table.entries,
    skipped: table.skipped,
    notes: table.notes,
    closed,
    async close() {
      await server.close();
      await shutDown();
    },
  };
}

function describeNames(table: McpToolTable): string {
  const names = [...table.entries.keys()];
  if (names.length === 0) return 'no tools';
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `${names.length} tools: ${shown}, …` : `${shown}`;
}
