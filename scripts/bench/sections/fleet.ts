import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { BenchRow } from '../bench-row.ts';
import type { BenchContext, BenchSection } from '../bench-context.ts';
import { runFloorFleet } from '../fleet-floor.ts';
import type { FleetResult } from '../fleet-measure.ts';
import { runRuntimeFleet } from '../fleet-runtime.ts';

/**
 * An event loop this late for this long stalls every other plugin's calls, deadlines and
 * heartbeats noticeably: the host is not keeping up with its own fleet.
 */
const LAG_P99_TARGET_MS = 100;

/**
 * The fleet (issue 4): many tool processes started at once, with the host's event-loop lag
 * measured while they start. The floor is the same number of raw Deno echo processes
 * spawned in one turn; the targets are absolute, on the runtime's numbers.
 */
export const fleetSection: BenchSection = {
  id: 'fleet',
  name: 'fleet',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const bounds = context.plan.fleet;
    const { processes, lagResolutionMs, exitTimeoutMs } = bounds;
    // The floor first: neither fleet then starts while the other's hundred processes wind down.
    context.progress(`fleet: ${processes} floor processes…`);
    const floor = await runFloorFleet(context.floor, bounds);
    context.progress(`fleet: ${processes} runtime tool processes…`);
    const dir = mkdtempSync(path.join(context.scratchDir, 'fleet-'));
    let runtime: FleetResult;
    try {
      runtime = await runRuntimeFleet({ ...bounds, denoPath: context.denoPath, config: context.config, dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const pair = (pick: (result: FleetResult) => number) => ({ runtime: pick(runtime), floor: pick(floor) });
    const detail = (pick: (result: FleetResult) => unknown) => ({ detail: { runtime: pick(runtime), floor: pick(floor) } });
    return [
      {
        id: 'fleet_all_ready_ms',
        metric: `fleet: ${processes} tool processes started at once, all ready`,
        unit: 'ms',
        digits: 0,
        ...pair((result) => result.allReadyMs),
        includes:
          `runtime: one generated plugin with ${processes} tools (a pool, so a process, each), stock deno-launch.json, no policy, ` +
          `one call to every tool asked for in the same turn; from just before the first call to the last tool's \`ready\` state event. ` +
          `floor: ${processes} raw echo spawns in one turn, to the last hello.`,
        ...detail(({ firstReadyMs, medianReadyMs, allReadyMs, allAnsweredMs, issueMs, processNames, extra }) => ({
          firstReadyMs,
          medianReadyMs,
          allReadyMs,
          allAnsweredMs,
          issueMs,
          processNames,
          ...extra,
        })),
      },
      {
        id: 'fleet_issue_ms',
        metric: `  of which the loop asking for ${processes} starts held the event loop`,
        unit: 'ms',
        digits: 0,
        ...pair((result) => result.issueMs),
        includes:
          'the synchronous part of asking for every start in one turn. Spawning is synchronous in Node (fork/exec on this thread), ' +
          'so this is one block of the event loop, and it is what the lag rows below mostly see.',
      },
      {
        id: 'fleet_loop_lag_p50_ms',
        metric: '  host event-loop lag p50 while they start',
        unit: 'ms',
        digits: 1,
        ...pair((result) => result.lag.p50Ms),
        includes:
          `node:perf_hooks monitorEventLoopDelay, resolution ${lagResolutionMs} ms, enabled only from just before the first start ` +
          'to the last first-call result (armed one turn early: it records nothing before its first turn); lag = how late each ' +
          'timer turn came, the resolution subtracted. A block is one sample however long it lasts, so few samples mean long blocks ' +
          `(samples: runtime ${runtime.lag.samples}, floor ${floor.lag.samples}).`,
        ...detail((result) => result.lag),
      },
      {
        id: 'fleet_loop_lag_p99_ms',
        metric: '  host event-loop lag p99 while they start',
        unit: 'ms',
        digits: 1,
        ...pair((result) => result.lag.p99Ms),
        target: { kind: 'absolute', bound: 'max', value: LAG_P99_TARGET_MS },
        includes: 'as the p50 row.',
      },
      {
        id: 'fleet_loop_lag_max_ms',
        metric: '  host event-loop lag max while they start',
        unit: 'ms',
        digits: 1,
        ...pair((result) => result.lag.maxMs),
        includes: 'as the p50 row: the longest single block.',
      },
      {
        id: 'fleet_host_rss_growth_mib',
        metric: '  host RSS growth while they start',
        unit: 'MiB',
        digits: 1,
        ...pair((result) => result.hostRssMiB.allAnswered - result.hostRssMiB.beforeStart),
        includes:
          "this Node process's RSS when every first call was answered minus just before the first start (the plugin already loaded " +
          `and bundled): ${processes} sets of pipes, streams, channels and supervisors (runtime) or bare child handles (floor). GC timing moves it by a few MiB.`,
        ...detail((result) => ({ hostRssMiB: result.hostRssMiB, toolProcessesRssMiB: result.toolRssMiB })),
      },
      {
        id: 'fleet_left_after_close',
        metric: '  fleet processes still running after close',
        unit: 'processes',
        digits: 0,
        ...pair((result) => result.leftRunning.length),
        target: { kind: 'absolute', bound: 'max', value: 0 },
        includes:
          `runtime: runtime.close() (shutdown → ack → SIGKILL after the grace period) took ${Math.round(runtime.stopMs)} ms; floor: stdin closed ` +
          `(${Math.round(floor.stopMs)} ms). Then every pid (runtime: from the launch audit records, and Deno's own below each under the sandbox) is looked up in /proc for up to ` +
          `${exitTimeoutMs / 1000} s: same start time and not a zombie = still running.`,
        ...detail(({ stopMs, leftRunning, zombies }) => ({ stopMs, leftRunning, zombies })),
      },
    ];
  },
};
