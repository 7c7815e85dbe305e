import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

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
}

/** The unshare arguments that give a process an empty network namespace, as this user. */
const UNSHARE_NET = ['--user', '--map-current-user', '--net'];

function findExecutable(candidates: string[]): string | null {
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next location
    }
  }
  return null;
}

/** Looks for util-linux's prlimit and setpriv (Linux only). */
export function detectOsLayers(): OsLayers {
  if (process.platform !== 'linux') return { prlimit: null, setpriv: null, unshare: null };
  return {
    prlimit: findExecutable(['/usr/bin/prlimit', '/bin/prlimit']),
    setpriv: findExecutable(['/usr/bin/setpriv', '/bin/setpriv']),
    unshare: usableUnshare(),
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
export function detectOsLayersInBackground(): OsLayerDetection {
  if (process.platform !== 'linux') {
    const none = { prlimit: null, setpriv: null, unshare: null };
    return { ready: Promise.resolve(none), now: () => none };
  }
  const found = {
    prlimit: findExecutable(['/usr/bin/prlimit', '/bin/prlimit']),
    setpriv: findExecutable(['/usr/bin/setpriv', '/bin/setpriv']),
  };
  let known: OsLayers | undefined;
  const probe = unshareProbe();
  const ready = new Promise<OsLayers>((resolve) => {
    const settle = (unshare: string | null) => {
      known ??= { ...found, unshare };
      resolve(known);
    };
    if (!probe) return settle(null);
    const child = spawn(probe.unshare, [...UNSHARE_NET, '--', probe.truePath], { timeout: 5000, stdio: 'ignore', env: {} });
    child.once('error', () => settle(null));
    child.once('close', (code) => settle(code === 0 ? probe.unshare : null));
  });
  return {
    ready,
    now: () => {
      known ??= { ...found, unshare: usableUnshare() };
      return known;
    },
  };
}

export interface ProcessLimits {
  cpuSeconds: number;
  fileSizeMb: number;
  /** True for a tool with no network grant: it gets an empty network namespace where available. */
  isolateNetwork?: boolean;
}

/**
 * The command line that starts Deno under the available OS layers: `prlimit` sets hard
 * CPU and file-size limits, `setpriv --pdeathsig KILL` ties the plugin's life to the host's.
 * Pure: returns [file, ...args] with Deno's own argv appended unchanged.
 */
export function wrapCommand(layers: OsLayers, limits: ProcessLimits, denoPath: string, denoArgv: string[]): [string, string[]] {
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
  if (layers.unshare && limits.isolateNetwork) chain.push(layers.unshare, ...UNSHARE_NET, '--');
  // setpriv last before Deno: the death signal must be set on the process that stays.
  if (layers.setpriv) chain.push(layers.setpriv, '--pdeathsig', 'KILL', '--');
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

/**
 * The command one tool's process is spawned with: Deno under the OS layers, a tool with
 * no network grant in an empty network namespace. `inspect` and the launch use this one function.
 */
export function toolCommand(
  layers: OsLayers,
  limits: { cpuSeconds: number; fileSizeMb: number },
  denoPath: string,
  grants: { network: readonly string[] },
  denoArgv: string[],
): [string, string[]] {
  return wrapCommand(layers, { ...limits, isolateNetwork: grants.network.length === 0 }, denoPath, denoArgv);
}
