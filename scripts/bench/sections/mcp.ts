import { isDeepStrictEqual } from 'node:util';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DENO_PATH_ENV } from '../../../runtime/launch/deno-binary.ts';
import type { BenchRow } from '../bench-row.ts';
import { type BenchContext, type BenchSection, callPipelined, callSequentially } from '../bench-context.ts';
import { connectMcpEcho, type McpEchoServer } from '../mcp-echo-client.ts';
import { hostCpuMs, readProcessCpuMs } from '../proc-cpu.ts';
import { median, nowMs, percentile, summarise } from '../stats.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'manasvi-plugins.js');
const ECHO_PLUGIN = path.join(REPO, 'manifests', 'examples', 'echo');
const FLOOR_SERVER = fileURLToPath(new URL('../floor/mcp-echo-server.mjs', import.meta.url));
const MS_TO_US = 1000;

type Label = McpEchoServer['label'];
type Pair = Record<Label, McpEchoServer>;

interface ThroughputRound {
  callsPerS: number;
  clientCpuUsPerCall: number;
  /** The server process itself: the bridge's Node, or the floor's. */
  serverCpuUsPerCall: number | null;
  /** What the server started: the bridge's Deno tool process; nothing for the floor. */
  toolCpuUsPerCall: number | null;
}

/** Starts the bridge (the real compiled CLI) and the unsandboxed floor server, runs `body`, always stops both. */
async function withServerPair<T>(context: BenchContext, body: (pair: Pair) => Promise<T>): Promise<T> {
  // A fresh state folder (bundles, validators) for the CLI, which keeps it under TMPDIR.
  const tmp = path.join(context.scratchDir, 'mcp');
  mkdirSync(tmp, { recursive: true });
  const runtime = await connectMcpEcho({
    label: 'runtime',
    command: process.execPath,
    args: [BIN, 'mcp', ECHO_PLUGIN],
    env: { TMPDIR: tmp, [DENO_PATH_ENV]: context.denoPath },
    cwd: tmp,
    tool: 'echo__echo',
  });
  let result: T;
  try {
    const floor = await connectMcpEcho({ label: 'floor', command: process.execPath, args: [FLOOR_SERVER], env: {}, cwd: REPO, tool: 'echo' });
    try {
      result = await body({ runtime, floor });
    } finally {
      await floor.stop();
    }
  } finally {
    await runtime.stop();
  }
  return result;
}

/** Both sides in turn, `rounds` times, alternating which goes first (as the other sections do). */
async function alternatePair(pair: Pair, rounds: number, step: (server: McpEchoServer) => Promise<void>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [pair.runtime, pair.floor] : [pair.floor, pair.runtime];
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
 * MCP `tools/call` of an echo tool, with the official SDK client on stdio on both sides.
 * runtime: `manasvi-plugins mcp` (the compiled CLI) serving the echo example from its Deno
 * sandbox; floor: an McpServer in plain Node answering the same result itself, as an
 * unsandboxed MCP server does. Both sides are warm (the first call starts the bridge's tool
 * process) and are measured in alternating blocks.
 */
export const mcpSection: BenchSection = {
  id: 'mcp',
  name: 'MCP tools/call',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const plan = context.plan.mcp;
    const rtt: Record<Label, number[]> = { runtime: [], floor: [] };
    const throughput: Record<Label, ThroughputRound[]> = { runtime: [], floor: [] };
    const firstCallMs: Record<Label, number> = { runtime: 0, floor: 0 };
    await withServerPair(context, async (pair) => {
      for (const server of [pair.runtime, pair.floor]) {
        const started = nowMs();
        await server.echo();
        firstCallMs[server.label] = nowMs() - started;
      }
      // The comparison is only fair while both sides put the same result on the wire.
      const [ours, theirs] = [await pair.runtime.echo(), await pair.floor.echo()];
      if (!isDeepStrictEqual(ours, theirs)) {
        throw new Error(`the MCP floor answers differently from the bridge: ${JSON.stringify(theirs)} vs ${JSON.stringify(ours)}`);
      }
      for (const server of [pair.runtime, pair.floor]) await callSequentially(server, plan.warmupCalls);
      await alternatePair(pair, plan.rounds, async (server) => {
        for (let i = 0; i < plan.callsPerRound; i++) {
          const started = nowMs();
          await server.echo();
          rtt[server.label].push((nowMs() - started) * MS_TO_US);
        }
      });

      const { warmupCalls, rounds, calls, inFlight } = plan.throughput;
      for (const server of [pair.runtime, pair.floor]) await callPipelined(server, warmupCalls, inFlight);
      await alternatePair(pair, rounds, async (server) => {
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

    const medianOf = (label: Label, pick: (round: ThroughputRound) => number | null): number | null => {
      const values = throughput[label].map(pick).filter((value): value is number => value !== null);
      return values.length === 0 ? null : median(values);
    };
    const serverSideCpu = (round: ThroughputRound) =>
      round.serverCpuUsPerCall === null || round.toolCpuUsPerCall === null ? null : round.serverCpuUsPerCall + round.toolCpuUsPerCall;
    const n = plan.rounds * plan.callsPerRound;
    const { rounds, calls, inFlight } = plan.throughput;
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
        detail: { runtime: summarise(rtt.runtime), floor: summarise(rtt.floor), firstCallMs },
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
        runtime: medianOf('runtime', (round) => round.callsPerS),
        floor: medianOf('floor', (round) => round.callsPerS),
        target: { kind: 'ratio', bound: 'min', value: 1 },
        includes: `calls ÷ wall time for the whole batch, at most ${inFlight} tools/call outstanding, one server per side.`,
        detail: { runtime: throughput.runtime, floor: throughput.floor },
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
          'floor: the Node server. detail splits it, with the client (this process) as well.',
        detail: {
          runtime: { bridge: medianOf('runtime', (r) => r.serverCpuUsPerCall), tool: medianOf('runtime', (r) => r.toolCpuUsPerCall), client: medianOf('runtime', (r) => r.clientCpuUsPerCall) },
          floor: { server: medianOf('floor', (r) => r.serverCpuUsPerCall), client: medianOf('floor', (r) => r.clientCpuUsPerCall) },
        },
      },
    ];
  },
};
