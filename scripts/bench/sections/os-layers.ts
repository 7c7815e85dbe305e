import path from 'node:path';
import { detectOsLayers } from '../../../runtime/launch/os-limits.ts';
import type { BenchRow } from '../bench-row.ts';
import { type BenchContext, type BenchSection, callSequentially } from '../bench-context.ts';
import type { EchoProcess } from '../echo-side.ts';
import { runtimeSide } from '../runtime-side.ts';
import { median, nowMs, percentile, summarise } from '../stats.ts';

const MS_TO_US = 1000;

/**
 * The same runtime with the OS layers and without them (no sandbox, no network namespace),
 * side by side: what the namespaces cost a cold start, and that calls do not pay for them.
 * Here "floor" is the runtime without the namespaces.
 */
export const osLayersSection: BenchSection = {
  id: 'os-layers',
  name: 'OS layers',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const sandbox = detectOsLayers(context.denoPath).sandbox;
    if (!sandbox.available) {
      context.progress(`os-layers: skipped, the sandbox is unavailable (${sandbox.reason})`);
      return [];
    }
    const without = runtimeSide({
      denoPath: context.denoPath,
      config: context.config,
      stateDir: path.join(context.scratchDir, 'runtime-without-namespaces'),
      overrides: { withoutNamespaces: true },
    });
    const sides = { runtime: context.runtime, floor: without };
    const { warmup, samples } = context.plan.coldStart;
    const ready = { runtime: [] as number[], floor: [] as number[] };
    try {
      // Twice the cold-start samples: the difference is a few ms in a number of tens.
      const rounds = warmup + samples * 2;
      for (let round = 0; round < rounds; round++) {
        for (const label of round % 2 === 0 ? (['runtime', 'floor'] as const) : (['floor', 'runtime'] as const)) {
          const cold = await sides[label].coldStart();
          await cold.process.stop();
          if (round >= warmup) ready[label].push(cold.readyMs);
        }
      }
      const { warmupCalls, rounds: rttRounds, callsPerRound } = context.plan.rtt;
      const rtt = { runtime: [] as number[], floor: [] as number[] };
      const processes: Record<'runtime' | 'floor', EchoProcess> = {
        runtime: (await sides.runtime.coldStart()).process,
        floor: (await sides.floor.coldStart()).process,
      };
      try {
        for (const label of ['runtime', 'floor'] as const) await callSequentially(processes[label], warmupCalls);
        for (let round = 0; round < rttRounds; round++) {
          for (const label of round % 2 === 0 ? (['runtime', 'floor'] as const) : (['floor', 'runtime'] as const)) {
            for (let i = 0; i < callsPerRound; i++) {
              const started = nowMs();
              await processes[label].echo();
              rtt[label].push((nowMs() - started) * MS_TO_US);
            }
          }
        }
      } finally {
        await Promise.all([processes.runtime.stop(), processes.floor.stop()]);
      }
      return [
        {
          id: 'os_layers_cold_start_ready_ms',
          metric: `cold start to ready with the namespaces, median of ${samples * 2}`,
          unit: 'ms',
          digits: 1,
          runtime: median(ready.runtime),
          floor: median(ready.floor),
          target: { kind: 'delta', bound: 'max', value: 15 },
          includes:
            'the cold-start row, twice: runtime with the sandbox (user, mount, PID, IPC, UTS and network namespaces, the root built by the Perl launcher); ' +
            'floor: the same runtime with no namespaces (prlimit and setpriv only). The difference is what the namespaces add per process.',
          detail: { withNamespaces: summarise(ready.runtime), withoutNamespaces: summarise(ready.floor) },
        },
        {
          id: 'os_layers_call_rtt_p50_us',
          metric: `call RTT p50 with the namespaces, ${rttRounds * callsPerRound} sequential calls`,
          unit: 'µs',
          digits: 0,
          runtime: percentile(rtt.runtime, 50),
          floor: percentile(rtt.floor, 50),
          target: { kind: 'ratio', bound: 'max', value: 1.1 },
          includes: 'one echo call on a warm process, with the namespaces (runtime) and without (floor): the channel is the same pipes either way.',
          detail: { withNamespaces: summarise(rtt.runtime), withoutNamespaces: summarise(rtt.floor) },
        },
      ];
    } finally {
      await without.close();
    }
  },
};
