import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Storage of one plugin process: its own `DENO_DIR`.
 *
 * Deno gives every program `localStorage` and the Cache API with no permission, and keeps
 * both under `DENO_DIR` (`location_data/<hash of the main module>/local_storage` and
 * `location_data/web_cache/<hash>/`), keyed only by the main module. Tools of one plugin
 * run the same bundle, and bundles are content-addressed, so a shared `DENO_DIR` would let
 * a tool stash what its grants gave it where a tool without them, a plugin with the same
 * bytes, or a later launch reads it back. Each process therefore gets a fresh folder,
 * removed once it has exited:
 *
 * ```
 * <stateDir>/processes/<host pid>/<launch id>/   mode 0700, the process's DENO_DIR
 * ```
 *
 * Folders are grouped by the host's pid so that a runtime starting up can sweep what a
 * dead host left behind without touching the folders of a live one sharing the state folder.
 */

/** The folder under the state folder that holds every host's process folders. */
export const PROCESS_STORAGE_FOLDER = 'processes';

/** This host's folder of process storage under `root` (`<stateDir>/processes`). */
export function hostStorageDir(root: string, pid = process.pid): string {
  return path.join(root, String(pid));
}

/**
 * Creates the fresh, empty `DENO_DIR` of one launch (mode 0700). The leaf is created
 * exclusively: a folder already there (a launch id used twice, or something planted) fails.
 * @returns the folder, to pass as `DENO_DIR`
 */
export function createProcessStorage(root: string, launchId: string): string {
  const hostDir = hostStorageDir(root);
  mkdirSync(hostDir, { recursive: true, mode: 0o700 });
  const dir = path.join(hostDir, launchId);
  mkdirSync(dir, { mode: 0o700 });
  // Deno keeps module-analysis caches in sqlite files here, and creating them in an empty
  // folder costs a dozen fsyncs per launch. A folder where a cache file would go makes Deno
  // keep that cache in memory instead: nothing is lost, since a bundle is analysed once.
  for (const cache of DENO_ANALYSIS_CACHES) mkdirSync(path.join(dir, cache), { mode: 0o500 });
  return dir;
}

/** Deno's analysis caches (2.x names); a newer Deno with other names just creates its files. */
const DENO_ANALYSIS_CACHES = ['dep_analysis_cache_v2', 'node_analysis_cache_v2'];

/**
 * Removes a launch's storage once its process has exited. Never rejects: a folder that
 * cannot be removed now is left for the sweep when this host's pid is no longer alive
 * (no later process is ever given it: every launch gets a new one).
 */
export async function removeProcessStorage(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => {});
}

/** True when a process with this pid exists (EPERM: it exists, owned by someone else). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what hosts that are no longer running left under `root`: the folder of every
 * pid that is not alive. This host's own folder and those of live hosts are kept; entries
 * that are not a host folder are left alone. Symlinks are removed, never followed.
 * @returns the host folders removed
 */
export function sweepProcessStorage(root: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const entry of entries) {
    if (!/^[1-9]\d*$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || pidAlive(pid)) continue;
    const dir = path.join(root, entry);
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
      removed.push(dir);
    } catch {
      // Gone already, or not removable now: the next start tries again.
    }
  }
  return removed;
}
