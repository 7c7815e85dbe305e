import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sleep } from './stats.ts';

export interface LoopLag {
  /** Timer turns recorded (a long block is one large sample, so few samples can mean long blocks). */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

export interface LoopLagMonitor {
  /** Waits for the turn that records the block in progress, then stops and summarises. */
  stop(): Promise<LoopLag>;
}

const NS_PER_MS = 1e6;
/** Turns to wait after enabling: Node records nothing until its timer's first turn (it only notes the time). */
const ARMING_TURNS = 2.5;

/**
 * Measures this process's event-loop lag with node:perf_hooks monitorEventLoopDelay.
 *
 * Two traps of the histogram are closed here. It records the time between its timer's
 * turns, resolution included (an idle loop reads about `resolutionMs`), so the resolution is
 * subtracted: lag is how late each turn came. And it records nothing for the span before its
 * first turn, nor for a block still running when it is disabled: so this resolves only once
 * the timer has turned (a block right after it is measured), and `stop` lets one more turn
 * pass first. The arming turns are idle samples of about zero lag, counted in `samples`.
 */
export async function startLoopLag(resolutionMs: number): Promise<LoopLagMonitor> {
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  await sleep(resolutionMs * ARMING_TURNS);
  return {
    async stop() {
      await sleep(resolutionMs);
      histogram.disable();
      const lag = (ns: number) => (histogram.count === 0 ? 0 : Math.max(0, ns / NS_PER_MS - resolutionMs));
      return {
        samples: histogram.count,
        p50Ms: lag(histogram.percentile(50)),
        p99Ms: lag(histogram.percentile(99)),
        maxMs: lag(histogram.max),
        meanMs: lag(histogram.mean),
      };
    },
  };
}
