import { accessSync, constants } from 'node:fs';

/** The first of `candidates` this process may execute, or null: OS tools are looked for at fixed paths, never on PATH. */
export function findExecutable(candidates: readonly string[]): string | null {
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next location
    }
  }
  return null;
}
