import { accessSync, constants } from 'node:fs';

/** The optional OS layers this host can add under Deno, detected once. */
export interface OsLayers {
  /** `prlimit`: CPU-seconds and file-size limits per process. */
  prlimit: string | null;
  /** `setpriv --pdeathsig`: the kernel kills the plugin if the host dies, even a busy one. */
  setpriv: string | null;
}

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
  if (process.platform !== 'linux') return { prlimit: null, setpriv: null };
  return {
    prlimit: findExecutable(['/usr/bin/prlimit', '/bin/prlimit']),
    setpriv: findExecutable(['/usr/bin/setpriv', '/bin/setpriv']),
  };
}

export interface ProcessLimits {
  cpuSeconds: number;
  fileSizeMb: number;
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
  if (layers.setpriv) chain.push(layers.setpriv, '--pdeathsig', 'KILL', '--');
  chain.push(denoPath, ...denoArgv);
  return [chain[0]!, chain.slice(1)];
}
