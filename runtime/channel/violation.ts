import type { FrameError } from '../../plugin-sdk/protocol/frame.ts';

/** Every way a plugin can break the channel protocol (each ends its process). */
export type ViolationReason =
  | FrameError['reason']
  | 'unknown_type'
  | 'schema_mismatch'
  | 'wrong_state'
  | 'unknown_call_id'
  | 'bad_progress'
  | 'unexpected_tools'
  | 'stream_ended_mid_frame'
  | 'outbound_queue_full';

/** Why the host stopped trusting a channel. */
export interface Violation {
  reason: ViolationReason;
  detail: string;
  /** The message type, when one could be read. */
  type?: string;
  /** Numbers that go into the audit record beside the reason (e.g. the queue's bytes). */
  facts?: Record<string, number>;
}
