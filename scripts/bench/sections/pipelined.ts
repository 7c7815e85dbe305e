import type { BenchRow } from '../bench-row.ts';
import { alternate, type BenchContext, type BenchSection, callPipelined, withProcessPair } from '../bench-context.ts';
import type { EchoSide } from '../echo-side.ts';
import { hostCpuMs, readProcessCpuMs } from '../proc-cpu.ts';
import { median, nowMs } from '../stats.ts';

const MS_TO_US = 1000;

interface RoundResult {
  callsPerS: number;
  hostCpuUsPerCall: number;
  pluginCpuUsPerCall: number | null;
}

/**
 * Many calls in flight at once on one warm process per side; the median round is reported.
 * CPU time is read around each round too (this Node process, and the Deno process from
 * /proc), to show which side of the pipe any overhead sits on.
 */
export const pipelinedSection: BenchSection = {
  id: 'pipelined',
  name: 'pipelined calls',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const { warmupCalls, rounds, calls, inFlight } = context.plan.pipelined;
    const results: Record<EchoSide['label'], RoundResult[]> = { runtime: [], floor: [] };
    await withProcessPair(context, async (processes) => {
      await callPipelined(processes.runtime, warmupCalls, inFlight);
      await callPipelined(processes.floor, warmupCalls, inFlight);
      await alternate(context, rounds, async (side) => {
        const process = processes[side.label];
        const hostBefore = hostCpuMs();
        const pluginBefore = readProcessCpuMs(process.pid);
        const started = nowMs();
        await callPipelined(process, calls, inFlight);
        const wallMs = nowMs() - started;
        const pluginAfter = readProcessCpuMs(process.pid);
        results[side.label].push({
          callsPerS: calls / (wallMs / 1000),
          hostCpuUsPerCall: ((hostCpuMs() - hostBefore) * MS_TO_US) / calls,
          pluginCpuUsPerCall: pluginBefore === null || pluginAfter === null ? null : ((pluginAfter - pluginBefore) * MS_TO_US) / calls,
        });
      });
    });
    const medianOf = (label: EchoSide['label'], pick: (round: RoundResult) => number | null): number | null => {
      const values = results[label].map(pick).filter((value): value is number => value !== null);
      return values.length === 0 ? null : median(values);
    };
    const cpuRow = (id: string, metric: string, pick: (round: RoundResult) => number | null, includes: string): BenchRow => ({
      id,
      metric,
      unit: 'µs',
      digits: 1,
      runtime: medianOf('runtime', pick),
      floor: medianOf('floor', pick),
      includes,
    });
    return [
      {
        id: 'pipelined_calls_per_s',
        metric: `pipelined throughput, ${calls.toLocaleString('en-US')} calls ≤ ${inFlight} in flight, median of ${rounds}`,
        unit: 'calls/s',
        digits: 0,
        runtime: medianOf('runtime', (round) => round.callsPerS),
        floor: medianOf('floor', (round) => round.callsPerS),
        target: { kind: 'ratio', bound: 'min', value: 1 },
        includes:
          `calls ÷ wall time for the whole batch, one process per side, at most ${inFlight} calls outstanding ` +
          `(deno-launch.json calls.maxConcurrent is ${context.config.calls.maxConcurrent}, so the runtime never queues or refuses). ` +
          'The floor driver writes each call frame as it is made; the floor script answers each frame with its own write.',
        detail: { runtime: results.runtime, floor: results.floor },
      },
      cpuRow(
        'pipelined_host_cpu_us_per_call',
        '  host CPU per pipelined call',
        (round) => round.hostCpuUsPerCall,
        "this Node process's user+system CPU over a round ÷ calls: the host API, channel and stream handling (runtime) or the bare driver (floor).",
      ),
      cpuRow(
        'pipelined_plugin_cpu_us_per_call',
        '  plugin CPU per pipelined call',
        (round) => round.pluginCpuUsPerCall,
        "the Deno process's user+system CPU over a round ÷ calls (/proc/<pid>/stat, 10 ms ticks): the SDK (runtime) or the floor script.",
      ),
    ];
  },
};
