/**
 * Remembers which version each Deno binary reported, keyed by what identifies that exact
 * file on disk (device, inode, size, change and modification times), so a runtime that
 * starts for one CLI command does not spawn `deno --version` every time. Replacing or
 * rewriting the binary changes its ctime, so the next check runs it again. The file lives
 * in the runtime's state folder (mode 0700, ownership checked), like the bundles.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeAtomically } from '../write-atomically.ts';

const CACHE_FILE = 'deno-versions.json';
/** Entries kept: one per binary seen, newest first. */
const MAX_ENTRIES = 16;

interface Entry {
  key: string;
  version: string;
}

function fileKey(binary: string): string | null {
  try {
    const s = statSync(binary, { bigint: true });
    return [binary, s.dev, s.ino, s.size, s.mtimeNs, s.ctimeNs].join(':');
  } catch {
    return null;
  }
}

function readEntries(stateDir: string): Entry[] {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path.join(stateDir, CACHE_FILE), 'utf8'));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (e): e is Entry => typeof e === 'object' && e !== null && typeof e.key === 'string' && typeof e.version === 'string',
    );
  } catch {
    return []; // absent or unreadable: the binary is simply asked again
  }
}

/** The version this exact binary reported before, if it has not changed since. */
export function rememberedVersion(stateDir: string, binary: string): string | undefined {
  const key = fileKey(binary);
  return key === null ? undefined : readEntries(stateDir).find((e) => e.key === key)?.version;
}

/** Records what the binary reported (best effort: a failed write only costs a later spawn). */
export function rememberVersion(stateDir: string, binary: string, version: string): void {
  const key = fileKey(binary);
  if (key === null) return;
  const entries = [{ key, version }, ...readEntries(stateDir).filter((e) => e.key !== key)].slice(0, MAX_ENTRIES);
  const target = path.join(stateDir, CACHE_FILE);
  try {
    writeAtomically(target, JSON.stringify(entries), 0o600);
  } catch {
    // the next start asks the binary again
  }
}
