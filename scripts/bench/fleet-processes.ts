import { type ProcessIdentity, readProcessIdentity, stillRunning } from './proc-identity.ts';
import { readProcessName, readRssMiB } from './proc-rss.ts';
import { median, nowMs, sleep } from './stats.ts';

const EXIT_POLL_MS = 50;

/** A fleet's processes as /proc shows them while they all run. */
export interface FleetSnapshot {
  seen: Map<number, ProcessIdentity>;
  rssMiB: { total: number | null; median: number | null };
  /** Kernel names counted (`deno` for all, unless a wrapper did not exec into Deno). */
  names: Record<string, number>;
}

export function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * RSS and names of `pids` (the tool processes themselves), and the identity of those and of
 * `alsoWatched` (processes that run them, such as the sandbox launcher) for {@link survivors}.
 */
export function snapshotFleet(pids: readonly number[], alsoWatched: readonly number[] = []): FleetSnapshot {
  const seen = new Map<number, ProcessIdentity>();
  for (const pid of new Set([...pids, ...alsoWatched])) {
    const identity = readProcessIdentity(pid);
    if (identity) seen.set(pid, identity);
  }
  const rss = pids.map(readRssMiB).filter((value): value is number => value !== null);
  return {
    seen,
    rssMiB: { total: rss.length === 0 ? null : rss.reduce((sum, value) => sum + value, 0), median: rss.length === 0 ? null : median(rss) },
    names: countBy(pids.map((pid) => readProcessName(pid) ?? '(gone)')),
  };
}

/**
 * After a fleet was stopped: which of its processes still run, waiting up to `timeoutMs`
 * for exits the kernel has yet to show. A pid is the same process only while its start time
 * matches, so a reused pid is never mistaken for a survivor; a zombie has exited (its parent
 * has not reaped it yet) and is listed apart.
 */
export async function survivors(seen: ReadonlyMap<number, ProcessIdentity>, timeoutMs: number): Promise<{ running: number[]; zombies: number[] }> {
  const until = nowMs() + timeoutMs;
  let running = [...seen.keys()].filter((pid) => stillRunning(pid, seen.get(pid)!));
  while (running.length > 0 && nowMs() < until) {
    await sleep(EXIT_POLL_MS);
    running = running.filter((pid) => stillRunning(pid, seen.get(pid)!));
  }
  const zombies = [...seen.keys()].filter((pid) => {
    const now = readProcessIdentity(pid);
    return now !== null && now.startTicks === seen.get(pid)!.startTicks && now.state === 'Z';
  });
  return { running, zombies };
}
