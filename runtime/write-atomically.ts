import { chmodSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * Writes `contents` to `target` whole or not at all: into a temporary file beside it, set
 * to `mode` (whatever the umask), then renamed over it, so a reader — another runtime
 * sharing the state folder — never sees half a file. The temporary file is removed if any
 * step fails.
 *
 * @throws the file system's error; callers whose write is only a cache catch it
 */
export function writeAtomically(target: string, contents: string | Uint8Array, mode: number): void {
  const temporary = `${target}.${process.pid}.tmp`;
  try {
    // A leftover of a crashed run with this pid may be read-only: start afresh.
    rmSync(temporary, { force: true });
    writeFileSync(temporary, contents, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
