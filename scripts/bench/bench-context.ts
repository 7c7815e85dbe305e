import type { LaunchConfig } from '../../runtime/index.ts';
import type { BenchRow } from './bench-row.ts';
import type { EchoProcess, EchoSide } from './echo-side.ts';
import type { RuntimeSide } from './runtime-side.ts';

/** Every iteration count and bound in one place, so the whole run stays bounded (well under a minute on 2 cores). */
export interface BenchPlan {
  coldStart: { warmup: number; samples: number };
  rtt: { warmupCalls: number; rounds: number; callsPerRound: number };
  pipelined: { warmupCalls: number; rounds: number; calls: number; inFlight: number };
  /** MCP tools/call through the bridge and an unsandboxed SDK server: sequential blocks, then pipelined batches. */
  mcp: {
    warmupCalls: number;
    rounds: number;
    callsPerRound: number;
    throughput: { warmupCalls: number; rounds: number; calls: number; inFlight: number };
  };
  rss: { idleMs: number; calls: number };
  /** Rounds of whole commands (CLI call, library import), after one warming round. */
  cli: { rounds: number };
  /**
   * The egress section: a networked tool through the gateway (bridged), through the gateway in
   * the host's network, and direct. Request and call counts are per side and round.
   */
  egress: {
    coldStart: { warmup: number; samples: number };
    /** Fetches looped inside the tool, one call per side and round. */
    requests: { warmupRequests: number; rounds: number; perRound: number };
    /** Whole calls that fetch once each, timed in the host. */
    calls: { warmupCalls: number; rounds: number; perRound: number };
    /** One download and one upload of `bytes` per side and round, each its own call. */
    transfer: { bytes: number; rounds: number };
  };
  fleet: {
    /** Tool processes started at once. */
    processes: number;
    /** monitorEventLoopDelay's timer interval. */
    lagResolutionMs: number;
    /** The whole fleet must be ready (and each first call answered) within this, or the bench stops. */
    readyTimeoutMs: number;
    /** After runtime.close() resolves, how long the processes get to be gone from /proc. */
    exitTimeoutMs: number;
  };
}

export function defaultPlan(config: LaunchConfig): BenchPlan {
  return {
    coldStart: { warmup: 1, samples: 9 },
    rtt: { warmupCalls: 300, rounds: 8, callsPerRound: 250 },
    // Stay within the per-process concurrency cap, so the runtime never queues or answers `overloaded`.
    pipelined: { warmupCalls: 1000, rounds: 5, calls: 2000, inFlight: Math.min(16, config.calls.maxConcurrent) },
    // Within calls.maxConcurrent as above: the bridge's PluginHandle.call never queues.
    mcp: {
      warmupCalls: 300,
      rounds: 8,
      callsPerRound: 250,
      throughput: { warmupCalls: 1000, rounds: 5, calls: 2000, inFlight: Math.min(16, config.calls.maxConcurrent) },
    },
    rss: { idleMs: 500, calls: 2000 },
    cli: { rounds: 15 },
    // More cold starts and transfers than elsewhere: the differences are a few ms, and a 32 MiB round lasts a tenth of a second.
    egress: {
      coldStart: { warmup: 1, samples: 15 },
      requests: { warmupRequests: 200, rounds: 8, perRound: 250 },
      calls: { warmupCalls: 50, rounds: 8, perRound: 50 },
      transfer: { bytes: 32 * 1024 * 1024, rounds: 9 },
    },
    // The ready bound is far above the expected few seconds but below the bench's watchdog.
    fleet: { processes: 100, lagResolutionMs: 10, readyTimeoutMs: 60_000, exitTimeoutMs: 10_000 },
  };
}

export interface BenchContext {
  config: LaunchConfig;
  /** The Deno binary both sides use, for sections that start a runtime of their own. */
  denoPath: string;
  /** The run's temporary folder (removed when the bench ends); sections make their own subfolders. */
  scratchDir: string;
  plan: BenchPlan;
  runtime: RuntimeSide;
  floor: EchoSide;
  /** A progress note on stderr (stdout is reserved for the table or the JSON). */
  progress(message: string): void;
}

/** A named step of the bench; its rows are appended to the table in order. */
export interface BenchSection {
  /** What `--only` selects it by. */
  id: string;
  name: string;
  run(context: BenchContext): Promise<BenchRow[]>;
}

/**
 * Both sides in turn, `rounds` times, alternating which goes first so neither always
 * runs on the warmer (or noisier) half of a round on a shared machine.
 */
export async function alternate(
  context: BenchContext,
  rounds: number,
  step: (side: EchoSide, round: number) => Promise<void>,
): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [context.runtime, context.floor] : [context.floor, context.runtime];
    for (const side of order) await step(side, round);
  }
}

/** Starts one warm process on each side, runs `body`, and always stops both. */
export async function withProcessPair<T>(
  context: BenchContext,
  body: (processes: { runtime: EchoProcess; floor: EchoProcess }) => Promise<T>,
): Promise<T> {
  const runtime = (await context.runtime.coldStart()).process;
  try {
    const floor = (await context.floor.coldStart()).process;
    try {
      return await body({ runtime, floor });
    } finally {
      await floor.stop();
    }
  } finally {
    await runtime.stop();
  }
}

/** Sequential calls. */
export async function callSequentially(process: EchoProcess, calls: number): Promise<void> {
  for (let i = 0; i < calls; i++) await process.echo();
}

/** `calls` calls with at most `inFlight` outstanding at any moment. */
export async function callPipelined(process: EchoProcess, calls: number, inFlight: number): Promise<void> {
  let issued = 0;
  const lane = async () => {
    while (issued < calls) {
      issued++;
      await process.echo();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, calls) }, lane));
}
