/**
 * The states a tool reports, written once: what each of its processes goes through, and
 * what its pool adds on top (restart backoff, parking). The handle's `state` events, the
 * audit log's `state` records, the pool and the process all use these lists.
 */

/** What a tool process reports about itself, beyond its internal state. */
export const PROCESS_EVENTS = ['starting', 'ready', 'busy', 'idle', 'unresponsive', 'crashed', 'stopped'] as const;

/** What a tool's pool reports on top of its processes' events. */
export const POOL_EVENTS = ['restarting', 'parked', 'unparked'] as const;

/** Every state a tool can report: a process event or a pool event. */
export const TOOL_STATES = [...PROCESS_EVENTS, ...POOL_EVENTS] as const;

export type ProcessEvent = (typeof PROCESS_EVENTS)[number];
export type PoolEvent = (typeof POOL_EVENTS)[number];
export type ToolState = (typeof TOOL_STATES)[number];
