import { MAX_ERROR_MESSAGE_CHARS } from '../../plugin-sdk/protocol/constants.ts';
import { encodeFrame } from '../../plugin-sdk/protocol/frame.ts';
import type { HostToPluginMessage, PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { Violation } from '../channel/parse-inbound.ts';
import { PluginRuntimeError } from '../errors.ts';
import { newId } from '../new-id.ts';
import { printableText } from '../printable-text.ts';
import { NODE_TIMERS, type Timers } from '../timers.ts';
import { TokenBucket } from '../token-bucket.ts';

type ResultMessage = Extract<PluginToHostMessage, { type: 'result' }>;
type ProgressMessage = Extract<PluginToHostMessage, { type: 'progress' }>;
type CancelMessage = Extract<HostToPluginMessage, { type: 'cancel' }>;

export interface CallLedgerOptions {
  tool: string;
  maxFrameBytes: number;
  /** How long a cancelled call may keep running before its process is killed (`calls.cancelGraceMs`). */
  cancelGraceMs: number;
  /** `progress` frames forwarded per call per second (`calls.progressPerSecond`); the rest are dropped. */
  progressPerSecond: number;
  /** Writes an encoded `call` frame. */
  sendCall(frame: Uint8Array): void;
  send(message: CancelMessage): void;
  /** The first call is in flight. */
  onBusy(): void;
  /** A call stopped being in flight (result, timeout or cancel), before its caller hears of it. */
  onSettled(): void;
  /** The last call in flight settled. */
  onIdle(): void;
  /** A cancelled call ran past the cancel grace: the process must be killed. */
  onIgnoredCancel(error: PluginRuntimeError): void;
  /** A `result` for an id neither in flight nor cancelled. */
  onViolation(violation: Violation): void;
  timers?: Timers;
}

/** How far a call has got, as its tool reported it (see {@link CallLedger.progress}). */
export interface CallProgress {
  done: number;
  total?: number;
  /** Printable text: control characters escaped. */
  message?: string;
}

/** How one call is sent: its deadlines, its caller's signal, who hears of its progress. */
export interface CallRequest {
  /** The time this call has left. */
  timeoutMs: number;
  /** The deadline the caller asked for (what a timeout reports), when time was already spent waiting for a process. */
  requestedMs?: number;
  signal?: AbortSignal;
  /** Receives each progress report the ledger lets through, in order. */
  onProgress?: (progress: CallProgress) => void;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: PluginRuntimeError): void;
  cleanup(): void;
  onProgress: ((progress: CallProgress) => void) | undefined;
  /** The last `done` reported; the next must be higher. */
  lastDone: number;
  /** How many progress frames this call may still forward; made at its first report (most calls make none). */
  progressRate: TokenBucket | undefined;
}

/**
 * The calls in flight on one process, paired with their results: each has a deadline and
 * may be aborted by its caller; either sends `cancel` and fails the call at once, then
 * allows the plugin `cancelGraceMs` to stop before asking for a kill. A result for a call
 * the host cancelled is dropped; a result for an id it never sent is a violation.
 */
export class CallLedger {
  readonly #o: CallLedgerOptions;
  readonly #timers: Timers;
  readonly #pending = new Map<string, PendingCall>();
  /** Calls cancelled by the host whose late result is still allowed, with their kill timers. */
  readonly #cancelled = new Map<string, unknown>();
  /** Progress frames over the rate, not forwarded (the `exit` audit record counts them). */
  progressDropped = 0;

  constructor(options: CallLedgerOptions) {
    this.#o = options;
    this.#timers = options.timers ?? NODE_TIMERS;
  }

  /** Calls in flight. */
  get size(): number {
    return this.#pending.size;
  }

  /** True while `id` is in flight. */
  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /**
   * Sends a call under a fresh id and resolves with the tool's value.
   * @throws PluginRuntimeError `invalid_arguments` (too large for one frame), `cancelled`
   *   (signal already aborted), `timeout`, `tool_failed`, or whatever `failAll` is given.
   */
  add(tool: string, args: unknown, request: CallRequest): Promise<unknown> {
    const { timeoutMs, requestedMs = timeoutMs, signal, onProgress } = request;
    if (signal?.aborted) return Promise.reject(new PluginRuntimeError('cancelled', 'the call was cancelled before it started'));
    const id = newId();
    let frame: Uint8Array;
    try {
      frame = encodeFrame({ type: 'call', id, tool, args, timeoutMs }, this.#o.maxFrameBytes);
    } catch (error) {
      // Too large to send: the caller's mistake, never the plugin's, so the process lives on.
      return Promise.reject(
        new PluginRuntimeError('invalid_arguments', `arguments for ${tool} do not fit in one frame: ${(error as Error).message}`),
      );
    }
    return new Promise((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => this.#cancel(id, 'timeout', `${tool} did not finish within ${requestedMs} ms`), timeoutMs);
      const onAbort = () => this.#cancel(id, 'cancelled', `${tool} was cancelled by the caller`);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        this.#timers.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#pending.set(id, { resolve, reject, cleanup, onProgress, lastDone: -1, progressRate: undefined });
      if (this.#pending.size === 1) this.#o.onBusy();
      this.#o.sendCall(frame);
    });
  }

  /** Pairs a `result` with its call. */
  settle(message: ResultMessage): void {
    const pending = this.#pending.get(message.id);
    if (pending) {
      this.#settled(message.id);
      pending.cleanup();
      if (message.ok) pending.resolve(message.value);
      else pending.reject(toolFailed(this.#o.tool, message.error));
      return;
    }
    if (this.#cancelled.has(message.id)) {
      this.#timers.clearTimeout(this.#cancelled.get(message.id));
      this.#cancelled.delete(message.id);
      return;
    }
    this.#o.onViolation({ reason: 'unknown_call_id', type: 'result', detail: `result for unknown call id ${message.id}` });
  }

  /**
   * A call's progress: forwarded to its caller while the call is in flight and under the
   * rate, dropped (and counted) over the rate or after the host cancelled the call. A
   * `done` that does not rise, a `total` below `done`, or an id never in flight is a
   * protocol violation, as for `result`.
   */
  progress(message: ProgressMessage): void {
    const pending = this.#pending.get(message.id);
    if (!pending) {
      if (this.#cancelled.has(message.id)) return;
      this.#o.onViolation({ reason: 'unknown_call_id', type: 'progress', detail: `progress for unknown call id ${message.id}` });
      return;
    }
    const { done, total } = message;
    if (done <= pending.lastDone || (total !== undefined && total < done)) {
      const why = done <= pending.lastDone ? `done ${done} after ${pending.lastDone}` : `done ${done} over total ${total}`;
      this.#o.onViolation({ reason: 'bad_progress', type: 'progress', detail: `progress for call ${message.id} must rise: ${why}` });
      return;
    }
    pending.lastDone = done;
    pending.progressRate ??= new TokenBucket(this.#o.progressPerSecond, this.#timers);
    if (!pending.progressRate.take()) {
      this.progressDropped++;
      return;
    }
    if (!pending.onProgress) return;
    const progress: CallProgress = { done, ...(total === undefined ? {} : { total }), ...(message.message === undefined ? {} : { message: printableText(message.message) }) };
    try {
      pending.onProgress(progress);
    } catch {
      // The caller's listener failing must not break the ledger or the process.
    }
  }

  /**
   * Ends every call in flight with `error` and sends each a `cancel`; the process lives on,
   * and a late result is dropped as for any cancelled call (the cancel grace applies).
   */
  abortAll(error: PluginRuntimeError): void {
    for (const id of [...this.#pending.keys()]) this.#cancel(id, 'cancelled', error.message, error);
  }

  /** Fails every call in flight with `error` (no `cancel` is sent: the process is ending). */
  failAll(error: PluginRuntimeError): void {
    for (const pending of this.#pending.values()) {
      pending.cleanup();
      pending.reject(error);
    }
    this.#pending.clear();
  }

  /** The process is gone: no cancelled call can outstay its grace any more. */
  forgetCancelled(): void {
    for (const timer of this.#cancelled.values()) this.#timers.clearTimeout(timer);
    this.#cancelled.clear();
  }

  #settled(id: string): void {
    this.#pending.delete(id);
    this.#o.onSettled();
    if (this.#pending.size === 0) this.#o.onIdle();
  }

  #cancel(id: string, code: 'timeout' | 'cancelled', message: string, error: PluginRuntimeError = new PluginRuntimeError(code, message)): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#settled(id);
    pending.cleanup();
    pending.reject(error);
    this.#o.send({ type: 'cancel', id, reason: code });
    const graceMs = this.#o.cancelGraceMs;
    this.#cancelled.set(
      id,
      this.#timers.setTimeout(() => {
        this.#cancelled.delete(id);
        this.#o.onIgnoredCancel(
          new PluginRuntimeError('plugin_crashed', `the ${this.#o.tool} process was killed: call ${id} ignored cancel for ${graceMs} ms`),
        );
      }, graceMs),
    );
  }
}

function toolFailed(tool: string, error: { code: string; message: string }): PluginRuntimeError {
  const message = printableText(error.message.slice(0, MAX_ERROR_MESSAGE_CHARS));
  return new PluginRuntimeError('tool_failed', `${tool} failed: ${message}`, { details: { pluginCode: printableText(error.code) } });
}
