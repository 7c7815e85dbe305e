import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type LoggingMessageNotification, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { PACKAGE_VERSION } from '../../package-root.ts';

export type LogMessage = LoggingMessageNotification['params'];

/** Bridge stderr lines kept (for --verbose and for a failed step); the rest are counted. */
const MAX_KEPT_STDERR_LINES = 200;

/** An MCP client connected to a bridge it started as a child process. */
export interface BridgeClient {
  readonly client: Client;
  /** The bridge process's pid. */
  readonly pid: number | null;
  /** Every `notifications/message` received so far, in order. */
  readonly logs: readonly LogMessage[];
  /** What the SDK's client reported through `onerror` (it goes on after each), in order. */
  readonly errors: readonly Error[];
  /** The bridge's stderr, one entry a line (the first {@link MAX_KEPT_STDERR_LINES}). */
  readonly stderr: readonly string[];
  /** The first log message, received or yet to come, that `matches`; undefined if none within `withinMs`. */
  waitForLog(matches: (message: LogMessage) => boolean, withinMs: number): Promise<LogMessage | undefined>;
  /** Closes the bridge's stdin and waits for it to exit (the SDK signals it if it lingers). */
  close(): Promise<void>;
}

/**
 * Starts `command` with the official SDK's stdio transport, as any MCP client would, and
 * completes `initialize`. Log messages are recorded from the start, so a notice the bridge
 * sends right after initialization is not missed. The child gets this process's
 * environment (the SDK would pass only a safe few variables): the bridge must find the
 * same Deno as the rest of the demo.
 *
 * @param stderr receives the bridge's stderr lines, so they are there even when the bridge
 *   fails to initialize (it says why on stderr)
 * @throws whatever the SDK throws when the process cannot start or the handshake fails;
 *   the process is stopped first.
 */
export async function connectBridge(command: string, args: readonly string[], stderr: string[] = []): Promise<BridgeClient> {
  const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const transport = new StdioClientTransport({ command, args: [...args], env, stderr: 'pipe' });
  let partial = '';
  // With stderr 'pipe' the SDK hands out a PassThrough at once, before the process starts.
  const stream = transport.stderr as Readable | null;
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (stderr.length < MAX_KEPT_STDERR_LINES) stderr.push(line);
  });

  const logs: LogMessage[] = [];
  const waiters = new Set<(message: LogMessage) => void>();
  const client = new Client({ name: 'manasvi-plugins-demo', version: PACKAGE_VERSION });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
    logs.push(notification.params);
    for (const waiter of waiters) waiter(notification.params);
  });
  const errors: Error[] = [];
  client.onerror = (error) => void errors.push(error);
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => {});
    throw error;
  }

  return {
    client,
    get pid() {
      return transport.pid;
    },
    logs,
    errors,
    stderr,
    waitForLog(matches, withinMs) {
      const seen = logs.find(matches);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => {
        const done = (message: LogMessage | undefined) => {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        const waiter = (message: LogMessage) => {
          if (matches(message)) done(message);
        };
        const timer = setTimeout(() => done(undefined), withinMs);
        waiters.add(waiter);
      });
    },
    close: () => client.close(),
  };
}
