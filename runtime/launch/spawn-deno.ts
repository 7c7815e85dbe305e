import { execa, type ResultPromise } from 'execa';
import { LAUNCH_TOKEN_ENV } from '../../plugin-sdk/protocol/constants.ts';

export interface SpawnInput {
  /** Program and arguments: Deno, possibly under the OS layers (see os-limits.ts). */
  command: [string, string[]];
  token: string;
  denoDir: string;
}

export type DenoProcess = ResultPromise<{ buffer: false; reject: false; stdin: 'pipe'; stdout: 'pipe'; stderr: 'pipe' }>;

/**
 * The scrubbed environment of a plugin process: the launch token, and the variables
 * that steer Deno itself (its own DENO_DIR, see process-storage.ts; no update check; no colour codes on stderr).
 * Nothing from the host's own environment: no HTTP_PROXY, no DENO_*, no secrets.
 */
export function pluginEnvironment(token: string, denoDir: string): Record<string, string> {
  return {
    [LAUNCH_TOKEN_ENV]: token,
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: '1',
    NO_COLOR: '1',
  };
}

/** The one place the runtime starts a process. The token travels in the environment, never argv. */
export function spawnDeno({ command, token, denoDir }: SpawnInput): DenoProcess {
  const subprocess = execa(command[0], command[1], {
    env: pluginEnvironment(token, denoDir),
    extendEnv: false,
    // A neutral working folder: Deno.cwd() needs no permission, so the host's own would leak.
    cwd: '/',
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    buffer: false,
    reject: false,
    killSignal: 'SIGKILL',
    cleanup: true,
    windowsHide: true,
  });
  // Outcomes are observed through the child's events; the result promise must not reject unhandled.
  subprocess.catch(() => {});
  return subprocess;
}
