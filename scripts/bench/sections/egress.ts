import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createCertificateAuthority } from '../../../runtime/egress/certificates/certificate-authority.ts';
import { detectOsLayers } from '../../../runtime/launch/os-limits.ts';
import type { BenchRow } from '../bench-row.ts';
import type { BenchContext, BenchSection } from '../bench-context.ts';
import { type FetchLoopArgs, type FetchLoopResult, writeEgressPlugin } from '../egress-plugin.ts';
import { type EgressSamples, egressRows, PATH_PROCESSES, type PathProcess, type TransferRound } from '../egress-rows.ts';
import { type EgressLabel, type EgressSide, egressSide, type NetworkedTool } from '../egress-side.ts';
import { type HttpOrigin, startHttpOrigin } from '../http-origin.ts';
import { hostCpuMs, readProcessCpuMs } from '../proc-cpu.ts';
import { nowMs, sleep } from '../stats.ts';

const MS_TO_US = 1000;
const BYTES_PER_MB = 1e6;
/** A CONNECT tunnel is recorded when it closes: how long a stopped tool's record gets to arrive. */
const TUNNEL_RECORD_TIMEOUT_MS = 10_000;
const TUNNEL_RECORD_POLL_MS = 20;
/** The HTTPS origin's address, as its certificate names it (an iPAddress SAN). */
const TLS_HOST = '127.0.0.1';

type PerSide<T> = Partial<Record<EgressLabel, T>>;

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
 * The egress gateway's cost to a networked tool: the same tool fetching from loopback origins
 * (Node processes of their own, floor/http-origin.mjs: one plain HTTP, one HTTPS with a leaf
 * from a CA the bench makes) through the default runtime (sandbox, bridge, gateway), through
 * the gateway from the host's network (no sandbox, no bridge), and directly (no sandbox, no
 * proxy variables), each a runtime of its own, measured in rotating turns. "floor" is direct;
 * the indented rows split the difference by hop. Plain HTTP is parsed and forwarded request
 * by request in the gateway; HTTPS goes through one CONNECT tunnel per process, a byte relay.
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

    // The bench's own CA, not the runtime's: the tool trusts it in code, and only for this origin.
    const ca = createCertificateAuthority();
    const origins: HttpOrigin[] = [];
    const sides: PerSide<EgressSide> = {};
    const tools: PerSide<NetworkedTool> = {};
    const samples: PerSide<EgressSamples> = {};
    const requested: PerSide<number> = {};
    let httpsOriginConnections = 0;
    try {
      const origin = await startHttpOrigin();
      origins.push(origin);
      const tlsOrigin = await startHttpOrigin(ca.leafFor(TLS_HOST));
      origins.push(tlsOrigin);
      const hostPorts = [origin.hostPort, tlsOrigin.hostPort];
      const manifestPath = writeEgressPlugin(path.join(dir, 'plugin'), { hostPorts, caPem: ca.certificatePem });
      const limits = { connectionsPerCall: Math.max(plan.requests.warmupRequests, plan.requests.perRound), bytesPerCall: 2 * plan.transfer.bytes };
      for (const label of labels) {
        sides[label] = egressSide({ label, denoPath: context.denoPath, config: context.config, stateDir: path.join(dir, `state-${label}`), manifestPath, hostPorts, limits });
        samples[label] = {
          coldMs: [],
          loadMs: [],
          requestUs: [],
          callUs: [],
          download: [],
          upload: [],
          newOriginConnections: 0,
          https: { requestUs: [], download: [], newOriginConnections: 0, tunnels: [] },
        };
        requested[label] = 0;
      }
      const small = (on: HttpOrigin, requests: number): FetchLoopArgs => ({ url: `${on.base}/small`, requests, uploadBytes: 0 });
      const download = (on: HttpOrigin): FetchLoopArgs => ({ url: `${on.base}/large?bytes=${plan.transfer.bytes}`, requests: 1, uploadBytes: 0 });
      const upload: FetchLoopArgs = { url: `${origin.base}/upload`, requests: 1, uploadBytes: plan.transfer.bytes };
      const fetchOn = async (label: EgressLabel, args: FetchLoopArgs): Promise<FetchLoopResult> => {
        // Plain requests are recorded one by one; HTTPS ones are inside a tunnel the gateway records once.
        if (args.url.startsWith(`${origin.base}/`)) requested[label]! += args.requests;
        return tools[label]!.fetch(args);
      };

      const { warmup, samples: coldSamples } = plan.coldStart;
      context.progress(`egress: ${coldSamples} cold starts a side…`);
      await rotate(labels, warmup + coldSamples, async (label, round) => {
        const cold = await sides[label]!.coldStart(small(origin, 1));
        requested[label]! += 1;
        await cold.tool.stop();
        if (round < warmup) return;
        samples[label]!.coldMs.push(cold.firstResultMs);
        samples[label]!.loadMs.push(cold.loadMs);
      });

      for (const label of labels) {
        tools[label] = (await sides[label]!.coldStart(small(origin, 1))).tool;
        requested[label]! += 1;
        await fetchOn(label, small(origin, plan.requests.warmupRequests));
        await fetchOn(label, download(origin));
        await fetchOn(label, upload);
        await fetchOn(label, small(tlsOrigin, plan.requests.warmupRequests));
        await fetchOn(label, download(tlsOrigin));
      }

      context.progress('egress: request round trips…');
      const requestRounds = (on: HttpOrigin, pick: (s: EgressSamples) => { requestUs: number[]; newOriginConnections: number }) =>
        rotate(labels, plan.requests.rounds, async (label) => {
          const before = await on.connections();
          const result = await fetchOn(label, small(on, plan.requests.perRound));
          const into = pick(samples[label]!);
          into.newOriginConnections += (await on.connections()) - before;
          into.requestUs.push(...result.ms.map((ms) => ms * MS_TO_US));
        });
      await requestRounds(origin, (s) => s);
      await requestRounds(tlsOrigin, (s) => s.https);

      for (const label of labels) for (let i = 0; i < plan.calls.warmupCalls; i++) await fetchOn(label, small(origin, 1));
      await rotate(labels, plan.calls.rounds, async (label) => {
        for (let i = 0; i < plan.calls.perRound; i++) {
          const started = nowMs();
          await fetchOn(label, small(origin, 1));
          samples[label]!.callUs.push((nowMs() - started) * MS_TO_US);
        }
      });

      context.progress('egress: downloads and uploads…');
      const transfer = async (label: EgressLabel, args: FetchLoopArgs, on: HttpOrigin): Promise<TransferRound> => {
        const tool = tools[label]!;
        const before = cpuNow(tool, on);
        const result = await fetchOn(label, args);
        const after = cpuNow(tool, on);
        if (args.uploadBytes === 0 && result.bytesRead !== plan.transfer.bytes) {
          throw new Error(`egress ${label}: downloaded ${result.bytesRead} bytes of ${plan.transfer.bytes} from ${args.url}`);
        }
        const mb = plan.transfer.bytes / BYTES_PER_MB;
        const spent = (which: PathProcess) => {
          const [a, b] = [before[which], after[which]];
          return a === null || b === null ? null : b - a;
        };
        return { mbPerS: mb / (result.ms[0]! / 1000), mb, cpuMs: Object.fromEntries(PATH_PROCESSES.map((which) => [which, spent(which)])) as TransferRound['cpuMs'] };
      };
      await rotate(labels, plan.transfer.rounds, async (label) => {
        samples[label]!.download.push(await transfer(label, download(origin), origin));
        samples[label]!.upload.push(await transfer(label, upload, origin));
        samples[label]!.https.download.push(await transfer(label, download(tlsOrigin), tlsOrigin));
      });

      // A tunnel is recorded when it closes, so the warm tools stop before the records are read.
      for (const label of labels) {
        await tools[label]!.stop();
        delete tools[label];
      }
      const proxied = labels.filter((label) => label !== 'direct');
      await waitFor(TUNNEL_RECORD_TIMEOUT_MS, () => proxied.every((label) => sides[label]!.egress.tunnels.length > 0));
      httpsOriginConnections = await tlsOrigin.connections();

      // The comparison means something only if the gateway sides went through the gateway, every request of theirs, and the direct side did not.
      const httpsBytes = (1 + plan.transfer.rounds) * plan.transfer.bytes;
      for (const label of labels) {
        const { requests, tunnels, refused } = sides[label]!.egress;
        const expected = label === 'direct' ? 0 : requested[label]!;
        if (refused.length > 0 || requests !== expected) {
          throw new Error(`egress ${label}: ${requests} requests through the gateway, ${expected} expected; refused: ${refused.slice(0, 3).join('; ') || 'none'}`);
        }
        const relayedDown = tunnels.reduce((sum, tunnel) => sum + tunnel.bytesDown, 0);
        if (label === 'direct' ? tunnels.length > 0 : relayedDown < httpsBytes) {
          throw new Error(`egress ${label}: ${tunnels.length} CONNECT tunnels relayed ${relayedDown} bytes down; ${label === 'direct' ? 'none expected' : `at least ${httpsBytes} expected`}`);
        }
        samples[label]!.https.tunnels = tunnels;
      }
    } finally {
      await Promise.allSettled(Object.values(tools).map((tool) => tool.stop()));
      await Promise.allSettled(Object.values(sides).map((side) => side.close()));
      await Promise.allSettled(origins.map((each) => each.close()));
    }
    return egressRows({ plan, labels, samples: samples as Record<EgressLabel, EgressSamples>, httpsOriginConnections });
  },
};

/** Resolves once `done()` holds, or after `timeoutMs` (the caller checks what it found). */
async function waitFor(timeoutMs: number, done: () => boolean): Promise<void> {
  const until = nowMs() + timeoutMs;
  while (!done() && nowMs() < until) await sleep(TUNNEL_RECORD_POLL_MS);
}
