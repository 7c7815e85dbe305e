import type { AuditRecord, AuditType } from '../../runtime/index.ts';
import type { Test } from 'tap';
import { waitFor } from './wait-for.ts';

/** The fields an audit record is matched on; every given field must be equal. */
export type AuditQuery = { type: AuditType } & Partial<Record<string, unknown>>;

function matches(record: AuditRecord, query: AuditQuery): boolean {
  return Object.entries(query).every(([key, value]) => (record as Readonly<Record<string, unknown>>)[key] === value);
}

/** Collects every audit record a runtime emits, for tests to query and wait on. */
export class AuditLog {
  readonly records: AuditRecord[] = [];

  /** Pass as `createRuntime({ onAudit })`. */
  readonly sink = (record: AuditRecord): void => {
    this.records.push(record);
  };

  all(query: AuditQuery): AuditRecord[] {
    return this.records.filter((record) => matches(record, query));
  }

  find(query: AuditQuery): AuditRecord | undefined {
    return this.records.find((record) => matches(record, query));
  }

  last(query: AuditQuery): AuditRecord | undefined {
    return this.all(query).at(-1);
  }

  waitFor(query: AuditQuery, timeoutMs?: number): Promise<AuditRecord> {
    return waitFor(`audit record ${JSON.stringify(query)}`, () => this.find(query), timeoutMs);
  }

  /** The `launch` record of a launch; it carries the pid and the exact argv. */
  launch(launchId: string): LaunchRecord {
    const record = this.find({ type: 'launch', launchId });
    if (!record) throw new Error(`no launch record for ${launchId}`);
    return record as LaunchRecord;
  }
}

export type LaunchRecord = AuditRecord & { launchId: string; pid: number; argv: string[] };

/** The audit records of one type, optionally for one tool, from a collector or a parsed audit file. */
export function auditOf(records: AuditLog | readonly AuditRecord[], type: AuditType, tool?: string): AuditRecord[] {
  const list = records instanceof AuditLog ? records.records : records;
  return list.filter((record) => record.type === type && (tool === undefined || record.tool === tool));
}

/** Asserts that `list` holds exactly one item matching `pattern`. */
export function matchOne(t: Test, list: readonly unknown[], pattern: object, message = 'exactly one match'): void {
  t.equal(list.length, 1, `${message} (${list.length} found)`);
  t.match(list[0], pattern, message);
}
