import { readProcStatFields } from './proc-stat.ts';

/** Which process a pid names right now: enough to tell it from a later process given the same pid. */
export interface ProcessIdentity {
  /** Start time since boot in clock ticks (/proc/<pid>/stat field 22): a reused pid gets a new one. */
  startTicks: string;
  /** One-letter state (field 3); `Z` is a zombie: exited, not yet reaped by its parent. */
  state: string;
}

/** Null off Linux or once the pid is gone. */
export function readProcessIdentity(pid: number): ProcessIdentity | null {
  const fields = readProcStatFields(pid);
  if (fields === null) return null;
  const state = fields[0];
  const startTicks = fields[19];
  return state === undefined || startTicks === undefined ? null : { state, startTicks };
}

/** Whether the process first seen as `seen` still runs (a zombie has exited, so it does not). */
export function stillRunning(pid: number, seen: ProcessIdentity): boolean {
  const now = readProcessIdentity(pid);
  return now !== null && now.startTicks === seen.startTicks && now.state !== 'Z';
}
