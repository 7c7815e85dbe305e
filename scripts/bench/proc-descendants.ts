import { readdirSync } from 'node:fs';
import { readProcStatFields } from './proc-stat.ts';

/**
 * Every process below `pid` (children, their children, …), from the parent pid in each
 * /proc/<pid>/stat (field 4). Not every kernel has /proc/<pid>/task/<tid>/children, so the
 * whole table is read once. Empty off Linux.
 */
export function descendantPids(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const childrenOf = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = Number(readProcStatFields(Number(entry))?.[1]);
    if (!Number.isInteger(parent)) continue;
    const siblings = childrenOf.get(parent) ?? [];
    siblings.push(Number(entry));
    childrenOf.set(parent, siblings);
  }
  const found: number[] = [];
  const queue = [pid];
  // A pid appears once in the table, so the walk visits each process at most once.
  while (queue.length > 0) {
    for (const child of childrenOf.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}
