import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_META_KEY, mcpToolName } from '../../mcp/index.ts';
import { PACKAGE_VERSION } from '../../package-root.ts';
import type { BridgeClient } from './bridge-client.ts';
import { printableLine } from './demo-row.ts';
import type { LoopbackServer } from './loopback-server.ts';
import type { SESSION_STEPS, SessionStepLabel } from './session-step-list.ts';
import { formatMs } from './render-table.ts';
import { isAlive, readProcessRecords, stillAlive } from './tool-processes.ts';

/** What the steps work with: the connected bridge and the host's own evidence. */
export interface SessionContext {
  bridge: BridgeClient;
  /** A loopback server nobody is granted: a request reaching it is an escape. */
  forbidden: LoopbackServer;
  /** The plugin the bridge was given but must refuse at load, and its manifest. */
  refused: { plugin: string; manifest: string };
  /** The bridge's `--audit` file: which tool processes it launched, with their pids. */
  auditFile: string;
}

/** How a step went: `ok` when it behaved as expected; `detail` says what was seen. */
export interface StepOutcome {
  ok: boolean;
  detail: string;
}

/** One step's runner. */
export type StepRunner = (ctx: SessionContext) => Promise<StepOutcome>;

/** Generous: a notification normally follows its cause within milliseconds. */
const NOTIFICATION_WAIT_MS = 10_000;
/** A process killed at close can take a moment to be reaped. */
const REAP_WAIT_MS = 5_000;
/** The SDK's own default is 60 s; a demo call that takes this long has failed. */
const CALL_TIMEOUT_MS = 30_000;
const COUNT_TO = 3;

const json = (value: unknown) => JSON.stringify(value);
const echoTool = mcpToolName('echo', 'echo');
const countTool = mcpToolName('counter', 'count');
const reachTool = mcpToolName('rogue', 'reach_host');

type CallResult = Awaited<ReturnType<BridgeClient['client']['callTool']>>;

/** A result as one line: its text, or the runtime's error code when it is an error result. */
function describeResult(result: CallResult): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const text = content.map((block: { type?: string; text?: string }) => (block.type === 'text' ? block.text : `[${block.type}]`)).join(' ');
  if (!result.isError) return printableLine(text);
  const code = (result._meta?.[ERROR_META_KEY] as { code?: unknown } | undefined)?.code;
  return printableLine(`error result (${String(code)}): ${text}`);
}

const call = (ctx: SessionContext, name: string, args: Record<string, unknown>) =>
  ctx.bridge.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });

const initialize: StepRunner = async ({ bridge }) => {
  const server = bridge.client.getServerVersion();
  const capabilities = Object.keys(bridge.client.getServerCapabilities() ?? {});
  const ok = server?.name === 'manasvi-plugins' && server.version === PACKAGE_VERSION && capabilities.includes('tools');
  return { ok, detail: `server ${server?.name} ${server?.version} (pid ${bridge.pid}), capabilities: ${capabilities.join(', ')}` };
};

const refusedAtLoad: StepRunner = async ({ bridge, refused }) => {
  // The bridge serves the others and tells the client why this one is missing.
  const notice = await bridge.waitForLog(
    (message) => message.logger === 'manasvi-plugins' && String(message.data).includes(refused.manifest),
    NOTIFICATION_WAIT_MS,
  );
  if (notice === undefined) return { ok: false, detail: `no notifications/message said why ${refused.plugin} was left out` };
  const [first = ''] = String(notice.data).split('\n');
  const reason = first.slice(first.indexOf(': ') + 2);
  return { ok: true, detail: `${refused.plugin}, as notifications/message (${notice.level}): ${printableLine(reason)}` };
};

const listTools: StepRunner = async ({ bridge, refused }) => {
  const names = (await bridge.client.listTools(undefined, { timeout: CALL_TIMEOUT_MS })).tools.map((tool) => tool.name);
  const missing = [echoTool, countTool, reachTool].filter((name) => !names.includes(name));
  const leaked = names.filter((name) => name.startsWith(mcpToolName(refused.plugin, '')));
  const problems = [...missing.map((name) => `${name} missing`), ...leaked.map((name) => `${name} served`)];
  return {
    ok: problems.length === 0,
    detail: `${names.length} tools: ${names.join(', ')}${problems.length > 0 ? `; ${problems.join(', ')}` : `; none of ${refused.plugin}`}`,
  };
};

const callEcho: StepRunner = async (ctx) => {
  const args = { text: 'hello over MCP' };
  const result = await call(ctx, echoTool, args);
  const ok = !result.isError && json(result.structuredContent) === json(args);
  return { ok, detail: `${echoTool} ${json(args)} → ${describeResult(result)}` };
};

const escapeAttempt: StepRunner = async (ctx) => {
  const hitsBefore = ctx.forbidden.hits;
  const result = await call(ctx, reachTool, { url: ctx.forbidden.url });
  const report = result.structuredContent as { blocked?: unknown; error?: unknown; leaked?: unknown } | undefined;
  const hits = ctx.forbidden.hits - hitsBefore;
  // Blocked by Deno's permissions, and the host's own evidence agrees: no request arrived.
  const blocked = report?.blocked === true;
  const ok = !result.isError && blocked && hits === 0;
  let what: string;
  if (result.isError) what = describeResult(result);
  else if (blocked) what = `blocked: ${printableLine(String(report.error ?? ''))}`;
  else if (hits > 0 || report?.leaked !== undefined) what = `NOT BLOCKED: ${describeResult(result)}`;
  // Deno let it try; another layer (a network namespace) may still have stopped it.
  else what = `Deno did not refuse it, yet it failed: ${printableLine(String(report?.error ?? ''))}`;
  return { ok, detail: `${reachTool} ${ctx.forbidden.hostPort} → ${what}; requests that reached it: ${hits}` };
};

const badArguments: StepRunner = async (ctx) => {
  const args = { text: 42 };
  try {
    const result = await call(ctx, echoTool, args);
    return { ok: false, detail: `${echoTool} ${json(args)} was answered with a result: ${describeResult(result)}` };
  } catch (error) {
    if (!(error instanceof McpError)) throw error;
    const issues = ((error.data as { issues?: unknown } | undefined)?.issues ?? []) as { path?: unknown; message?: unknown }[];
    const named = issues.find((issue) => issue.path === '/text');
    const ok = error.code === ErrorCode.InvalidParams && named !== undefined;
    const issue = named ?? issues[0];
    return {
      ok,
      detail: `${echoTool} ${json(args)} → JSON-RPC error ${error.code}, data.issues: ${issue ? `${issue.path}: ${printableLine(String(issue.message))}` : 'none'}`,
    };
  }
};

const progress: StepRunner = async (ctx) => {
  const seen: { progress: number; total?: number; message?: string }[] = [];
  const args = { to: COUNT_TO };
  const errorsBefore = ctx.bridge.errors.length;
  const result = await ctx.bridge.client.callTool({ name: countTool, arguments: args }, undefined, {
    timeout: CALL_TIMEOUT_MS,
    onprogress: (report) => void seen.push(report),
  });
  // The tool reports slower than the host forwards, so every report must arrive, in order.
  // The one exception is the SDK's: its client drops a report read in the same chunk as
  // the result (it handles notifications a microtask later), which only the last can be.
  const expected = Array.from({ length: COUNT_TO }, (_, i) => `${i + 1}/${COUNT_TO}`);
  const got = seen.map((report) => `${report.progress}/${report.total}`);
  const inOrder = json(got) === json(expected.slice(0, got.length)) && got.length >= COUNT_TO - 1;
  const ok = !result.isError && inOrder && json(result.structuredContent) === json({ counted: COUNT_TO });
  const reports = seen.map((report) => `${report.progress}/${report.total} "${printableLine(report.message ?? '')}"`).join(', ');
  const said = ctx.bridge.errors.slice(errorsBefore).map((error) => printableLine(error.message));
  const lastLost = inOrder && got.length < COUNT_TO ? ` (the last was lost in the SDK client${said.length > 0 ? `, which said: ${said.join('; ')}` : ''})` : '';
  return { ok, detail: `${countTool} ${json(args)} → ${describeResult(result)}; notifications/progress: ${reports || 'none'}${lastLost}` };
};

const pluginLog: StepRunner = async ({ bridge }) => {
  // count writes this line to its stderr before counting; the bridge forwards it.
  const logger = 'counter/count';
  const line = `counting to ${COUNT_TO}`;
  const message = await bridge.waitForLog((m) => m.logger === logger && m.data === line, NOTIFICATION_WAIT_MS);
  if (message === undefined) return { ok: false, detail: `no notifications/message from ${logger} saying "${line}"` };
  return { ok: true, detail: `notifications/message (${message.level}) from ${message.logger}: "${printableLine(String(message.data))}"` };
};

/** Closes the session: the bridge must exit, and take every tool process with it. */
const close: StepRunner = async ({ bridge, auditFile }) => {
  const before = readProcessRecords(auditFile).launched;
  const pids = before.map((recorded) => recorded.pid);
  // Alive now, so that "gone after" is not vacuous.
  const aliveBefore = pids.filter(isAlive).length;
  const started = performance.now();
  await bridge.close();
  const took = formatMs(performance.now() - started);
  const bridgeAlive = bridge.pid !== null && (await stillAlive([bridge.pid], REAP_WAIT_MS)).length > 0;
  const alive = await stillAlive(pids, REAP_WAIT_MS);
  // The bridge closed its runtime before exiting: each process it launched has its exit recorded.
  const { exits } = readProcessRecords(auditFile);
  const ok = pids.length > 0 && !bridgeAlive && alive.length === 0 && exits >= pids.length;
  const list = before.map(({ tool, pid }) => `${tool} ${pid}`).join(', ');
  return {
    ok,
    detail:
      `stdin closed; the bridge ${bridgeAlive ? 'is STILL RUNNING' : `exited in ${took}`}. ` +
      `Tool processes (pids from its audit): ${list || 'none recorded'}; ${aliveBefore} alive before close, ` +
      `${alive.length > 0 ? `STILL ALIVE after: ${alive.join(', ')}` : 'all gone after'}; ${exits} exit record(s).`,
  };
};

/**
 * Each step of {@link SESSION_STEPS} by its label. Close also ends the session, so the
 * session runs it last even when a step before it failed.
 */
export const STEP_RUNNERS: Record<SessionStepLabel, StepRunner> = {
  initialize,
  'refused at load': refusedAtLoad,
  'tools/list': listTools,
  'tools/call': callEcho,
  'escape attempt': escapeAttempt,
  'bad arguments': badArguments,
  progress,
  'plugin log': pluginLog,
  close,
};
