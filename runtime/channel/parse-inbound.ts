import * as v from 'valibot';
import { FrameError, parseFramePayload } from '../../plugin-sdk/protocol/frame.ts';
import type { PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import { toSchemaIssues } from '../schema-issues.ts';
import { INBOUND_SCHEMAS } from './inbound-schemas.ts';
import { checkState } from './channel-gate.ts';
import { type ChannelState, inboundRule } from './message-catalogue.ts';
import type { Violation } from './violation.ts';

export type { Violation, ViolationReason } from './violation.ts';


export type InboundResult = { ok: true; message: PluginToHostMessage } | { ok: false; violation: Violation };

/**
 * One frame payload → a typed, schema-checked message allowed in `state`: decodeInbound,
 * then the gate's state step. Capability checks come after, in the gate (channel-gate.ts),
 * because they depend on grants and may be answered without a kill.
 */
export function parseInbound(payload: Uint8Array, state: ChannelState): InboundResult {
  const result = decodeInbound(payload);
  if (!result.ok) return result;
  const violation = checkState(result.message.type, state);
  return violation ? { ok: false, violation } : result;
}

/** One frame payload → a typed, schema-checked message. Order: JSON → known plugin→host type → schema. */
export function decodeInbound(payload: Uint8Array): InboundResult {
  let object: Record<string, unknown>;
  try {
    object = parseFramePayload(payload);
  } catch (error) {
    const frameError = error as FrameError;
    return { ok: false, violation: { reason: frameError.reason, detail: frameError.message } };
  }
  const type = typeof object['type'] === 'string' ? (object['type'] as string) : undefined;
  const rule = type === undefined ? null : inboundRule(type);
  if (type === undefined || rule === null) {
    return {
      ok: false,
      violation: { reason: 'unknown_type', detail: `unknown message type ${JSON.stringify(object['type'] ?? null).slice(0, 80)}` },
    };
  }
  const schema = INBOUND_SCHEMAS[type as keyof typeof INBOUND_SCHEMAS];
  const parsed = v.safeParse(schema, object);
  if (!parsed.success) {
    const first = toSchemaIssues(parsed.issues)[0]!;
    return { ok: false, violation: { reason: 'schema_mismatch', type, detail: `${type}: ${first.path}: ${first.message}` } };
  }
  return { ok: true, message: parsed.output };
}
