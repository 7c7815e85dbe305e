import { newId } from '../new-id.ts';

/** Every security-relevant event the runtime records. */
export type AuditType =
  | 'grant_decision'
  | 'grant_refused'
  | 'launch'
  | 'handshake_ok'
  | 'handshake_failed'
  | 'capability_denied'
  | 'protocol_violation'
  | 'kill'
  | 'exit'
  | 'shutdown'
  | 'state'
  | 'setid_stripped'
  | 'setid_sweep_incomplete';

/** What a component supplies for a record; id and time are stamped by the auditor. */
export interface AuditFields {
  type: AuditType;
  plugin: string;
  tool?: string;
  launchId?: string;
  reason?: string;
  [field: string]: unknown;
}

/** One audit record: a JSON-lines row with a ULID and a time. Never holds a secret's value. */
export type AuditRecord = AuditFields & { id: string; time: string };

export type AuditSink = (record: AuditRecord) => void;

/** Stamps a record with a ULID and the time, and hands it to the sink. A failing sink never breaks the runtime. */
export function makeAuditor(sink: AuditSink | undefined): (fields: AuditFields) => void {
  return (fields) => {
    if (!sink) return;
    try {
      sink({ id: newId(), time: new Date().toISOString(), ...fields });
    } catch {
      // The operator's sink failing must not take a plugin or the host down.
    }
  };
}
