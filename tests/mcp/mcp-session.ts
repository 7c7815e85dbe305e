/**
 * An MCP session against the real bridge: the official SDK client over stdio, spawning
 * the compiled CLI (`manasvi-plugins mcp …`), as Claude Desktop or VS Code would. It keeps
 * every message the client received, every log notification and the bridge's stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type JSONRPCMessage, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Test } from 'tap';
import { CLI_BIN } from '../cli/cli-process.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { waitFor } from '../helpers/wait-for.ts';

export type LogParams = { level: string; logger?: string; data: unknown };

export interface McpSession {
  client: Client;
  transport: StdioClientTransport;
  /** The bridge's pid. */
  pid: number;
  /** Every JSON-RPC message the client received, in order. */
  received: JSONRPCMessage[];
  /** Every JSON-RPC message the client sent, in order. */
  sent: JSONRPCMessage[];
  logs: LogParams[];
  stderr(): string;
  /** The audit file the bridge writes (`--audit`). */
  auditFile: string;
  /** The pids of every tool process the bridge launched so far (from the audit). */
  launchedPids(): number[];
  waitForStderr(text: string): Promise<string>;
  waitForLog(text: string): Promise<LogParams>;
}

/** The test runner's own hooks must not reach the bridge. */
export function bridgeEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && entry[0] !== 'NODE_OPTIONS' && !entry[0].startsWith('TAP') && !entry[0].startsWith('_TAPJS'),
    ),
  );
}

/** Reads the audit file's records (JSON lines). */
export function auditRecords(file: string): Array<Record<string, unknown>> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Starts `manasvi-plugins mcp --audit <file> <args…>` and connects a client to it; closed at
 * teardown. `args` are the flags and manifests after `mcp`.
 */
export async function openSession(t: Test, args: string[]): Promise<McpSession> {
  // A folder of its own: t.testdir() is one folder per test, which a caller may be using.
  const folder = mkdtempSync(path.join(os.tmpdir(), 'manasvi-mcp-'));
  const auditFile = path.join(folder, 'audit.jsonl');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_BIN, 'mcp', '--audit', auditFile, ...args],
    cwd: REPO_ROOT,
    env: bridgeEnvironment(),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'bridge-test', version: '1.0.0' });
  const logs: LogParams[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => void logs.push(notification.params));
  await client.connect(transport);
  const received: JSONRPCMessage[] = [];
  const sent: JSONRPCMessage[] = [];
  const send = transport.send.bind(transport);
  transport.send = (message) => {
    sent.push(message);
    return send(message);
  };
  const deliver = transport.onmessage!;
  transport.onmessage = (message: JSONRPCMessage) => {
    received.push(message);
    deliver(message);
  };
  t.teardown(async () => {
    await client.close();
    rmSync(folder, { recursive: true, force: true });
  });
  return {
    client,
    transport,
    pid: transport.pid!,
    received,
    sent,
    logs,
    stderr: () => stderr,
    auditFile,
    launchedPids: () => auditRecords(auditFile).flatMap((record) => (record.type === 'launch' && typeof record.pid === 'number' ? [record.pid] : [])),
    waitForStderr: (text) => waitFor(`the bridge's stderr to say ${JSON.stringify(text)}`, () => (stderr.includes(text) ? stderr : undefined)),
    waitForLog: (text) =>
      waitFor(`a log notification saying ${JSON.stringify(text)}`, () => logs.find((log) => String(log.data).includes(text))),
  };
}

export const MCP_FIXTURE = path.join(REPO_ROOT, 'tests/fixtures/plugins/mcp/manifest.json');
export const ECHO = path.join(REPO_ROOT, 'manifests/examples/echo/manifest.json');
