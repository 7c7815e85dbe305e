import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { createRuntime, type LaunchConfig, loadLaunchConfig, type PluginLogLine, type Runtime } from '../../runtime/index.ts';
import { AuditLog } from './audit-log.ts';
import { waitFor } from './wait-for.ts';

export interface TestRuntimeOptions {
  /** A short handshake deadline, for the test that waits it out. */
  handshakeTimeoutMs?: number;
  /** Adjusts this runtime's copy of deno-launch.json (e.g. a lenient restart policy). */
  configure?: (config: LaunchConfig) => void;
  allowDeclared?: boolean;
}

export interface TestRuntime {
  runtime: Runtime;
  audit: AuditLog;
  /** Every stderr line any plugin process wrote. */
  logs: PluginLogLine[];
  /** Waits for a plugin stderr line containing `text`; resolves with the line (its launchId says which process). */
  waitForLog(text: string, timeoutMs?: number): Promise<PluginLogLine>;
}

/**
 * A real runtime for one test file, with its own state folder, an audit collector and a
 * log collector; closed (every process stopped) and cleaned up at teardown.
 */
export function testRuntime(t: Test, options: TestRuntimeOptions = {}): TestRuntime {
  const config = structuredClone(loadLaunchConfig());
  if (options.handshakeTimeoutMs !== undefined) config.handshake.timeoutMs = options.handshakeTimeoutMs;
  options.configure?.(config);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'manasvi-test-'));
  const audit = new AuditLog();
  const logs: PluginLogLine[] = [];
  const runtime = createRuntime({
    launchConfig: config,
    stateDir,
    onAudit: audit.sink,
    onLog: (entry) => logs.push(entry),
    ...(options.allowDeclared === undefined ? {} : { allowDeclared: options.allowDeclared }),
  });
  t.teardown(async () => {
    await runtime.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  return {
    runtime,
    audit,
    logs,
    waitForLog: (text, timeoutMs) =>
      waitFor(`a plugin log line containing ${JSON.stringify(text)}`, () => logs.find((entry) => entry.line.includes(text)), timeoutMs),
  };
}
