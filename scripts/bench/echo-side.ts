/**
 * What the bench measures, on either side of the comparison: something that can start a
 * fresh echo tool process and then call it. The runtime side and the floor side implement
 * the same shape, so every section runs the same code against both.
 */

/** The arguments every echo call carries (valid for the echo example's input schema). */
export const ECHO_ARGS = Object.freeze({ text: 'hello from the bench' });

/** One running echo tool process. */
export interface EchoProcess {
  /** OS pid of the Deno process itself (for /proc readings). */
  readonly pid: number;
  /** One echo call; resolves with the echoed value. */
  echo(): Promise<unknown>;
  /** Stops the process and waits for it to exit. */
  stop(): Promise<void>;
}

/** How one fresh start went, in milliseconds from just before the start was asked for. */
export interface ColdStart {
  process: EchoProcess;
  /** When the start was asked for, on the bench's clock (nowMs), so starts made together share one timeline. */
  startedAt: number;
  /** Until the process's `hello` frame was received (and, for the runtime, verified). */
  helloMs: number;
  /**
   * Until the process could take calls. Runtime: its `ready` state event (after welcome and
   * tools.register). Floor: its hello, as it needs nothing more.
   */
  readyMs: number;
  /** Until the first echo result was back: boot, handshake, any registration, one call. */
  firstResultMs: number;
}

export interface EchoSide {
  readonly label: 'runtime' | 'floor';
  /** Starts a fresh tool process and makes its first call. */
  coldStart(): Promise<ColdStart>;
  /** Stops everything this side started. Safe to call more than once. */
  close(): Promise<void>;
}
