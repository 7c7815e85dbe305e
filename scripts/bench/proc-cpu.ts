import { readProcStatFields } from './proc-stat.ts';

/** Linux's USER_HZ: /proc/<pid>/stat reports CPU time in these ticks (100 on every mainstream build). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat.
 * Resolution is one clock tick (10 ms), so callers measure over batches long enough for that
 * not to matter. Null off Linux or once the process is gone.
 */
export function readProcessCpuMs(pid: number): number | null {
  const fields = readProcStatFields(pid);
  if (fields === null) return null;
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** CPU time this Node process has used so far, in milliseconds. */
export function hostCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
