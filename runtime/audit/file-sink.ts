import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { AuditSink } from './audit-record.ts';

/**
 * An audit sink that appends one JSON line per record to `file` (created 0600). The file
 * is opened once in append mode; each write is synchronous, so a record is on disk before
 * the event it records goes on. `close()` releases the file (the runtime calls it).
 *
 * @param file the JSON-lines file; its folder is created if missing
 * @returns the sink, with `close()`
 * @example
 * const sink = fileAuditSink('audit.jsonl');
 * const runtime = createRuntime({ onAudit: sink });
 * // …
 * await runtime.close();
 * sink.close();
 */
export function fileAuditSink(file: string): AuditSink & { close(): void } {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  let fd: number | null = openSync(file, 'a', 0o600);
  const sink = (record: Parameters<AuditSink>[0]) => {
    if (fd !== null) writeSync(fd, `${JSON.stringify(record)}\n`);
  };
  return Object.assign(sink, {
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  });
}
