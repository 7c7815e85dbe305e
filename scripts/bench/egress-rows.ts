import type { BenchRow } from './bench-row.ts';
import type { BenchPlan } from './bench-context.ts';
import type { EgressLabel, TunnelRecord } from './egress-side.ts';
import { median, percentile, summarise } from './stats.ts';

/** The processes on a transfer's path whose CPU time is read around it. */
export type PathProcess = 'deno' | 'forwarder' | 'host' | 'origin';
export const PATH_PROCESSES: readonly PathProcess[] = ['deno', 'forwarder', 'host', 'origin'];

export interface TransferRound {
  mbPerS: number;
  mb: number;
  /** CPU time over the transfer, in ms, of each process on the path (null where not read). */
  cpuMs: Record<PathProcess, number | null>;
}

/** One side's measurements over the whole section. */
export interface EgressSamples {
  coldMs: number[];
  loadMs: number[];
  requestUs: number[];
  callUs: number[];
  download: TransferRound[];
  upload: TransferRound[];
  /** New TCP connections the origin accepted during the measured request rounds: 0 when keep-alive held. */
  newOriginConnections: number;
  https: {
    requestUs: number[];
    download: TransferRound[];
    /** As `newOriginConnections`, at the HTTPS origin. */
    newOriginConnections: number;
    /** The gateway's CONNECT records for this side's warm process (read once it stopped): one when one tunnel carried every HTTPS fetch. */
    tunnels: TunnelRecord[];
  };
}

/** What the rows need besides the samples. */
export interface EgressRowsInput {
  plan: BenchPlan['egress'];
  labels: readonly EgressLabel[];
  samples: Record<EgressLabel, EgressSamples>;
  /** TCP connections the HTTPS origin accepted over the whole section (every side's, warm-up included). */
  httpsOriginConnections: number;
}

type Samples = EgressSamples;

/**
 * The egress section's rows: the default runtime (or, without the sandbox, the gateway from
 * the host network) against direct, each followed by its per-hop rows; plain HTTP, then HTTPS.
 */
export function egressRows({ plan, labels, samples, httpsOriginConnections }: EgressRowsInput): BenchRow[] {
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
    'HTTP_PROXY and HTTPS_PROXY naming the gateway with the launch\'s credential; floor: the same runtime with withoutNamespaces and withoutEgressGateway (no proxy variables: Deno fetches the origin itself). ' +
    'Origin: floor/http-origin.mjs, HTTP/1.1 in its own Node process on 127.0.0.1 (plain, and for the HTTPS rows a second one with TLS), granted to the tool by a policy naming it.';
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
    ...httpsRows(),
  ];

  function httpsRows(): BenchRow[] {
    const tlsP50 = (s: Samples) => percentile(s.https.requestUs, 50);
    const tlsP99 = (s: Samples) => percentile(s.https.requestUs, 99);
    const tlsDown = (s: Samples) => mbPerS(s.https.download);
    const tunnels = each((s) => s.https.tunnels.map(({ bytesUp, bytesDown, durationMs }) => ({ bytesUp, bytesDown, durationMs })));
    const tlsText =
      'HTTPS to the second origin, its certificate for IP 127.0.0.1 issued by a CA the bench makes with createCertificateAuthority; the tool trusts that CA in code ' +
      '(one Deno.createHttpClient({ caCerts }) made at load, passed to every HTTPS fetch): the runtime hands a tool no CA but the gateway\'s own, and that only with a secret injected. ' +
      'Such a client still follows HTTPS_PROXY: through the gateway each process opens one CONNECT tunnel (judged, the address vetted, then relay-bytes.ts copies bytes both ways) ' +
      'and its one TLS connection to the origin inside it carries every HTTPS fetch; the gateway sees no request, only bytes. ' +
      `Tunnels recorded per side (each recorded when it closed, at the process's stop): ${labels.map((label) => `${label} ${samples[label].https.tunnels.length}`).join(', ')}; ` +
      `TCP connections the HTTPS origin accepted in all: ${httpsOriginConnections} for ${labels.length} processes.`;
    return [
      {
        id: 'egress_https_request_p50_us',
        metric: `HTTPS request round trip p50 inside the tool, ${n} GETs on one TLS connection`,
        unit: 'µs',
        digits: 0,
        runtime: value(top, tlsP50),
        floor: value('direct', tlsP50),
        target: { kind: 'ratio', bound: 'max', value: 1.3 },
        includes: `as the HTTP request row (${plan.requests.perRound} in a loop per call and side in rotating turns, after ${plan.requests.warmupRequests} warm-up requests), over TLS. ${tlsText} ${sidesText}`,
        detail: { ...each((s) => summarise(s.https.requestUs)), newOriginConnectionsWhileMeasured: each((s) => s.https.newOriginConnections), tunnels, httpsOriginConnections },
      },
      ...hops('egress_https_request_p50_us', 'HTTPS request p50', 'µs', 0, tlsP50),
      {
        id: 'egress_https_request_p99_us',
        metric: `HTTPS request round trip p99 inside the tool, ${n} GETs on one TLS connection`,
        unit: 'µs',
        digits: 0,
        runtime: value(top, tlsP99),
        floor: value('direct', tlsP99),
        target: { kind: 'ratio', bound: 'max', value: 1.3 },
        includes: 'as the HTTPS p50 row; the tail shows scheduling on a shared machine, with one (host network) or two (bridged) more processes on the path.',
      },
      {
        id: 'egress_https_download_mb_s',
        metric: `HTTPS download throughput, ${mib} MiB GET, median of ${plan.transfer.rounds}`,
        unit: 'MB/s',
        digits: 0,
        runtime: value(top, tlsDown),
        floor: value('direct', tlsDown),
        target: { kind: 'ratio', bound: 'min', value: 0.8 },
        includes: 'as the HTTP download row, over TLS on the same connection as the HTTPS request rows; through the gateway the TLS records are relayed as bytes.',
        detail: each((s) => s.https.download.map((r) => r.mbPerS)),
      },
      ...hops('egress_https_download_mb_s', 'HTTPS download', 'MB/s', 0, tlsDown),
      {
        id: 'egress_https_download_cpu_ms_per_mb',
        metric: '  CPU per MB downloaded over HTTPS, every process on the path',
        unit: 'ms',
        digits: 2,
        runtime: value(top, (s) => totalCpu(s.https.download)),
        floor: value('direct', (s) => totalCpu(s.https.download)),
        includes: 'as the HTTP CPU row, with TLS work in Deno and the origin on every side (none in the gateway or the forwarder, which relay the records as they come); detail splits it by process.',
        detail: each((s) => cpuSplit(s.https.download)),
      },
    ];
  }
}
