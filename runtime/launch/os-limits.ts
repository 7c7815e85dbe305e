import { spawn, spawnSync } from 'node:child_process';
import { findExecutable } from './find-executable.ts';
import { bundledDenoPath } from './deno-binary.ts';
import type { LayerName } from '../layer-names.ts';
import { mountPlan, planArgs } from './sandbox/mount-plan.ts';
import { detectSandbox, detectSandboxInBackground, type SandboxSupport } from './sandbox/sandbox-support.ts';

/** The optional OS layers this host can add under Deno, detected once. */
export interface OsLayers {
  /** `prlimit`: CPU-seconds and file-size limits per process. */
  prlimit: string | null;
  /** `setpriv --pdeathsig`: the kernel kills the plugin if the host dies, even a busy one. */
  setpriv: string | null;
  /**
   * `unshare --user --map-current-user --net`, where this host may create namespaces: a
   * tool with no network grant runs in a network namespace with no interface but a loopback
   * that is down, so even a flaw in Deno's permission checks finds no network.
   */
  unshare: string | null;
  /**
   * User, mount, PID, IPC and UTS namespaces per tool process over a file system of its
   * own (sandbox-launcher.pl); when available it also makes the network namespace.
   */
  sandbox: SandboxSupport;
}

const NOT_LINUX: SandboxSupport = { available: false, reason: `namespaces are a Linux feature; this host runs ${process.platform}` };

/** The unshare arguments that give a process an empty network namespace, as this user. */
const UNSHARE_NET = ['--user', '--map-current-user', '--net'];

/** Looks for util-linux's prlimit, setpriv and unshare, and probes the sandbox for this Deno (Linux only). */
export function detectOsLayers(denoPath = bundledDenoPath()): OsLayers {
  if (process.platform !== 'linux') return { prlimit: null, setpriv: null, unshare: null, sandbox: NOT_LINUX };
  return {
    prlimit: findExecutable(['/usr/bin/prlimit', '/bin/prlimit']),
    setpriv: findExecutable(['/usr/bin/setpriv', '/bin/setpriv']),
    unshare: usableUnshare(),
    sandbox: detectSandbox(denoPath),
  };
}

function unshareProbe(): { unshare: string; truePath: string } | null {
  const unshare = findExecutable(['/usr/bin/unshare', '/bin/unshare']);
  const truePath = findExecutable(['/usr/bin/true', '/bin/true']);
  return unshare && truePath ? { unshare, truePath } : null;
}

/** unshare is only a layer where the kernel lets this user create the namespaces: try it once. */
function usableUnshare(): string | null {
  const probe = unshareProbe();
  if (!probe) return null;
  const result = spawnSync(probe.unshare, [...UNSHARE_NET, '--', probe.truePath], { timeout: 5000, stdio: 'ignore', env: {} });
  return result.status === 0 ? probe.unshare : null;
}

/** The same detection, with the unshare probe running while the host gets on with loading. */
export interface OsLayerDetection {
  /** Settles once the probe has answered: what every launch waits for. */
  ready: Promise<OsLayers>;
  /** The answer now; if the probe is still running, it is asked again synchronously. */
  now(): OsLayers;
}

/**
 * Starts detecting the OS layers without blocking: `prlimit` and `setpriv` are found at
 * once, the unshare probe (a process that tries to create the namespaces) runs in the
 * background. Nothing is launched before {@link OsLayerDetection.ready} settles.
 */
export function detectOsLayersInBackground(denoPath = bundledDenoPath()): OsLayerDetection {
  if (process.platform !== 'linux') {
    const none = { prlimit: null, setpriv: null, unshare: null, sandbox: NOT_LINUX };
    return { ready: Promise.resolve(none), now: () => none };
  }
  const found = {
    prlimit: findExecutable(['/usr/bin/prlimit', '/bin/prlimit']),
    setpriv: findExecutable(['/usr/bin/setpriv', '/bin/setpriv']),
  };
  let known: OsLayers | undefined;
  const probe = unshareProbe();
  const unshare = new Promise<string | null>((resolve) => {
    if (!probe) return resolve(null);
    const child = spawn(probe.unshare, [...UNSHARE_NET, '--', probe.truePath], { timeout: 5000, stdio: 'ignore', env: {} });
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code === 0 ? probe.unshare : null));
  });
  const ready = Promise.all([unshare, detectSandboxInBackground(denoPath)]).then(([unshareFound, sandbox]) => {
    known ??= { ...found, unshare: unshareFound, sandbox };
    return known;
  });
  return {
    ready,
    now: () => {
      known ??= { ...found, unshare: usableUnshare(), sandbox: detectSandbox(denoPath) };
      return known;
    },
  };
}

export interface ProcessLimits {
  cpuSeconds: number;
  fileSizeMb: number;
  /** True for a tool with no network grant: it gets an empty network namespace where available. */
  isolateNetwork?: boolean;
  /** For a tool with network grants under the sandbox: its own network namespace, bridged to the gateway alone. */
  bridge?: GatewayBridge;
}

/** What the sandbox binds into a tool's file system besides Deno: its bundle and grants. */
export interface SandboxContents {
  bundlePath: string;
  grants: { read: readonly string[]; write: readonly string[]; network: readonly string[] };
  /** Files Deno reads by itself (the gateway's CA certificate for a tool with an injection). */
  extraFiles?: readonly string[];
}

/**
 * The egress gateway as a tool with network grants reaches it: from the host's network at
 * `host:port`, or from a network namespace of its own through the launcher's bridge, which
 * listens on the same `host:port` inside and forwards to the gateway's Unix socket.
 */
export interface GatewayBridge {
  host: string;
  port: number;
  socketPath: string;
}

/**
 * The command line that starts Deno under the available OS layers: `prlimit` sets hard
 * CPU and file-size limits; then either the sandbox launcher (namespaces, its own file
 * system, its own death signal) or `unshare --net` for a tool without network and
 * `setpriv --pdeathsig KILL`, which ties the plugin's life to the host's. With `contents`
 * and an available sandbox, the sandbox is used. Pure: returns [file, ...args] with Deno's
 * own argv appended unchanged.
 */
export function wrapCommand(
  layers: OsLayers,
  limits: ProcessLimits,
  denoPath: string,
  denoArgv: string[],
  contents?: SandboxContents,
): [string, string[]] {
  const chain: string[] = [];
  if (layers.prlimit) {
    // Soft CPU limit below the hard one: at the soft limit the kernel sends SIGXCPU (which
    // the host reports as the cpu limit); with soft = hard it sends SIGKILL instead, which
    // looks like any outside kill. The hard limit a second later still ends a process that
    // catches SIGXCPU. No core files: a plugin's memory may hold secrets.
    chain.push(
      layers.prlimit,
      `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
      `--fsize=${limits.fileSizeMb * 1024 * 1024}`,
      '--core=0',
      '--',
    );
  }
  const sandbox = layers.sandbox;
  if (contents && sandbox.available) {
    const bridge = limits.bridge;
    const plan = mountPlan({ denoPath, libraries: sandbox.libraries, ...contents, bridged: bridge !== undefined });
    const net = bridge ? ['--net', '--bridge', bridge.socketPath, `${bridge.host}:${bridge.port}`, '--dns'] : limits.isolateNetwork ? ['--net'] : [];
    chain.push(sandbox.perl, sandbox.script, sandbox.arch, ...net, ...planArgs(plan), '--');
  } else {
    if (layers.unshare && limits.isolateNetwork) chain.push(layers.unshare, ...UNSHARE_NET, '--');
    // setpriv last before Deno: the death signal must be set on the process that stays.
    if (layers.setpriv) chain.push(layers.setpriv, '--pdeathsig', 'KILL', '--');
  }
  chain.push(denoPath, ...denoArgv);
  return [chain[0]!, chain.slice(1)];
}

/**
 * The OS-layer part of a command built by {@link wrapCommand}: every wrapper program with
 * its arguments, up to (not including) the Deno binary. Empty when Deno runs directly.
 */
export function wrapperOf(command: [string, string[]], denoArgv: readonly string[]): string[] {
  const full = [command[0], ...command[1]];
  return full.slice(0, full.length - denoArgv.length - 1);
}

/** How a tool with network grants reaches the egress gateway: its address and, for the sandbox's bridge, its socket and CA file. */
export interface ToolEgress {
  gateway: GatewayBridge;
  /** The gateway's CA certificate, bound into the sandbox for a tool that has a secret injected. */
  caFile?: string;
}

/**
 * The command one tool's process is spawned with: Deno under the OS layers, in the
 * sandbox where the host has it; a tool with no network grant in an empty network
 * namespace, one with grants (under the sandbox) in a namespace bridged to the egress
 * gateway alone. `inspect` and the launch use this one function. The bundle is Deno's last argument.
 */
export function toolCommand(
  layers: OsLayers,
  limits: { cpuSeconds: number; fileSizeMb: number },
  denoPath: string,
  grants: { network: readonly string[]; read: readonly string[]; write: readonly string[] },
  denoArgv: string[],
  egress?: ToolEgress,
): [string, string[]] {
  const networked = grants.network.length > 0;
  const contents = { bundlePath: denoArgv[denoArgv.length - 1]!, grants, ...(egress?.caFile ? { extraFiles: [egress.caFile] } : {}) };
  const bridge = networked && egress ? { bridge: egress.gateway } : {};
  return wrapCommand(layers, { ...limits, isolateNetwork: !networked, ...bridge }, denoPath, denoArgv, contents);
}

/** The layers a tool gets from the command {@link toolCommand} builds for these grants. */
export function toolLayers(layers: OsLayers, grants: { network: readonly string[] }): LayerName[] {
  const names: LayerName[] = ['hostChecks', 'denoPermissions'];
  const networked = grants.network.length > 0;
  if (layers.prlimit) names.push('osLimits');
  if (layers.sandbox.available || layers.setpriv) names.push('dieWithHost');
  if (layers.sandbox.available || (!networked && layers.unshare)) names.push('networkNamespace');
  if (layers.sandbox.available) names.push('mountNamespace');
  if (networked) names.push('egressGateway');
  return names;
}

/** Why this host gives no tool (or no tool with network grants, `networked`) the layer: for `layer_unavailable` and `doctor`. */
export function unavailableReason(layers: OsLayers, layer: LayerName, networked = false): string {
  const sandbox = layers.sandbox.available ? '' : `${layers.sandbox.reason}${layers.sandbox.remedy ? ` (to enable: ${layers.sandbox.remedy})` : ''}`;
  switch (layer) {
    case 'osLimits':
      return 'prlimit (util-linux) was not found';
    case 'dieWithHost':
      return `neither setpriv (util-linux) nor the sandbox is available: ${sandbox}`;
    case 'networkNamespace':
      return networked
        ? `a tool with network grants gets a namespace of its own only under the sandbox (its bridge to the egress gateway), which is unavailable: ${sandbox}`
        : `unshare (util-linux) cannot create namespaces here and the sandbox is unavailable: ${sandbox}`;
    case 'mountNamespace':
      return sandbox;
    default:
      return 'always given';
  }
}
