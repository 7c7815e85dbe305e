import { spawnSync } from 'node:child_process';
import { type ErrorCode, isPluginRuntimeError } from '../../runtime/errors.ts';
import type { SchemaIssue } from '../../runtime/schema-issues.ts';

/**
 * The issues of the `code` error that `run` throws (`details.issues`, each naming its
 * field), or none when it does not throw. Any other error fails the test by propagating.
 */
export function issuesOf(run: () => unknown, code: ErrorCode = 'manifest_invalid'): SchemaIssue[] {
  try {
    run();
  } catch (error) {
    if (!isPluginRuntimeError(error, code)) throw error;
    return error.details!['issues'] as SchemaIssue[];
  }
  return [];
}

/**
 * Runs `script` in a child Node with an empty environment and SIGKILLs it at `timeoutMs`:
 * a positive control that something really blocks (a FIFO read, V8 backtracking), shown
 * without ever blocking the test process. SIGKILL, since a SIGTERM handler the child
 * inherits cannot run while V8 is busy. Returns what the child printed and how it ended.
 */
export function runBounded(script: string, timeoutMs: number): { signal: NodeJS.Signals | null; stdout: string } {
  const child = spawnSync(process.execPath, ['-e', script], { timeout: timeoutMs, killSignal: 'SIGKILL', env: {}, encoding: 'utf8' });
  return { signal: child.signal, stdout: child.stdout };
}
