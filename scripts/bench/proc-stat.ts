import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/<pid>/stat after the command name, so index 0 is field 3 (state).
 * The name (field 2) may hold spaces and parentheses, hence the split after its last ')'.
 * Null off Linux or once the process is gone.
 */
export function readProcStatFields(pid: number): string[] | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
