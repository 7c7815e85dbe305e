import { readFileSync } from 'node:fs';
import { denoPidOf as denoPidOfCommand, descendantsOf, processAlive } from '../../runtime/launch/sandbox/sandboxed-pid.ts';
import type { PluginHandle } from '../../runtime/index.ts';
import { waitFor } from './wait-for.ts';

/**
 * True while `pid` is a live process. A zombie counts as gone: it runs no code, and in a
 * container nothing may ever reap an orphan's zombie.
 */
export function processExists(pid: number): boolean {
  if (process.platform === 'linux') return processAlive(pid);
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until the process (or every one of `pids`) is gone: killed, and at least a zombie.
 * The deadline is generous; the point is that it goes, not how fast.
 */
export async function waitForProcessGone(pids: number | readonly number[], timeoutMs?: number): Promise<true> {
  const list = typeof pids === 'number' ? [pids] : pids;
  return waitFor(`process ${list.join(', ')} to be gone`, () => list.every((pid) => !processExists(pid)), timeoutMs);
}

/** The one pid a tool runs under right now, once it has exactly one live process. */
export async function onlyPid(handle: PluginHandle, tool: string): Promise<number> {
  return waitFor(`one live process of ${tool}`, () => {
    const pids = handle.pids(tool);
    return pids.length === 1 ? pids[0] : undefined;
  });
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

/**
 * The host pid of the Deno process a launch record names: the launched process itself,
 * or, where the tool runs in the sandbox, the launcher's grandchild (waited for).
 */
export async function denoPidOf(launchPid: number): Promise<number> {
  const argv = processArgv(launchPid);
  return waitFor(`Deno to start under ${launchPid}`, () => denoPidOfCommand([argv[0]!, argv.slice(1)], launchPid));
}

/** The pid a process sees for itself (`Deno.pid`): its pid in its own PID namespace, from NSpid. */
export function pidInsideOf(hostPid: number): number {
  const nspid = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))?.[1];
  return Number(nspid?.trim().split(/\s+/).at(-1) ?? hostPid);
}

/** Every live descendant of `pid` (children, their children, …), from /proc. */
export const descendantPids = descendantsOf;
