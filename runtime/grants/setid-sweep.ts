import { closeSync, constants, chmodSync, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { pathContains } from '../scopes/path-scope.ts';

/** The set-user-id and set-group-id mode bits. */
export const SETID_BITS = 0o6000;

/** A tree larger than this is not swept past it: the sweep reports itself incomplete instead. */
export const MAX_ENTRIES_SWEPT = 50_000;

/** True for a regular file whose mode carries set-uid or set-gid. */
export function isSetIdFile(stat: Pick<Stats, 'mode' | 'isFile'>): boolean {
  return stat.isFile() && (stat.mode & SETID_BITS) !== 0;
}

/** The permission bits to keep: everything but set-uid and set-gid (sticky and rwx stay). */
export function withoutSetId(mode: number): number {
  return mode & 0o7777 & ~SETID_BITS;
}

/** The roots to walk: each granted tree once, a tree inside another left to the outer one. */
export function outermostRoots(roots: readonly string[]): string[] {
  const unique = [...new Set(roots)];
  return unique.filter((root) => !unique.some((other) => other !== root && pathContains(other, root)));
}

/** A mode's permission bits as four octal digits, as `chmod` takes them (`4755`). */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

export interface SetIdStrip {
  path: string;
  /** The whole mode before the strip (file type bits included), as lstat read it. */
  oldMode: number;
  newMode: number;
}

export interface SweepOutcome {
  stripped: SetIdStrip[];
  /** False when the walk stopped at `MAX_ENTRIES_SWEPT` and part of a tree went unseen. */
  complete: boolean;
}

/**
 * Walks the trees with lstat (never following a link) and strips set-uid/set-gid from
 * every regular file that has them. The strip goes through a descriptor opened with
 * O_NOFOLLOW and re-checked with fstat, so the mode lands on the inode that was judged even
 * if the plugin renames entries while the walk runs. A file that vanishes is skipped.
 */
export function sweepSetId(roots: readonly string[], maxEntries = MAX_ENTRIES_SWEPT): SweepOutcome {
  const stripped: SetIdStrip[] = [];
  let budget = maxEntries;
  for (const root of outermostRoots(roots)) {
    const stack = [root];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (--budget < 0) return { stripped, complete: false };
      let stat: Stats;
      try {
        stat = lstatSync(current);
      } catch {
        continue;
      }
      if (stat.isDirectory()) {
        let names: string[] = [];
        try {
          names = readdirSync(current);
        } catch {
          // Removed (or replaced) since the lstat: nothing left here to strip.
        }
        for (const name of names) stack.push(path.join(current, name));
      } else if (isSetIdFile(stat)) {
        const strip = stripSetId(current);
        if (strip) stripped.push(strip);
      }
    }
  }
  return { stripped, complete: true };
}

function stripSetId(file: string): SetIdStrip | null {
  let fd: number;
  try {
    // O_NONBLOCK: should a FIFO or device take the file's place, the open must not hang.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    // A set-id file the host's user may not read (mode 04000 and not root): chmod by name.
    if ((error as NodeJS.ErrnoException).code !== 'EACCES') return null;
    return stripByName(file);
  }
  try {
    const stat = fstatSync(fd);
    if (!isSetIdFile(stat)) return null;
    const newMode = withoutSetId(stat.mode);
    fchmodSync(fd, newMode);
    return { path: file, oldMode: stat.mode, newMode };
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function stripByName(file: string): SetIdStrip | null {
  try {
    const stat = lstatSync(file);
    if (!isSetIdFile(stat)) return null;
    const newMode = withoutSetId(stat.mode);
    chmodSync(file, newMode);
    return { path: file, oldMode: stat.mode, newMode };
  } catch {
    return null;
  }
}

export interface SetIdSweeperOptions {
  /** The process's writable trees. */
  roots: readonly string[];
  intervalMs: number;
  onStrip: (strip: SetIdStrip) => void;
  /** The walk stopped at its entry limit: part of the trees went unswept. Reported once. */
  onIncomplete: () => void;
  maxEntries?: number;
}

/**
 * Sweeps a live process's writable trees: on `start` (the process was spawned), every
 * `intervalMs` while it lives, whenever `sweep` is called (a call settled), and once more
 * on `stop` (the process has exited, so that last walk races nothing of it).
 */
export class SetIdSweeper {
  readonly #o: SetIdSweeperOptions;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #reportedIncomplete = false;

  constructor(options: SetIdSweeperOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setInterval(() => this.sweep(), this.#o.intervalMs);
    this.#timer.unref();
  }

  sweep(): void {
    if (this.#stopped) return;
    this.#run();
  }

  stop(): void {
    if (this.#stopped) return;
    clearInterval(this.#timer);
    this.#run();
    this.#stopped = true;
  }

  #run(): void {
    const outcome = sweepSetId(this.#o.roots, this.#o.maxEntries);
    for (const strip of outcome.stripped) this.#o.onStrip(strip);
    if (!outcome.complete && !this.#reportedIncomplete) {
      this.#reportedIncomplete = true;
      this.#o.onIncomplete();
    }
  }
}
