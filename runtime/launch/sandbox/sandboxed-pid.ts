import { readdirSync, readFileSync } from 'node:fs';
import { SANDBOX_LAUNCHER } from './sandbox-support.ts';

/** The parent pid in a `/proc/<pid>/stat` line (the name in parentheses may hold anything). */
function parentPidOf(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) ? ppid : null;
}

function childrenOf(parents: readonly number[]): Map<number, number[]> {
  const found = new Map<number, number[]>(parents.map((pid) => [pid, []]));
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const ppid = parentPidOf(stat);
    if (ppid !== null) found.get(ppid)?.push(Number(entry));
  }
  return found;
}

/** True while `pid` runs: it has a /proc entry that is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Every live descendant of `pid` (children, their children, …), from /proc. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const children = childrenOf(frontier);
    frontier = [...children.values()].flat();
    found.push(...frontier);
  }
  return found;
}

/**
 * The host pid of the tool's Deno inside the sandbox: the launcher's grandchild (the
 * launcher waits as the host's child, pid 1 inside waits as its child, and Deno is pid 1's).
 * A tool bridged to the egress gateway has a second child of the launcher, the forwarder,
 * which has no children: the grandchild is found under whichever child has one.
 * Found from `/proc` (this kernel need not have `/proc/<pid>/task/<tid>/children`).
 * @returns the pid, or null while Deno is not started yet or has exited
 */
export function sandboxedToolPid(launcherPid: number): number | null {
  const children = childrenOf([launcherPid]).get(launcherPid) ?? [];
  if (children.length === 0) return null;
  const grandchildren = childrenOf(children);
  for (const child of children) {
    const first = grandchildren.get(child)?.[0];
    if (first !== undefined) return first;
  }
  return null;
}

/** Deno's own pid for a spawned command: the child itself, or in the sandbox the launcher's grandchild (null until it is there). */
export function denoPidOf(command: [string, string[]], childPid: number | undefined): number | null {
  if (childPid === undefined) return null;
  return command[1].includes(SANDBOX_LAUNCHER) ? sandboxedToolPid(childPid) : childPid;
}
