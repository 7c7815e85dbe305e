import type { GrantDecision, Grants } from '../grants/grants.ts';
import { newId } from '../new-id.ts';
import type { ToolState } from '../supervisor/tool-states.ts';
import type { EgressEvent } from '../egress/egress-launch.ts';

/** An interface's fields as a plain object type, so a record reads as a `Record<string, unknown>` too. */
type Plain<T> = { [K in keyof T]: T[K] };

/**
 * What each audit record type carries beyond `type`, `plugin`, `tool` and `launchId`.
 * One row per type: a new record type is one row here.
 */
export interface AuditDetailsByType {
  /** One declared scope and the rule that granted or refused it (`reason` repeats the rule). */
  grant_decision: Plain<GrantDecision> & { reason: string };
  /** A granted tree held a symlink leading out or a hard-linked file; the launch was refused. */
  grant_refused: { reason: string };
  /** A tool process was spawned: Deno's exact argv, what wraps it (OS layers), its grants. */
  launch: { argv: string[]; wrapper: string[]; deno: string; grants: Grants; pid: number | null };
  handshake_ok: {};
  /** Why the handshake failed (`bad_token`, `timeout`, `replay`, `garbage`, …). */
  handshake_failed: { reason: string };
  /**
   * A capability request that was not granted. `suppressingFurther`: the per-process budget
   * of denial records is spent; the rest are counted in the `exit` record.
   */
  capability_denied: { capability: string; scope?: string; reason: string; suppressingFurther?: boolean };
  /** The channel broke protocol; the counters of a full outbound queue when that was why. */
  protocol_violation: {
    reason: string;
    detail: string;
    queuedBytes?: number;
    withheldBytes?: number;
    frameBytes?: number;
    maxQueuedBytes?: number;
    peakQueuedBytes?: number;
  };
  kill: { reason: string; signal: string };
  /** The process ended; how many denials and replies went unrecorded or withheld, how many progress frames over the rate were dropped. */
  exit: { exitCode: number | null; signal: string | null; denialsUnrecorded?: number; repliesWithheld?: number; progressDropped?: number; egressUnrecorded?: number };
  shutdown: { reason: string };
  /** A state change of a tool (the handle's `state` event). */
  state: { state: ToolState; reason?: string };
  /** A set-id bit found on a file in a writable tree and stripped; modes in octal. */
  setid_stripped: { path: string; oldMode: string; newMode: string };
  setid_sweep_incomplete: { reason: string };
  /**
   * A `load` that failed: the manifest, the error's code and message. `plugin` is the
   * manifest's name when it could be read, else `(unknown)`.
   */
  load_refused: { manifestPath: string; code: string; message: string };
  /**
   * One connection through the egress gateway (or one it refused): the host and port the
   * tool asked for, the vetted address, the decision and the rule or reason, bytes each
   * way and duration. Refusals past `limits.auditDenialsPerLaunch` are counted in the
   * `exit` record (`egressUnrecorded`) instead.
   */
  egress: Plain<EgressEvent> & { suppressingFurther?: boolean };
  /** A tool passed one of its egress limits: its calls in flight ended with `resource_exhausted`. */
  egress_limit: { limit: string; reason: string };
}

/** Every security-relevant event the runtime records. */
export type AuditType = keyof AuditDetailsByType;

/** Fields every record has: the plugin, and the tool and launch when the event concerns one. */
type AuditSubject = {
  plugin: string;
  tool?: string;
  launchId?: string;
};

type DetailKey = { [T in AuditType]: keyof AuditDetailsByType[T] }[AuditType];

/**
 * One record type's fields. Every other type's fields are declared absent (`?: never`),
 * so a record that has not been narrowed by `type` can still be read field by field
 * (`record.reason` is `string | undefined`), and narrowing by `type` gives the exact shape.
 */
type FieldsOf<T extends AuditType> = { type: T } & AuditSubject & AuditDetailsByType[T] & {
  [K in Exclude<DetailKey, keyof AuditDetailsByType[T]>]?: never;
};

/** What a component supplies for a record, discriminated on `type`; id and time are stamped by the auditor. */
export type AuditFields<T extends AuditType = AuditType> = { [K in T]: FieldsOf<K> }[T];

/**
 * One audit record: a JSON-lines row with a ULID and a time, discriminated on `type`.
 * Never holds a secret's value.
 *
 * @example
 * onAudit: (record) => {
 *   if (record.type === 'launch') console.log(record.launchId, record.argv.join(' '));
 * }
 */
export type AuditRecord<T extends AuditType = AuditType> = AuditFields<T> & { id: string; time: string };

/** Receives every audit record, synchronously, as the event happens. */
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
