import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import { createProcessStorage } from '../launch/process-storage.ts';
import { type DenoProcess, spawnDeno } from '../launch/spawn-deno.ts';
import { StderrLines } from '../launch/stderr-lines.ts';

export interface SpawnToolOptions {
  tool: string;
  launchId: string;
  /** The program and arguments: Deno's argv under the OS layers. */
  command: [string, string[]];
  storageRoot: string;
  /** Mints the launch token; only called once the storage exists, so a failed spawn leaves none. */
  issueToken(): string;
  limits: LaunchConfig['limits'];
  /** Per-launch environment besides the token (the egress gateway's proxy variables). */
  extraEnv?: Readonly<Record<string, string>>;
  /** One line of the process's stderr, cut and rate-limited. */
  onLine(line: string): void;
}

/** A spawned tool process: the child, its own DENO_DIR (removed after exit), its stderr lines. */
export interface SpawnedTool {
  child: DenoProcess;
  denoDir: string;
  stderr: StderrLines;
}

/**
 * Gives a tool process storage no other process can see, spawns it with just the launch
 * token in its environment, and reads its stderr line by line.
 * @throws PluginRuntimeError `plugin_crashed` when the storage folder cannot be made (nothing was spawned).
 */
export function spawnTool(o: SpawnToolOptions): SpawnedTool {
  let denoDir: string;
  try {
    denoDir = createProcessStorage(o.storageRoot, o.launchId);
  } catch (cause) {
    throw new PluginRuntimeError('plugin_crashed', `the ${o.tool} process could not be given its storage folder`, { cause });
  }
  const child = spawnDeno({ command: o.command, token: o.issueToken(), denoDir, ...(o.extraEnv ? { extraEnv: o.extraEnv } : {}) });
  const stderr = new StderrLines(
    child.stderr,
    { maxLineBytes: o.limits.stderrLineBytes, linesPerSecond: o.limits.stderrLinesPerSecond, tailLines: o.limits.stderrTailLines },
    o.onLine,
  );
  return { child, denoDir, stderr };
}
