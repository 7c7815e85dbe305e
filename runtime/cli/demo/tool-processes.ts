import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** One tool process as the bridge's audit recorded it. */
export interface RecordedProcess {
  plugin: string;
  tool: string;
  pid: number;
}

/** What an audit file says of the tool processes: those launched (with a pid), and how many exits. */
export interface ProcessRecords {
  launched: RecordedProcess[];
  exits: number;
}

/**
 * Reads a JSON-lines audit file (the bridge's `--audit FILE`): the host's own record of
 * every process it spawned, which no plugin can forge. A missing file is no records; a
 * line that is not JSON is skipped (the last one may be half written).
 */
export function readProcessRecords(auditFile: string): ProcessRecords {
  let text = '';
  try {
    text = readFileSync(auditFile, 'utf8');
  } catch {
    return { launched: [], exits: 0 };
  }
  const records: ProcessRecords = { launched: [], exits: 0 };
  for (const line of text.split('\n')) {
    let record: { type?: unknown; plugin?: unknown; tool?: unknown; pid?: unknown };
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record.type === 'exit') records.exits += 1;
    if (record.type === 'launch' && typeof record.pid === 'number') {
      records.launched.push({ plugin: String(record.plugin), tool: String(record.tool), pid: record.pid });
    }
  }
  return records;
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const POLL_MS = 50;

/**
 * The pids still alive after waiting up to `withinMs` for them all to be gone: a process
 * killed a moment ago can take a few milliseconds to be reaped.
 */
export async function stillAlive(pids: readonly number[], withinMs: number): Promise<number[]> {
  const deadline = performance.now() + withinMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && performance.now() < deadline) {
    await sleep(POLL_MS);
    alive = alive.filter(isAlive);
  }
  return alive;
}
