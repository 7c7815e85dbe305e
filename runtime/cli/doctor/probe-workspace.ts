import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { packagePath } from '../../package-root.ts';

/** The escaper plugin's folder in the package: `doctor` and the escape suite stage copies of it. */
const ESCAPER_SOURCE = packagePath('manifests', 'probes', 'escaper');

/** The canary a probe must never read. */
export const SECRET = 'the host keeps this outside every grant';

const TOOL_INPUT = {
  type: 'object',
  properties: { action: { type: 'string' }, target: { type: 'string' }, text: { type: 'string' }, link: { type: 'string' } },
  required: ['action'],
  additionalProperties: false,
};

/**
 * What the host has that a probe must not reach, and a fresh copy of the escaper:
 * `bare` is granted nothing, `granted` a folder to read and one to write.
 */
export interface ProbeWorkspace {
  /** The whole workspace: a folder of its own under the OS temp folder (so a listing of that folder names it). */
  root: string;
  /** A file outside every grant holding {@link SECRET}. */
  secretFile: string;
  outside: string;
  /** A Unix socket the host listens on, outside every grant. */
  socketPath: string;
  /** A loopback HTTP server no tool is granted. */
  tcpHostPort: string;
  /** A second loopback server, the one the escaper's networked tool is granted (by address, as an operator names it). */
  grantedHostPort: string;
  /** SIGWINCH signals this process received since the last {@link ProbeWorkspace.resetCounters}. */
  signals(): number;
  /** TCP connections the loopback server accepted since then. */
  tcpConnections(): number;
  /** Zeroes both counters: each escape is judged by what happened during it alone. */
  resetCounters(): void;
  /** Stages a fresh copy of the escaper (a planted link would make the next load refuse its grant). */
  stageEscaper(): StagedEscaper;
  /**
   * A state folder for one runtime, beside the workspace rather than in it: the sandbox
   * shows the folders leading to the bundle, and the workspace's name is what the temp
   * listing escape looks for.
   */
  stateDir(): string;
  close(): Promise<void>;
}

export interface StagedEscaper {
  dir: string;
  manifest: string;
  readable: string;
  writable: string;
}

/** The escaper's manifest: both tools, their grants declared. */
function escaperManifest(grantedHostPort: string): Record<string, unknown> {
  return {
    name: 'escaper',
    version: '1.0.0',
    entry: 'plugin.ts',
    capabilities: { 'provide-tools': true, 'access-filesystem': { read: ['granted'], write: ['out'] }, 'access-network': [grantedHostPort] },
    tools: {
      bare: { description: 'Tries an escape, granted nothing.', input: TOOL_INPUT },
      granted: {
        description: 'Tries an escape, granted a folder to read and one to write.',
        input: TOOL_INPUT,
        sandbox: { filesystem: { read: ['granted'], write: ['out'] } },
      },
      networked: {
        description: 'Tries an escape, granted one loopback server by address (its way out is the egress gateway).',
        input: TOOL_INPUT,
        sandbox: { network: [grantedHostPort] },
      },
    },
  };
}

/** Creates the workspace under `parent` (default the OS temp folder); {@link ProbeWorkspace.close} removes it. */
export async function createProbeWorkspace(parent = os.tmpdir()): Promise<ProbeWorkspace> {
  const root = realpathSync(mkdtempSync(path.join(parent, 'manasvi-probe-')));
  const outside = path.join(root, 'outside');
  mkdirSync(outside);
  const secretFile = path.join(outside, 'secret.txt');
  writeFileSync(secretFile, SECRET);
  const socketPath = path.join(outside, 'host.sock');
  const unix = net.createServer((socket) => socket.end('unix socket says hi'));
  await new Promise<void>((resolve) => unix.listen(socketPath, resolve));
  const tcp = http.createServer((_request, response) => response.end('loopback says hi'));
  let connections = 0;
  tcp.on('connection', () => connections++);
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const granted = http.createServer((_request, response) => response.end('granted server says hi'));
  await new Promise<void>((resolve) => granted.listen(0, '127.0.0.1', resolve));
  const grantedHostPort = `127.0.0.1:${(granted.address() as AddressInfo).port}`;
  let signals = 0;
  const onWinch = () => signals++;
  process.on('SIGWINCH', onWinch);
  let staged = 0;
  const stateDirs: string[] = [];
  return {
    root,
    outside,
    secretFile,
    socketPath,
    tcpHostPort: `127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    grantedHostPort,
    signals: () => signals,
    tcpConnections: () => connections,
    resetCounters: () => void ((signals = 0), (connections = 0)),
    stageEscaper() {
      const dir = path.join(root, `escaper-${++staged}`);
      cpSync(ESCAPER_SOURCE, dir, { recursive: true });
      mkdirSync(path.join(dir, 'granted'));
      writeFileSync(path.join(dir, 'granted', 'readable.txt'), 'granted to read');
      mkdirSync(path.join(dir, 'out'));
      const manifest = path.join(dir, 'manifest.json');
      writeFileSync(manifest, `${JSON.stringify(escaperManifest(grantedHostPort), null, 2)}\n`);
      return { dir, manifest, readable: path.join(dir, 'granted'), writable: path.join(dir, 'out') };
    },
    stateDir() {
      const dir = mkdtempSync(path.join(parent, 'manasvi-probe-state-'));
      stateDirs.push(dir);
      return dir;
    },
    async close() {
      process.off('SIGWINCH', onWinch);
      tcp.closeAllConnections();
      granted.closeAllConnections();
      await Promise.all([new Promise((resolve) => unix.close(resolve)), new Promise((resolve) => tcp.close(resolve)), new Promise((resolve) => granted.close(resolve))]);
      for (const dir of [root, ...stateDirs]) rmSync(dir, { recursive: true, force: true });
    },
  };
}
