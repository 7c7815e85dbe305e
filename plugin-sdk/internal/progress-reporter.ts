import { MAX_PROGRESS_MESSAGE_CHARS } from '../protocol/constants.ts';
import type { ProgressMessage } from '../protocol/messages.ts';

/** One call's `ctx.progress`, and the way to silence it once the call has settled. */
export interface ProgressReporter {
  report(done: number, total?: number, message?: string): void;
  /** The call settled: nothing more is sent, a report waiting for its turn included. */
  end(): void;
}

function checkValue(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`ctx.progress: ${name} must be a finite number from 0 to ${Number.MAX_SAFE_INTEGER}, not ${String(value)}`);
  }
}

/**
 * Reports progress the way the host accepts it: each `done` above the last, `total` (when
 * given) at least `done`, and no more than `perSecond` frames a second. Reports that come
 * faster are coalesced: the latest waits for its turn and replaces any before it, so the
 * host never has to drop one. A report that breaks the rules throws here, in the plugin,
 * instead of costing the process its channel.
 */
export function progressReporter(
  callId: string,
  perSecond: number,
  signal: AbortSignal,
  send: (message: ProgressMessage) => void,
): ProgressReporter {
  const intervalMs = 1000 / perSecond;
  let lastDone = -1;
  let lastSentAt = -Infinity;
  let waiting: ProgressMessage | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;

  const flush = () => {
    timer = undefined;
    if (ended || waiting === null || signal.aborted) return;
    lastSentAt = performance.now();
    send(waiting);
    waiting = null;
  };

  return {
    report(done, total, message) {
      checkValue('done', done);
      if (total !== undefined) checkValue('total', total);
      if (done <= lastDone) throw new RangeError(`ctx.progress: done must rise, and ${done} is not above ${lastDone}`);
      if (total !== undefined && total < done) throw new RangeError(`ctx.progress: total ${total} is below done ${done}`);
      lastDone = done;
      if (ended || signal.aborted) return;
      waiting = {
        type: 'progress',
        id: callId,
        done,
        ...(total === undefined ? {} : { total }),
        ...(message === undefined ? {} : { message: String(message).slice(0, MAX_PROGRESS_MESSAGE_CHARS) }),
      };
      const wait = lastSentAt + intervalMs - performance.now();
      if (wait <= 0) flush();
      else timer ??= setTimeout(flush, wait);
    },
    end() {
      ended = true;
      waiting = null;
      clearTimeout(timer);
    },
  };
}
