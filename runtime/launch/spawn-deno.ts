import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { LAUNCH_TOKEN_ENV } from '../../plugin-sdk/protocol/constants.ts';

export interface SpawnInput {
  /** Program and arguments: Deno, possibly under the OS layers (see os-limits.ts). */
  command: [string, string[]];
  token: string;
  denoDir: string;
  /** Per-launch variables besides the token: the egress gateway's proxy URL with this launch's credential. */
  extraEnv?: Readonly<Record<string, string>>;
}

/** A started plugin process, its three pipes open. */
export type DenoProcess = ChildProcessWithoutNullStreams;

/**
 * The scrubbed environment of a plugin process: the launch token, and the variables
 * that steer Deno itself (its own DENO_DIR, see process-storage.ts; no update check; no colour codes on stderr).
 * Nothing from the host's own environment: no HTTP_PROXY, no DENO_*, no secrets.
 */
export function pluginEnvironment(token: string, denoDir: string, extraEnv: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    ...extraEnv,
    [LAUNCH_TOKEN_ENV]: token,
    DENO_DIR: denoDir,
    DENO_NO_UPDATE_CHECK: '1',
    NO_COLOR: '1',
  };
}

/** Processes started and not yet exited: killed if the host exits first. */
const live = new Set<DenoProcess>();
let exitHookInstalled = false;

function killLiveOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Where the kernel cannot tie a plugin's life to the host's (no setpriv), a host that
  // exits without closing its runtime still takes its plugins with it.
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * The one place the runtime starts a process. The token travels in the environment, never
 * argv. `node:child_process` directly, not execa: this runs on every launch, and the CLI's
 * start-up budget has no room for execa's import.
 */
export function spawnDeno({ command, token, denoDir, extraEnv }: SpawnInput): DenoProcess {
  killLiveOnExit();
  const child = spawn(command[0], command[1], {
    env: pluginEnvironment(token, denoDir, extraEnv),
    // A neutral working folder: Deno.cwd() needs no permission, so the host's own would leak.
    cwd: '/',
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  live.add(child);
  child.once('close', () => live.delete(child));
  // A spawn failure (ENOENT, EACCES) is an 'error' event followed by 'close'; the caller watches 'close'.
  child.on('error', () => {});
  return child;
}
