import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { detectOsLayers } from '../../../runtime/launch/os-limits.ts';
import type { BenchRow } from '../bench-row.ts';
import type { BenchContext, BenchSection } from '../bench-context.ts';
import { type FetchLoopArgs, type FetchLoopResult, writeEgressPlugin } from '../egress-plugin.ts';
import { type EgressLabel, type EgressSide, egressSide, type NetworkedTool } from '../egress-side.ts';
import { type HttpOrigin, startHttpOrigin } from '../http-origin.ts';
import { hostCpuMs, readProcessCpuMs } from '../proc-cpu.ts';
import { median, nowMs, percentile, summarise } from '../stats.ts';

const MS_TO_US = 1000;
const BYTES_PER_MB = 1e6;

// Plain HTTP only. HTTPS would go through CONNECT (a pure byte pipe in the gateway, so if
// anything cheaper per byte than the plain path), but Deno checks a server's certificate
// against its own root store, extended only by DENO_CERT or --cert: the runtime builds the
// tool's argv and scrubs its environment, so the bench cannot make Deno trust a self-signed
// origin (and turning verification off is not a flag the runtime passes either).

type PerSide<T> = Partial<Record<EgressLabel, T>>;

type PathProcess = 'deno' | 'forwarder' | 'host' | 'origin';
const PATH_PROCESSES: readonly PathProcess[] = ['deno', 'forwarder', 'host', 'origin'];

interface TransferRound {
  mbPerS: number;
  mb: number;
  /** CPU time over the transfer, in ms, of each process on the path (null where not read). */
  cpuMs: Record<PathProcess, number | null>;
}

interface Samples {
  coldMs: number[];
  loadMs: number[];
  requestUs: number[];
  callUs: number[];
  download: TransferRound[];
  upload: TransferRound[];
  /** New TCP connections the origin accepted during the measured request rounds: 0 when keep-alive held. */
  newOriginConnections: number;
}

/** Every side in turn, `rounds` times, reversing the order each round so none always runs first or last. */
async function rotate(labels: readonly EgressLabel[], rounds: number, step: (label: EgressLabel, round: number) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? labels : [...labels].reverse();
    for (const label of order) await step(label, round);
  }
}

/** CPU time of the processes on one side's path, read around a transfer. */
function cpuNow(tool: NetworkedTool, origin: HttpOrigin) {
  return {
    deno: readProcessCpuMs(tool.pid),
    forwarder: tool.forwarderPid === null ? null : readProcessCpuMs(tool.forwarderPid),
    host: hostCpuMs(),
    origin: readProcessCpuMs(origin.pid),
  };
}

/**
 * The egress gateway's cost to a networked tool: the same tool fetching from a loopback
 * origin (its own Node process, floor/http-origin.mjs) through the default runtime (sandbox,
 * bridge, gateway), through the gateway from the host's network (no sandbox, no bridge), and
 * directly (no sandbox, no proxy variables), each a runtime of its own, measured in rotating
 * turns. "floor" is direct; the indented rows split the difference by hop.
 */
export const egressSection: BenchSection = {
  id: 'egress',
  name: 'egress gateway',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const sandbox = detectOsLayers(context.denoPath).sandbox;
    // Without the sandbox the default runtime is the host-network path: there is no bridge to measure.
    const bridged = sandbox.available;
    if (!bridged) context.progress(`egress: no bridged side, the sandbox is unavailable (${sandbox.reason})`);
    const labels: readonly EgressLabel[] = bridged ? ['gateway', 'hostGateway', 'direct'] : ['hostGateway', 'direct'];
    const plan = context.plan.egress;
    const dir = path.join(context.scratchDir, 'egress');
    mkdirSync(dir, { recursive: true });

    const origin = await startHttpOrigin();
    const sides: PerSide<EgressSide> = {};
    const tools: PerSide<NetworkedTool> = {};
    const samples: PerSide<Samples> = {};
    const requested: PerSide<number> = {};
    try {
      const manifestPath = writeEgressPlugin(path.join(dir, 'plugin'), origin.hostPort);
      const limits = { connectionsPerCall: Math.max(plan.requests.warmupRequests, plan.requests.perRound), bytesPerCall: 2 * plan.transfer.bytes };
      for (const label of labels) {
        sides[label] = egressSide({ label, denoPath: context.denoPath, config: context.config, stateDir: path.join(dir, `state-${label}`), manifestPath, hostPort: origin.hostPort, limits });
        samples[label] = { coldMs: [], loadMs: [], requestUs: [], callUs: [], download: [], upload: [], newOriginConnections: 0 };
        requested[label] = 0;
      }
      const url = (route: string) => `http://${origin.hostPort}${route}`;
      const small = (requests: number): FetchLoopArgs => ({ url: url('/small'), requests, uploadBytes: 0 });
      const download: FetchLoopArgs = { url: url(`/large?bytes=${plan.transfer.bytes}`), requests: 1, uploadBytes: 0 };
      const upload: FetchLoopArgs = { url: url('/upload'), requests: 1, uploadBytes: plan.transfer.bytes };
      const fetchOn = async (label: EgressLabel, args: FetchLoopArgs): Promise<FetchLoopResult> => {
        requested[label]! += args.requests;
        return tools[label]!.fetch(args);
      };

      const { warmup, samples: coldSamples } = plan.coldStart;
      context.progress(`egress: ${coldSamples} cold starts a side…`);
      await rotate(labels, warmup + coldSamples, async (label, round) => {
        const cold = await sides[label]!.coldStart(small(1));
        requested[label]! += 1;
        await cold.tool.stop();
        if (round < warmup) return;
        samples[label]!.coldMs.push(cold.firstResultMs);
        samples[label]!.loadMs.push(cold.loadMs);
      });

      for (const label of labels) {
        tools[label] = (await sides[label]!.coldStart(small(1))).tool;
        requested[label]! += 1;
        await fetchOn(label, small(plan.requests.warmupRequests));
        await fetchOn(label, download);
        await fetchOn(label, upload);
      }

      context.progress('egress: request round trips…');
      await rotate(labels, plan.requests.rounds, async (label) => {
        const before = await origin.connections();
        const result = await fetchOn(label, small(plan.requests.perRound));
        samples[label]!.newOriginConnections += (await origin.connections()) - before;
        samples[label]!.requestUs.push(...result.ms.map((ms) => ms * MS_TO_US));
      });

      for (const label of labels) for (let i = 0; i < plan.calls.warmupCalls; i++) await fetchOn(label, small(1));
      await rotate(labels, plan.calls.rounds, async (label) => {
        for (let i = 0; i < plan.calls.perRound; i++) {
          const started = nowMs();
          await fetchOn(label, small(1));
          samples[label]!.callUs.push((nowMs() - started) * MS_TO_US);
        }
      });

      context.progress('egress: downloads and uploads…');
      const transfer = async (label: EgressLabel, args: FetchLoopArgs): Promise<TransferRound> => {
        const tool = tools[label]!;
        const before = cpuNow(tool, origin);
        const result = await fetchOn(label, args);
        const after = cpuNow(tool, origin);
        if (args.uploadBytes === 0 && result.bytesRead !== plan.transfer.bytes) {
          throw new Error(`egress ${label}: downloaded ${result.bytesRead} bytes of ${plan.transfer.bytes}`);
        }
        const mb = plan.transfer.bytes / BYTES_PER_MB;
        const spent = (which: PathProcess) => {
          const [a, b] = [before[which], after[which]];
          return a === null || b === null ? null : b - a;
        };
        return { mbPerS: mb / (result.ms[0]! / 1000), mb, cpuMs: Object.fromEntries(PATH_PROCESSES.map((which) => [which, spent(which)])) as TransferRound['cpuMs'] };
      };
      await rotate(labels, plan.transfer.rounds, async (label) => {
        samples[label]!.download.push(await transfer(label, download));
        samples[label]!.upload.push(await transfer(label, upload));
      });

      // The comparison means something only if the gateway sides went through the gateway, every request of theirs, and the direct side did not.
      for (const label of labels) {
        const { allowed, refused } = sides[label]!.egress;
        const expected = label === 'direct' ? 0 : requested[label]!;
        if (refused.length > 0 || allowed !== expected) {
          throw new Error(`egress ${label}: ${allowed} requests through the gateway, ${expected} expected; refused: ${refused.slice(0, 3).join('; ') || 'none'}`);
        }
      }
    } finally {
      await Promise.allSettled(Object.values(tools).map((tool) => tool.stop()));
      await Promise.allSettled(Object.values(sides).map((side) => side.close()));
      await origin.close();
    }
    return egressRows(context, samples as Record<EgressLabel, Samples>, labels);
  },
};

function egressRows(context: BenchContext, samples: Record<EgressLabel, Samples>, labels: readonly EgressLabel[]): BenchRow[] {
  const plan = context.plan.egress;
  const bridged = labels.includes('gateway');
  const top: EgressLabel = bridged ? 'gateway' : 'hostGateway';
  const each = <T>(pick: (s: Samples) => T) => Object.fromEntries(labels.map((label) => [label, pick(samples[label])]));
  const value = (label: EgressLabel, pick: (s: Samples) => number | null) => pick(samples[label]);
  const mbPerS = (rounds: TransferRound[]) => median(rounds.map((round) => round.mbPerS));
  // Summed over the rounds before dividing: one round is a few of /proc's 10 ms ticks.
  const cpuSplit = (rounds: TransferRound[]): Record<PathProcess, number | null> => {
    const mb = rounds.reduce((sum, round) => sum + round.mb, 0);
    const perMb = (which: PathProcess) => {
      const values = rounds.map((round) => round.cpuMs[which]);
      return values.some((v) => v === null) ? null : values.reduce((sum: number, v) => sum + v!, 0) / mb;
    };
    return Object.fromEntries(PATH_PROCESSES.map((which) => [which, perMb(which)])) as Record<PathProcess, number | null>;
  };
  const totalCpu = (rounds: TransferRound[]) => Object.values(cpuSplit(rounds)).reduce((sum: number, v) => sum + (v ?? 0), 0);

  /**
   * The two hops of a difference: the gateway alone (host network vs direct), and the bridge
   * (bridged vs the gateway in the host network). Without the bridge the main row is the first.
   */
  const hops = (id: string, metric: string, unit: string, digits: number, pick: (s: Samples) => number | null): BenchRow[] => {
    if (!bridged) return [];
    const row = (hop: string, label: string, runtime: EgressLabel, floor: EgressLabel, includes: string): BenchRow => ({
      id: `${id}_${hop}_hop`,
      metric: `  ${metric}: ${label}`,
      unit,
      digits,
      runtime: value(runtime, pick),
      floor: value(floor, pick),
      includes,
    });
    return [
      row('gateway', 'gateway in the host network vs direct', 'hostGateway', 'direct', 'the same measurement with no sandbox on either side: what the gateway itself (and the proxy protocol in Deno) adds.'),
      row('bridge', 'bridged vs gateway in the host network', 'gateway', 'hostGateway', "the same measurement with the gateway on both sides: what the sandbox's network namespace and the Perl forwarder to the gateway's Unix socket add."),
    ];
  };

  const n = plan.requests.rounds * plan.requests.perRound;
  const calls = plan.calls.rounds * plan.calls.perRound;
  const mib = plan.transfer.bytes / (1024 * 1024);
  const sidesText =
    `runtime: ${bridged ? 'the default runtime (the sandbox; the tool in a network namespace of its own whose one way out is the launcher\'s Perl forwarder to the gateway\'s Unix socket; the gateway)' : 'the default runtime on this host (no sandbox: the gateway from the host\'s network)'}, ` +
    'HTTP_PROXY naming the gateway with the launch\'s credential; floor: the same runtime with withoutNamespaces and withoutEgressGateway (no proxy variables: Deno fetches the origin itself). ' +
    'Origin: floor/http-origin.mjs, plain HTTP/1.1 in its own Node process on 127.0.0.1, granted to the tool by a policy naming it.';
  const p50 = (s: Samples) => percentile(s.requestUs, 50);
  const cold = (s: Samples) => median(s.coldMs);
  const down = (s: Samples) => mbPerS(s.download);
  const up = (s: Samples) => mbPerS(s.upload);
  return [
    {
      id: 'egress_cold_start_ms',
      metric: `networked tool: load + first call with one fetch, median of ${plan.coldStart.samples}`,
      unit: 'ms',
      digits: 1,
      runtime: value(top, cold),
      floor: value('direct', cold),
      includes:
        `from runtime.load of the (cached) plugin to the first call's result: the tool process started, handshake, one GET of 2 bytes. ${sidesText} ` +
        'Bridged, the launcher also forks the forwarder and waits for it to listen; every side\'s first load of its runtime (which starts the gateway) is the dropped warm-up.',
      detail: { ...each((s) => summarise(s.coldMs)), loadMs: each((s) => median(s.loadMs)) },
    },
    ...hops('egress_cold_start_ms', 'cold start', 'ms', 1, cold),
    {
      id: 'egress_request_p50_us',
      metric: `HTTP request round trip p50 inside the tool, ${n} keep-alive GETs`,
      unit: 'µs',
      digits: 0,
      runtime: value(top, p50),
      floor: value('direct', p50),
      target: { kind: 'ratio', bound: 'max', value: 1.3 },
      includes:
        `one fetch of a 2-byte body, read to its end, timed with performance.now() inside Deno; ${plan.requests.perRound} in a loop per call and side in rotating turns, ` +
        `after ${plan.requests.warmupRequests} warm-up requests. Through the gateway each request is parsed by node:http, judged (grant, budget, address vetted), ` +
        `forwarded with http.request on the global keep-alive agent and recorded. ${sidesText}`,
      detail: { ...each((s) => summarise(s.requestUs)), newOriginConnectionsWhileMeasured: each((s) => s.newOriginConnections) },
    },
    ...hops('egress_request_p50_us', 'request p50', 'µs', 0, p50),
    {
      id: 'egress_request_p99_us',
      metric: `HTTP request round trip p99 inside the tool, ${n} keep-alive GETs`,
      unit: 'µs',
      digits: 0,
      runtime: value(top, (s) => percentile(s.requestUs, 99)),
      floor: value('direct', (s) => percentile(s.requestUs, 99)),
      includes: 'as the p50 row; the tail shows scheduling on a shared machine, with one (host network) or two (bridged) more processes on the path.',
    },
    {
      id: 'egress_call_rtt_p50_us',
      metric: `tool call that fetches once, p50, ${calls} sequential calls`,
      unit: 'µs',
      digits: 0,
      runtime: value(top, (s) => percentile(s.callUs, 50)),
      floor: value('direct', (s) => percentile(s.callUs, 50)),
      includes: `what a caller sees: PluginHandle.call timed in the host, the tool doing one GET as in the request row, after ${plan.calls.warmupCalls} warm-up calls a side.`,
      detail: each((s) => summarise(s.callUs)),
    },
    {
      id: 'egress_download_mb_s',
      metric: `download throughput, ${mib} MiB GET, median of ${plan.transfer.rounds}`,
      unit: 'MB/s',
      digits: 0,
      runtime: value(top, down),
      floor: value('direct', down),
      target: { kind: 'ratio', bound: 'min', value: 0.8 },
      includes:
        `${plan.transfer.bytes} bytes ÷ the time inside Deno from fetch to the body's end (streamed, not buffered), 10^6 bytes a MB, one call per side and round in rotating turns. ` +
        'Through the gateway the body is piped from http.request\'s answer to the tool\'s response.',
      detail: each((s) => s.download.map((r) => r.mbPerS)),
    },
    ...hops('egress_download_mb_s', 'download', 'MB/s', 0, down),
    {
      id: 'egress_download_cpu_ms_per_mb',
      metric: '  CPU per MB downloaded, every process on the path',
      unit: 'ms',
      digits: 2,
      runtime: value(top, (s) => totalCpu(s.download)),
      floor: value('direct', (s) => totalCpu(s.download)),
      includes:
        'user+system CPU over every download round ÷ MB moved (/proc, 10 ms ticks): Deno, the forwarder (bridged), this Node process (the gateway runs in it) and the origin. ' +
        'detail splits it by process, for downloads and uploads and every side.',
      detail: { download: each((s) => cpuSplit(s.download)), upload: each((s) => cpuSplit(s.upload)) },
    },
    {
      id: 'egress_upload_mb_s',
      metric: `upload throughput, ${mib} MiB POST, median of ${plan.transfer.rounds}`,
      unit: 'MB/s',
      digits: 0,
      runtime: value(top, up),
      floor: value('direct', up),
      target: { kind: 'ratio', bound: 'min', value: 0.8 },
      includes: 'the body a Uint8Array made before the timer starts; timed until the origin\'s answer (sent once it has read the whole body) has been read. Through the gateway the body is piped into http.request.',
      detail: each((s) => s.upload.map((r) => r.mbPerS)),
    },
    ...hops('egress_upload_mb_s', 'upload', 'MB/s', 0, up),
  ];
}
