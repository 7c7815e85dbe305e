import type { BenchRow } from '../bench-row.ts';
import { alternate, type BenchContext, type BenchSection, callSequentially, withProcessPair } from '../bench-context.ts';
import { nowMs, percentile, summarise } from '../stats.ts';

const MS_TO_US = 1000;

/** Sequential echo calls on one warm process per side: one call in flight at a time. */
export const callRttSection: BenchSection = {
  id: 'call-rtt',
  name: 'call RTT',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const { warmupCalls, rounds, callsPerRound } = context.plan.rtt;
    const samples = { runtime: [] as number[], floor: [] as number[] };
    await withProcessPair(context, async (processes) => {
      await callSequentially(processes.runtime, warmupCalls);
      await callSequentially(processes.floor, warmupCalls);
      await alternate(context, rounds, async (side) => {
        const process = processes[side.label];
        for (let i = 0; i < callsPerRound; i++) {
          const started = nowMs();
          await process.echo();
          samples[side.label].push((nowMs() - started) * MS_TO_US);
        }
      });
    });
    const n = rounds * callsPerRound;
    const includes =
      'one echo call with nothing else in flight, timed in the host. runtime: PluginHandle.call (input schema check, pool slot, ULID, ' +
      'deadline timer, frame encode, valibot parse of the result, busy/idle state events and their audit records to an in-memory sink) ' +
      '+ SDK dispatch; floor: frame encode/decode only.';
    return [
      {
        id: 'call_rtt_p50_us',
        metric: `call RTT p50, ${n} sequential calls`,
        unit: 'µs',
        digits: 0,
        runtime: percentile(samples.runtime, 50),
        floor: percentile(samples.floor, 50),
        target: { kind: 'ratio', bound: 'max', value: 1.3 },
        includes,
        detail: { runtime: summarise(samples.runtime), floor: summarise(samples.floor) },
      },
      {
        id: 'call_rtt_p99_us',
        metric: `call RTT p99, ${n} sequential calls`,
        unit: 'µs',
        digits: 0,
        runtime: percentile(samples.runtime, 99),
        floor: percentile(samples.floor, 99),
        includes: 'as the p50 row; the tail shows GC pauses and scheduling on a shared machine.',
      },
    ];
  },
};
