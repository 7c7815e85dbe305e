import { type LoopLag, startLoopLag } from './loop-lag.ts';
import { median, nowMs } from './stats.ts';

const BYTES_PER_MIB = 1024 * 1024;
const FAILURES_SHOWN = 5;

export interface FleetBounds {
  processes: number;
  lagResolutionMs: number;
  /** Every start must be ready and its first call answered within this. */
  readyTimeoutMs: number;
  exitTimeoutMs: number;
}

/** What one fleet start looked like from the host. Times are from just before the first start was asked for. */
export interface FleetStart {
  firstReadyMs: number;
  medianReadyMs: number;
  allReadyMs: number;
  allAnsweredMs: number;
  /** How long the synchronous loop that asks for every start held the event loop. */
  issueMs: number;
  /** From just before the first start until every first call was answered. */
  lag: LoopLag;
  hostRssMiB: { beforeStart: number; allAnswered: number };
}

/** One side's whole fleet run: the start, then /proc readings, the stop, and what was left. */
export interface FleetResult extends FleetStart {
  toolRssMiB: { total: number | null; median: number | null };
  processNames: Record<string, number>;
  stopMs: number;
  leftRunning: number[];
  zombies: number[];
  /** Side-specific readings for the JSON detail. */
  extra: Record<string, unknown>;
}

/**
 * Times a fleet start. `issue` must ask for every start in the same synchronous turn (as a
 * burst of calls arriving together would) and return one promise per start, resolving with
 * the moment (nowMs) that start was ready, once its first call has been answered. The lag
 * monitor and the RSS readings bracket exactly that, and the whole start is bounded.
 */
export async function measureFleetStart(
  bounds: FleetBounds,
  issue: () => Array<Promise<number>>,
  describe: () => string,
): Promise<FleetStart> {
  const monitor = await startLoopLag(bounds.lagResolutionMs);
  const rssBefore = process.memoryUsage.rss();
  const started = nowMs();
  const starts = issue();
  const issueMs = nowMs() - started;
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => (deadlineTimer = setTimeout(() => resolve('timeout'), bounds.readyTimeoutMs)));
  const outcome = await Promise.race([Promise.allSettled(starts), deadline]);
  clearTimeout(deadlineTimer);
  const allAnsweredMs = nowMs() - started;
  const rssAfter = process.memoryUsage.rss();
  const lag = await monitor.stop();
  if (outcome === 'timeout') throw new Error(`not every start answered within ${bounds.readyTimeoutMs} ms: ${describe()}`);
  const failures = outcome.flatMap((settled) => (settled.status === 'rejected' ? [String((settled.reason as Error)?.message ?? settled.reason)] : []));
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${starts.length} starts failed: ${failures.slice(0, FAILURES_SHOWN).join('; ')}; ${describe()}`);
  }
  const readyTimes = outcome.map((settled) => (settled as PromiseFulfilledResult<number>).value - started);
  return {
    firstReadyMs: Math.min(...readyTimes),
    medianReadyMs: median(readyTimes),
    allReadyMs: Math.max(...readyTimes),
    allAnsweredMs,
    issueMs,
    lag,
    hostRssMiB: { beforeStart: rssBefore / BYTES_PER_MIB, allAnswered: rssAfter / BYTES_PER_MIB },
  };
}
