import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AuditSink } from './audit-record.ts';

/**
 * An audit sink that appends one JSON line per record to `file` (created 0600).
 * Appends are synchronous so a record is on disk before the event it records goes on.
 */
export function fileAuditSink(file: string): AuditSink {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return (record) => appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}
