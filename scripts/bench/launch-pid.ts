import type { AuditRecord } from '../../runtime/index.ts';
import { denoPidOf } from '../../runtime/launch/sandbox/sandboxed-pid.ts';

/** What the bench keeps of a `launch` audit record: enough to find the tool's Deno process later. */
export interface LaunchSeen {
  /** The pid the runtime spawned: Deno itself under prlimit/setpriv (they exec into it), the sandbox launcher under the sandbox. */
  pid: number;
  /** The spawned command as the runtime ran it, rebuilt from the record's wrapper, Deno path and argv. */
  command: [string, string[]];
}

/** The pid and command of a `launch` record (null when the record has no pid: the spawn failed). */
export function launchSeen(record: AuditRecord<'launch'>): LaunchSeen | null {
  if (typeof record.pid !== 'number') return null;
  const full = [...record.wrapper, record.deno, ...record.argv];
  return { pid: record.pid, command: [full[0]!, full.slice(1)] };
}

/**
 * Deno's own pid for a launch, for /proc readings (RSS, CPU): under the sandbox the spawned
 * pid is the Perl launcher's (Deno is its grandchild), so reading it would measure Perl.
 * Read once the tool has answered a call, when Deno is certain to run; null if it is gone.
 */
export function toolDenoPid(launch: LaunchSeen): number | null {
  return denoPidOf(launch.command, launch.pid);
}
