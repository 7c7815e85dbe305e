import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import {
  type AuditRecord,
  createRuntime,
  type PluginLogLine,
  type Runtime,
  type RuntimeOptions,
} from '../../runtime/index.ts';

/** Fixture plugins for the capability tests; each folder is self-contained. */
export const CAPABILITY_FIXTURES = fileURLToPath(new URL('../fixtures/capabilities/', import.meta.url));

/** A generous wait for a Deno process on a busy two-core machine. */
export const CALL_TIMEOUT_MS = 60_000;

export interface TestRuntime {
  runtime: Runtime;
  audit: AuditRecord[];
  logs: PluginLogLine[];
  /** The runtime's own folder (bundles, Deno's cache): never grantable. */
  stateDir: string;
}

/**
 * A runtime with its own state folder, recording audit records and plugin stderr lines.
 * Closed, and its state folder removed, when `t` ends.
 */
export function startRuntime(t: Test, options: RuntimeOptions = {}): TestRuntime {
  const parent = mkdtempSync(path.join(os.tmpdir(), 'manasvi-cap-'));
  const stateDir = path.join(realpathSync(parent), 'state');
  const audit: AuditRecord[] = [];
  const logs: PluginLogLine[] = [];
  const runtime = createRuntime({
    stateDir,
    onAudit: (record) => audit.push(record),
    onLog: (line) => logs.push(line),
    ...options,
  });
  t.teardown(async () => {
    await runtime.close();
    rmSync(parent, { recursive: true, force: true });
  });
  return { runtime, audit, logs, stateDir };
}

type ManifestEdit = (manifest: Record<string, any>) => void;

/**
 * Copies fixture plugin `fixture` into `root/<folder>` (default: the fixture's name),
 * lets `edit` change its manifest, and returns the canonical plugin folder and manifest path.
 */
export function plantPlugin(root: string, fixture: string, edit: ManifestEdit = () => {}, folder = fixture) {
  const dir = path.join(realpathSync(root), folder);
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(CAPABILITY_FIXTURES, fixture), dir, { recursive: true });
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, any>;
  edit(manifest);
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  return { dir, manifestPath };
}

/** The audit records of one type, optionally for one tool. */
export function auditOf(records: readonly AuditRecord[], type: AuditRecord['type'], tool?: string): AuditRecord[] {
  return records.filter((record) => record.type === type && (tool === undefined || record.tool === tool));
}

/** An HTTP server on 127.0.0.1 that counts TCP connections and records request paths. */
export interface CountingServer {
  port: number;
  connections: number;
  requests: string[];
  server: http.Server;
}

/** Starts a loopback HTTP server; `handler` may answer, else it says its own name. Closed when `t` ends. */
export async function loopbackHttp(
  t: Test,
  name: string,
  handler?: (request: http.IncomingMessage, response: http.ServerResponse) => void,
): Promise<CountingServer> {
  const counting: CountingServer = { port: 0, connections: 0, requests: [], server: http.createServer() };
  counting.server.on('connection', () => counting.connections++);
  counting.server.on('request', (request, response) => {
    counting.requests.push(request.url ?? '');
    if (handler) handler(request, response);
    else response.end(name);
  });
  // A WebSocket attempt that got this far would show as an upgrade request.
  counting.server.on('upgrade', (request, socket) => {
    counting.requests.push(`upgrade ${request.url ?? ''}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => counting.server.listen(0, '127.0.0.1', resolve));
  counting.port = (counting.server.address() as net.AddressInfo).port;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        counting.server.closeAllConnections();
        counting.server.close(() => resolve());
      }),
  );
  return counting;
}

/** A UDP socket on 127.0.0.1 that counts datagrams: a stand-in DNS server. Closed when `t` ends. */
export async function loopbackUdp(t: Test): Promise<{ port: number; packets: number }> {
  const socket = dgram.createSocket('udp4');
  const counting = { port: 0, packets: 0 };
  socket.on('message', () => counting.packets++);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  counting.port = socket.address().port;
  t.teardown(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return counting;
}

/** Every string in a JSON-able value, flattened: for searching a planted secret. */
export function textOf(value: unknown): string {
  return JSON.stringify(value) ?? '';
}

/**
 * Waits until `condition` holds, checking every 20 ms, up to `timeoutMs` (generous: the
 * machine is shared). Resolves with whether it held; never asserts on time.
 */
export async function eventually(condition: () => boolean, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
