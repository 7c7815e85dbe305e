import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LayerName } from '../../layer-names.ts';
import { processAlive } from '../../launch/sandbox/sandboxed-pid.ts';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { type ProbeWorkspace, SECRET, type StagedEscaper } from './probe-workspace.ts';

/** What the escaper's tool returned for one escape. */
export interface EscapeOutcome {
  allowed: boolean;
  value?: unknown;
  error?: string;
  message?: string;
}

/** Where one escape is tried: the workspace, the staged plugin, and the pid of a sibling tool process. */
export interface EscapeContext {
  workspace: ProbeWorkspace;
  staged: StagedEscaper;
  siblingPid: number;
}

/** One escape: what the probe does, and how the host tells it got through. */
export interface Escape {
  name: string;
  tool: 'bare' | 'granted' | 'networked';
  /** The OS layer that must stop it when Deno's flags are gone. */
  layer: LayerName;
  args(context: EscapeContext): Record<string, string>;
  /** True when the effect happened on the host: the escape got through. */
  escaped(outcome: EscapeOutcome, context: EscapeContext): boolean | Promise<boolean>;
}

const got = (text: string) => (outcome: EscapeOutcome) => outcome.allowed && typeof outcome.value === 'string' && outcome.value.includes(text);
const listed = (name: string) => (outcome: EscapeOutcome) => outcome.allowed && Array.isArray(outcome.value) && outcome.value.includes(name);

/** True once `check` holds, polling for up to `ms` (a signal is delivered a moment after it is sent). */
async function within(ms: number, check: () => boolean): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

/** A name for this run's planted file, so rounds never see each other's. */
const planted = ({ workspace, staged }: EscapeContext) => path.join(workspace.outside, `planted-${path.basename(staged.dir)}.txt`);

/**
 * The escapes, in the order they are tried. Each is what a plugin with Deno's checks out
 * of its way would really do, judged by its effect on the host. Killing a sibling comes
 * last: where it gets through, the sibling is gone.
 */
export const ESCAPES: readonly Escape[] = [
  { name: 'read a file outside its grants', tool: 'bare', layer: 'mountNamespace', args: ({ workspace }) => ({ action: 'read', target: workspace.secretFile }), escaped: got(SECRET) },
  { name: 'read it with node:fs', tool: 'granted', layer: 'mountNamespace', args: ({ workspace }) => ({ action: 'node-read', target: workspace.secretFile }), escaped: got(SECRET) },
  {
    name: "read the runtime's own package.json",
    tool: 'bare',
    layer: 'mountNamespace',
    args: () => ({ action: 'read', target: path.join(PACKAGE_ROOT, 'package.json') }),
    escaped: got('"manasvi-plugins"'),
  },
  { name: 'read /etc/passwd', tool: 'bare', layer: 'mountNamespace', args: () => ({ action: 'read', target: '/etc/passwd' }), escaped: got('root:') },
  {
    name: 'write outside its grants',
    tool: 'granted',
    layer: 'mountNamespace',
    args: (context) => ({ action: 'write', target: planted(context), text: 'planted' }),
    escaped: (_outcome, context) => existsSync(planted(context)),
  },
  {
    name: 'plant a symlink in its writable grant leading out, and read through it',
    tool: 'granted',
    layer: 'mountNamespace',
    args: ({ workspace, staged }) => ({ action: 'symlink', target: workspace.secretFile, link: path.join(staged.writable, 'link-out') }),
    escaped: got(SECRET),
  },
  { name: 'read through libc over FFI', tool: 'bare', layer: 'mountNamespace', args: ({ workspace }) => ({ action: 'ffi', target: workspace.secretFile }), escaped: got(SECRET) },
  {
    name: "read the host's environment from /proc/<host pid>",
    tool: 'bare',
    layer: 'mountNamespace',
    args: () => ({ action: 'read', target: `/proc/${process.pid}/environ` }),
    // The host's environment as the host itself sees it: any of its variables will do.
    escaped: (outcome) => got(Object.keys(process.env)[0] ?? 'PATH')(outcome),
  },
  {
    name: "list the host's temp folder",
    tool: 'bare',
    layer: 'mountNamespace',
    args: () => ({ action: 'list', target: os.tmpdir() }),
    escaped: (outcome, { workspace }) => listed(path.basename(workspace.root))(outcome),
  },
  { name: "list the runtime's folder", tool: 'bare', layer: 'mountNamespace', args: () => ({ action: 'list', target: PACKAGE_ROOT }), escaped: listed('package.json') },
  {
    name: 'signal the host',
    tool: 'bare',
    layer: 'mountNamespace',
    args: () => ({ action: 'signal', target: String(process.pid), text: 'SIGWINCH' }),
    escaped: (outcome, { workspace }) => outcome.allowed && within(2000, () => workspace.signals() > 0),
  },
  {
    name: 'connect to a Unix socket of the host',
    tool: 'granted',
    layer: 'mountNamespace',
    args: ({ workspace }) => ({ action: 'unix-connect', target: workspace.socketPath }),
    escaped: got('unix socket says hi'),
  },
  {
    name: 'connect to an ungranted loopback port',
    tool: 'bare',
    layer: 'networkNamespace',
    args: ({ workspace }) => ({ action: 'tcp-connect', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'GET an ungranted loopback port with node:http',
    tool: 'bare',
    layer: 'networkNamespace',
    args: ({ workspace }) => ({ action: 'node-http', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'open TLS to an ungranted loopback port (Deno.connectTls)',
    tool: 'bare',
    layer: 'networkNamespace',
    args: ({ workspace }) => ({ action: 'connect-tls', target: workspace.tcpHostPort }),
    // The handshake fails against a plain server: the connection itself is the escape.
    escaped: (_outcome, { workspace }) => within(500, () => workspace.tcpConnections() > 0),
  },
  {
    name: 'send its requests through a proxy it sets itself',
    tool: 'bare',
    layer: 'networkNamespace',
    args: ({ workspace }) => ({ action: 'proxy-fetch', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'fetch an ungranted loopback port, tool with a network grant (through the proxy it is given)',
    tool: 'networked',
    layer: 'egressGateway',
    args: ({ workspace }) => ({ action: 'fetch', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'GET an ungranted loopback port with node:http, tool with a network grant (through the proxy it is given)',
    tool: 'networked',
    layer: 'egressGateway',
    args: ({ workspace }) => ({ action: 'node-http', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'connect to an ungranted loopback port past the proxy, tool with a network grant',
    tool: 'networked',
    layer: 'networkNamespace',
    args: ({ workspace }) => ({ action: 'tcp-connect', target: workspace.tcpHostPort }),
    escaped: got('loopback says hi'),
  },
  {
    name: 'kill a sibling tool process by its host pid',
    tool: 'bare',
    layer: 'mountNamespace',
    args: ({ siblingPid }) => ({ action: 'signal', target: String(siblingPid), text: 'SIGKILL' }),
    escaped: (outcome, { siblingPid }) => outcome.allowed && within(2000, () => !processAlive(siblingPid)),
  },
];
