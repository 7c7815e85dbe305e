import type { BenchRow } from '../bench-row.ts';
import { alternate, type BenchContext, type BenchSection } from '../bench-context.ts';
import type { EchoSide } from '../echo-side.ts';
import { median, summarise } from '../stats.ts';

type Phase = 'helloMs' | 'readyMs' | 'firstResultMs';

/** Fresh tool processes, one after another on each side; the first `warmup` fill Deno's caches and are dropped. */
export const coldStartSection: BenchSection = {
  id: 'cold-start',
  name: 'cold start',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const { warmup, samples } = context.plan.coldStart;
    const phases: Phase[] = ['helloMs', 'readyMs', 'firstResultMs'];
    const times: Record<EchoSide['label'], Record<Phase, number[]>> = {
      runtime: { helloMs: [], readyMs: [], firstResultMs: [] },
      floor: { helloMs: [], readyMs: [], firstResultMs: [] },
    };
    await alternate(context, warmup + samples, async (side, round) => {
      const cold = await side.coldStart();
      await cold.process.stop();
      if (round < warmup) return;
      for (const phase of phases) times[side.label][phase].push(cold[phase]);
    });
    const row = (phase: Phase) => ({
      unit: 'ms',
      digits: 1,
      runtime: median(times.runtime[phase]),
      floor: median(times.floor[phase]),
      detail: { runtime: summarise(times.runtime[phase]), floor: summarise(times.floor[phase]) },
    });
    return [
      {
        id: 'cold_start_ready_ms',
        metric: `cold start to ready, median of ${samples}`,
        ...row('readyMs'),
        target: { kind: 'ratio', bound: 'max', value: 2 },
        includes:
          "runtime: from PluginHandle.call on a freshly loaded echo plugin (bundle already built) to the tool's `ready` state event: " +
          'pool start, token, spawn (node:child_process) (under prlimit and the sandbox launcher, or setpriv, where present), Deno boot, SDK hello, token check, welcome, tools.register. ' +
          'floor: from spawn to its hello frame (the floor needs nothing more to take calls).',
      },
      {
        id: 'cold_start_hello_ms',
        metric: `  of which to hello, median of ${samples}`,
        ...row('helloMs'),
        includes:
          'runtime: until the handshake_ok audit record (hello received, token verified); floor: until the hello frame is decoded. ' +
          'Mostly Deno boot and evaluating the bundle (SDK + plugin) or the floor script.',
      },
      {
        id: 'cold_start_first_result_ms',
        metric: `cold start to first result, median of ${samples}`,
        ...row('firstResultMs'),
        includes: 'the ready row plus one echo call and its result, on both sides.',
      },
    ];
  },
};
