import type { BenchRow } from '../bench-row.ts';
import { type BenchContext, type BenchSection, callPipelined, withProcessPair } from '../bench-context.ts';
import { readProcessName, readRssMiB } from '../proc-rss.ts';
import { sleep } from '../stats.ts';

/** VmRSS of one idle tool process per side: just after its first call, and after a batch of calls. */
export const idleRssSection: BenchSection = {
  id: 'idle-rss',
  name: 'idle RSS',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const { idleMs, calls } = context.plan.rss;
    const { inFlight } = context.plan.pipelined;
    const readings = await withProcessPair(context, async (processes) => {
      await sleep(idleMs);
      const fresh = { runtime: readRssMiB(processes.runtime.pid), floor: readRssMiB(processes.floor.pid) };
      await callPipelined(processes.runtime, calls, inFlight);
      await callPipelined(processes.floor, calls, inFlight);
      await sleep(idleMs);
      const used = { runtime: readRssMiB(processes.runtime.pid), floor: readRssMiB(processes.floor.pid) };
      const names = { runtime: readProcessName(processes.runtime.pid), floor: readProcessName(processes.floor.pid) };
      return { fresh, used, names };
    });
    return [
      {
        id: 'idle_rss_fresh_mib',
        metric: 'idle RSS per tool process, after its first call',
        unit: 'MiB',
        digits: 1,
        ...readings.fresh,
        detail: { process: readings.names },
        includes: `/proc/<pid>/status VmRSS of the Deno process after ${idleMs} ms idle; the runtime's pid is Deno's own, found from its launch audit record (prlimit/setpriv exec into Deno; under the sandbox the recorded pid is the Perl launcher's and Deno is its grandchild; the JSON detail names the process read).`,
      },
      {
        id: 'idle_rss_used_mib',
        metric: `idle RSS per tool process, after ${calls.toLocaleString('en-US')} more calls`,
        unit: 'MiB',
        digits: 1,
        ...readings.used,
        includes: `the same process, read again ${idleMs} ms after a pipelined batch (heap grown, not yet collected).`,
      },
    ];
  },
};
