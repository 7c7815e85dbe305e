import * as v from 'valibot';
import { MAX_PROGRESS_MESSAGE_CHARS } from '../../plugin-sdk/protocol/constants.ts';
import type { PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';

const id = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const shortText = (max: number) => v.pipe(v.string(), v.maxLength(max));
const count = v.pipe(v.number(), v.integer(), v.minValue(0));

export const HelloSchema = v.strictObject({
  type: v.literal('hello'),
  token: shortText(256),
  protocol: v.pipe(v.number(), v.integer()),
});

export const ToolsRegisterSchema = v.strictObject({
  type: v.literal('tools.register'),
  tools: v.pipe(v.array(shortText(64)), v.maxLength(256)),
  handlers: v.optional(v.pipe(v.array(shortText(64)), v.maxLength(256))),
});

export const ResultSchema = v.variant('ok', [
  v.strictObject({ type: v.literal('result'), id, ok: v.literal(true), value: v.unknown() }),
  v.strictObject({
    type: v.literal('result'),
    id,
    ok: v.literal(false),
    error: v.strictObject({ code: shortText(64), message: v.string() }),
  }),
]);

export const PongSchema = v.strictObject({
  type: v.literal('pong'),
  seq: count,
  stats: v.optional(
    v.strictObject({
      heapUsedBytes: v.optional(count),
      rssBytes: v.optional(count),
      inFlight: v.optional(count),
    }),
  ),
});

export const SecretGetSchema = v.strictObject({
  type: v.literal('secret.get'),
  requestId: id,
  callId: id,
  name: shortText(64),
  token: shortText(256),
});

/** Finite and not negative (JSON has no NaN or Infinity, but a number may still be huge). */
const progressValue = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** Rising values and `total ≥ done` are the call ledger's to check: they depend on the frame before. */
export const ProgressSchema = v.strictObject({
  type: v.literal('progress'),
  id,
  done: progressValue,
  total: v.optional(progressValue),
  message: v.optional(shortText(MAX_PROGRESS_MESSAGE_CHARS)),
});

export const ShutdownAckSchema = v.strictObject({ type: v.literal('shutdown.ack') });

/** Schema for each plugin→host message type. */
export const INBOUND_SCHEMAS = {
  hello: HelloSchema,
  'tools.register': ToolsRegisterSchema,
  result: ResultSchema,
  pong: PongSchema,
  'secret.get': SecretGetSchema,
  'shutdown.ack': ShutdownAckSchema,
  progress: ProgressSchema,
} as const satisfies Record<PluginToHostMessage['type'], v.GenericSchema>;
