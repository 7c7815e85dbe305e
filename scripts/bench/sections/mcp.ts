import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { NO_GRANTS } from '../../../runtime/grants/grants.ts';
import { DENO_PATH_ENV } from '../../../runtime/launch/deno-binary.ts';
import { buildDenoArgv } from '../../../runtime/launch/deno-argv.ts';
import { pluginEnvironment } from '../../../runtime/launch/spawn-deno.ts';
import type { BenchRow } from '../bench-row.ts';
import { type BenchContext, type BenchSection, callPipelined, callSequentially } from '../bench-context.ts';
import { connectMcpEcho, type McpEchoServer, type McpServerLabel } from '../mcp-echo-client.ts';
import { hostCpuMs, readProcessCpuMs } from '../proc-cpu.ts';
import { median, nowMs, percentile, summarise } from '../stats.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'manasvi-plugins.js');
const ECHO_PLUGIN = path.join(REPO, 'manifests', 'examples', 'echo');
const FLOOR_SERVER = fileURLToPath(new URL('../floor/mcp-echo-server.mjs', import.meta.url));
const FORWARD_SERVER = fileURLToPath(new URL('../floor/mcp-forward-server.mjs', import.meta.url));
const RAW_DENO_ECHO = fileURLToPath(new URL('../floor/echo.ts', import.meta.url));
const MS_TO_US = 1000;
const LABELS: readonly McpServerLabel[] = ['runtime', 'floor', 'forward'];

type Servers = Record<McpServerLabel, McpEchoServer>;

interface ThroughputRound {
  callsPerS: number;
  clientCpuUsPerCall: number;
  /** The server process itself: the bridge's Node, or the floor's, or the forwarder's. */
  serverCpuUsPerCall: number | null;
  /** What the server started: a Deno process (bridge, forwarder); nothing for the floor. */
  toolCpuUsPerCall: number | null;
}

/**
 * Starts the three servers, runs `body`, and always stops each one started: the bridge
 * (the real compiled CLI), the unsandboxed floor, and the forwarder to a raw Deno echo.
 */
async function withServers<T>(context: BenchContext, body: (servers: Servers) => Promise<T>): Promise<T> {
  // A fresh state folder (bundles, validators) for the CLI, which keeps it under TMPDIR.
  const tmp = path.join(context.scratchDir, 'mcp');
  mkdirSync(tmp, { recursive: true });
  const forward = {
    denoPath: context.denoPath,
    argv: buildDenoArgv({ config: context.config, grants: NO_GRANTS, bundlePath: RAW_DENO_ECHO, heapMb: context.config.limits.heapMb }),
    env: pluginEnvironment(randomBytes(32).toString('base64url'), path.join(tmp, 'forward-deno-dir')),
  };
  const starts: Record<McpServerLabel, () => Promise<McpEchoServer>> = {
    runtime: () =>
      connectMcpEcho({
        label: 'runtime',
        command: process.execPath,
        args: [BIN, 'mcp', ECHO_PLUGIN],
        env: { TMPDIR: tmp, [DENO_PATH_ENV]: context.denoPath },
        cwd: tmp,
        tool: 'echo__echo',
      }),
    floor: () => connectMcpEcho({ label: 'floor', command: process.execPath, args: [FLOOR_SERVER], env: {}, cwd: REPO, tool: 'echo' }),
    forward: () =>
      connectMcpEcho({
        label: 'forward',
        command: process.execPath,
        args: [FORWARD_SERVER],
        env: { MANASVI_BENCH_FORWARD: JSON.stringify(forward) },
        cwd: REPO,
        tool: 'echo',
      }),
  };
  const started: McpEchoServer[] = [];
  try {
    for (const label of LABELS) started.push(await starts[label]());
    return await body(Object.fromEntries(started.map((server) => [server.label, server])) as Servers);
  } finally {
    const stops = await Promise.allSettled(started.map((server) => server.stop()));
    const failed = stops.find((stop): stop is PromiseRejectedResult => stop.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** Every server in turn, `rounds` times, reversing the order each round so none always runs first or last. */
async function rotate(servers: Servers, rounds: number, step: (server: McpEchoServer) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = LABELS.map((label) => servers[label]);
    if (round % 2 === 1) order.reverse();
    for (const server of order) await step(server);
  }
}

function sumCpuMs(pids: readonly number[]): number | null {
  let total = 0;
  for (const pid of pids) {
    const ms = readProcessCpuMs(pid);
    if (ms === null) return null;
    total += ms;
  }
  return total;
}

/**
 * MCP `tools/call` of an echo tool, with the official SDK client on stdio to each server.
 * runtime: `manasvi-plugins mcp` (the compiled CLI) serving the echo example from its Deno
 * sandbox; floor: an McpServer in plain Node answering the same result itself, as an
 * unsandboxed MCP server does (the targets are against it); forward: that McpServer
 * relaying each call to a raw Deno echo, the bridge's two hops without the runtime's checks,
 * to tell what the second process costs from what the runtime adds. All are warm (the first
 * call starts the bridge's tool process) and measured in rotating blocks.
 */
export const mcpSection: BenchSection = {
  id: 'mcp',
  name: 'MCP tools/call',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const plan = context.plan.mcp;
    const rtt: Record<McpServerLabel, number[]> = { runtime: [], floor: [], forward: [] };
    const throughput: Record<McpServerLabel, ThroughputRound[]> = { runtime: [], floor: [], forward: [] };
    const firstCallMs: Partial<Record<McpServerLabel, number>> = {};
    await withServers(context, async (servers) => {
      for (const label of LABELS) {
        const started = nowMs();
        await servers[label].echo();
        firstCallMs[label] = nowMs() - started;
      }
      // The comparison is only fair while every side puts the same result on the wire.
      const ours = await servers.runtime.echo();
      for (const label of ['floor', 'forward'] as const) {
        const theirs = await servers[label].echo();
        if (!isDeepStrictEqual(ours, theirs)) {
          throw new Error(`the MCP ${label} server answers differently from the bridge: ${JSON.stringify(theirs)} vs ${JSON.stringify(ours)}`);
        }
      }
      for (const label of LABELS) await callSequentially(servers[label], plan.warmupCalls);
      await rotate(servers, plan.rounds, async (server) => {
        for (let i = 0; i < plan.callsPerRound; i++) {
          const started = nowMs();
          await server.echo();
          rtt[server.label].push((nowMs() - started) * MS_TO_US);
        }
      });

      const { warmupCalls, calls, inFlight } = plan.throughput;
      for (const label of LABELS) await callPipelined(servers[label], warmupCalls, inFlight);
      await rotate(servers, plan.throughput.rounds, async (server) => {
        const tools = server.descendants();
        const before = { client: hostCpuMs(), server: readProcessCpuMs(server.pid), tool: sumCpuMs(tools) };
        const started = nowMs();
        await callPipelined(server, calls, inFlight);
        const wallMs = nowMs() - started;
        const after = { client: hostCpuMs(), server: readProcessCpuMs(server.pid), tool: sumCpuMs(tools) };
        const perCall = (a: number | null, b: number | null) => (a === null || b === null ? null : ((b - a) * MS_TO_US) / calls);
        throughput[server.label].push({
          callsPerS: calls / (wallMs / 1000),
          clientCpuUsPerCall: ((after.client - before.client) * MS_TO_US) / calls,
          serverCpuUsPerCall: perCall(before.server, after.server),
          toolCpuUsPerCall: tools.length === 0 ? 0 : perCall(before.tool, after.tool),
        });
      });
    });
    return mcpRows(context, rtt, throughput, firstCallMs);
  },
};

function mcpRows(
  context: BenchContext,
  rtt: Record<McpServerLabel, number[]>,
  throughput: Record<McpServerLabel, ThroughputRound[]>,
  firstCallMs: Partial<Record<McpServerLabel, number>>,
): BenchRow[] {
  const plan = context.plan.mcp;
  const medianOf = (label: McpServerLabel, pick: (round: ThroughputRound) => number | null): number | null => {
    const values = throughput[label].map(pick).filter((value): value is number => value !== null);
    return values.length === 0 ? null : median(values);
  };
  const serverSideCpu = (round: ThroughputRound) =>
    round.serverCpuUsPerCall === null || round.toolCpuUsPerCall === null ? null : round.serverCpuUsPerCall + round.toolCpuUsPerCall;
  const cpuSplit = (label: McpServerLabel) => ({
    server: medianOf(label, (round) => round.serverCpuUsPerCall),
    deno: medianOf(label, (round) => round.toolCpuUsPerCall),
    client: medianOf(label, (round) => round.clientCpuUsPerCall),
  });
  const n = plan.rounds * plan.callsPerRound;
  const { rounds, calls, inFlight } = plan.throughput;
  const callsPerS = (label: McpServerLabel) => medianOf(label, (round) => round.callsPerS);
  const sides =
    'runtime: the SDK Client on stdio to `manasvi-plugins mcp manifests/examples/echo` (compiled CLI, no policy), tool echo__echo: ' +
    'JSON-RPC parse and dispatch in the bridge, PluginHandle.call (schema check, pool slot, deadline, frame to the Deno sandbox and back, ' +
    'audit), the result as text + structuredContent; floor: the same client to an McpServer in plain Node (scripts/bench/floor/mcp-echo-server.mjs) ' +
    'with a zod input schema, answering the same result itself.';
  return [
    {
      id: 'mcp_call_p50_us',
      metric: `MCP tools/call p50, ${n} sequential calls`,
      unit: 'µs',
      digits: 0,
      runtime: percentile(rtt.runtime, 50),
      floor: percentile(rtt.floor, 50),
      target: { kind: 'ratio', bound: 'max', value: 1.3 },
      includes: `one tools/call with nothing else in flight, timed in the client, after ${plan.warmupCalls} warm-up calls a side. ${sides}`,
      detail: { runtime: summarise(rtt.runtime), floor: summarise(rtt.floor), forward: summarise(rtt.forward), firstCallMs },
    },
    {
      id: 'mcp_call_p99_us',
      metric: `MCP tools/call p99, ${n} sequential calls`,
      unit: 'µs',
      digits: 0,
      runtime: percentile(rtt.runtime, 99),
      floor: percentile(rtt.floor, 99),
      target: { kind: 'ratio', bound: 'max', value: 1 },
      includes: 'as the p50 row; the tail shows GC pauses and scheduling, and the runtime side has one more process to schedule.',
    },
    {
      id: 'mcp_calls_per_s',
      metric: `MCP throughput, ${calls.toLocaleString('en-US')} calls ≤ ${inFlight} in flight, median of ${rounds}`,
      unit: 'calls/s',
      digits: 0,
      runtime: callsPerS('runtime'),
      floor: callsPerS('floor'),
      target: { kind: 'ratio', bound: 'min', value: 1 },
      includes: `calls ÷ wall time for the whole batch, at most ${inFlight} tools/call outstanding, one server per side.`,
      detail: { runtime: throughput.runtime, floor: throughput.floor, forward: throughput.forward },
    },
    {
      id: 'mcp_server_cpu_us_per_call',
      metric: '  server-side CPU per pipelined call',
      unit: 'µs',
      digits: 1,
      runtime: medianOf('runtime', serverSideCpu),
      floor: medianOf('floor', serverSideCpu),
      includes:
        "user+system CPU over a throughput round ÷ calls (/proc, 10 ms ticks). runtime: the bridge's Node process + its Deno tool process; " +
        'floor: the Node server. detail splits it, with the client (this process) as well, for all three servers.',
      detail: { runtime: cpuSplit('runtime'), floor: cpuSplit('floor'), forward: cpuSplit('forward') },
    },
    {
      id: 'mcp_call_p50_vs_forward_us',
      metric: '  tools/call p50 against a bare forwarder to Deno',
      unit: 'µs',
      digits: 0,
      runtime: percentile(rtt.runtime, 50),
      floor: percentile(rtt.forward, 50),
      includes:
        'the p50 row with another floor: the same McpServer relaying each call to the raw Deno echo of the call RTT rows ' +
        '(scripts/bench/floor/mcp-forward-server.mjs; the floor side\'s argv and environment, no host checks). Its own ratio ' +
        'to the first floor is what the second process costs; the runtime\'s ratio to it is what the runtime adds.',
    },
    {
      id: 'mcp_calls_per_s_vs_forward',
      metric: '  throughput against a bare forwarder to Deno',
      unit: 'calls/s',
      digits: 0,
      runtime: callsPerS('runtime'),
      floor: callsPerS('forward'),
      includes: 'the throughput row with the forwarder as the floor, measured in the same rotation.',
    },
  ];
}
