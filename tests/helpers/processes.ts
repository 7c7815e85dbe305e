import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from './wait-for.ts';

/** True while /proc holds the process (a zombie not yet reaped counts as present). */
export function processExists(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

/**
 * Waits until the process has left /proc: killed and reaped. The deadline is generous;
 * the point is that it goes, not how fast.
 */
export async function waitForProcessGone(pid: number, timeoutMs?: number): Promise<true> {
  return waitFor(`process ${pid} to be gone`, () => !processExists(pid), timeoutMs);
}

/** The argv the kernel holds for a live process, as the process itself sees it. */
export function processArgv(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
}

/** The environment a live process was started with (what `execve` gave it). */
export function processEnvironment(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean);
  return Object.fromEntries(entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}
