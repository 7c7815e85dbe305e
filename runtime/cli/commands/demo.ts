import { randomBytes } from 'node:crypto';
import {
  type ActiveLayers,
  type AuditRecord,
  createRuntime,
  functionSecretStore,
  type PluginLogLine,
  type Runtime,
} from '../../index.ts';
import { closeOnSignal } from '../close-on-signal.ts';
import type { DemoRow } from '../demo/demo-row.ts';
import { DEMO_POLICY } from '../demo/demo-policy.ts';
import { createDemoWorkspace, type DemoWorkspace } from '../demo/demo-workspace.ts';
import { type LoopbackServer, startLoopbackServer } from '../demo/loopback-server.ts';
import { runMcpSession } from '../demo/mcp-session.ts';
import { formatMs, renderTable } from '../demo/render-table.ts';
import { renderTranscript } from '../demo/render-transcript.ts';
import { exampleDir, exampleManifest, runScenarios, type ScenarioResult } from '../demo/scenarios.ts';
import { verboseDetails } from '../demo/verbose-details.ts';
import { wrapIndented } from '../demo/wrap-text.ts';
import { printHelp } from '../help.ts';
import { expectPositionals, parseCommandArgs } from '../usage-error.ts';

/** Plugin stderr kept for --verbose; the rest is only counted (a plugin can be noisy). */
const MAX_KEPT_LOG_LINES = 200;
/** Audit records kept for --verbose; a run makes well under a hundred. */
const MAX_KEPT_AUDIT_RECORDS = 2000;
/** The output is laid out for a terminal this wide, within these bounds. */
const DEFAULT_WIDTH = 100;
const MIN_WIDTH = 80;

/** The terminal's width (or $COLUMNS when not a terminal), held to 80–100 columns. */
function outputWidth(): number {
  const columns = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS);
  if (!Number.isInteger(columns) || columns <= 0) return DEFAULT_WIDTH;
  return Math.min(DEFAULT_WIDTH, Math.max(MIN_WIDTH, columns));
}

interface ProcessCount {
  launched: number;
  exited: number;
}

/** The host's own evidence, independent of what any plugin reports about itself. */
function forbiddenServerRow(forbidden: LoopbackServer): DemoRow {
  const hits = forbidden.hits;
  return {
    plugin: '(host)',
    attempt: `requests that reached ${forbidden.hostPort}`,
    expected: 'blocked',
    outcome: hits === 0 ? 'blocked' : 'allowed',
    // Deno refuses it first; with Deno's flags gone the egress gateway (and the namespace) still do.
    layer: hits === 0 ? 'Deno, egress gateway' : 'NOT BLOCKED',
    detail: `${hits} request${hits === 1 ? '' : 's'} received`,
  };
}

/** The host's check that the secret's value appears in no result, error, plugin log line or audit record. */
function secretLeakRow(apiKey: string, rows: readonly DemoRow[], seenElsewhere: number): DemoRow {
  const seen = rows.filter((row) => row.detail.includes(apiKey)).length + seenElsewhere;
  return {
    plugin: '(host)',
    attempt: 'API_KEY value in any result, log or audit',
    expected: 'blocked',
    outcome: seen === 0 ? 'blocked' : 'allowed',
    layer: seen === 0 ? 'host secret handling' : 'NOT BLOCKED',
    detail: seen === 0 ? 'not found anywhere' : `found ${seen} time(s)`,
  };
}

/** Each active layer as "name on|off"; an item is never broken across lines. */
function describeLayers(layers: ActiveLayers): string[] {
  const flag = (on: boolean) => (on ? 'on' : 'off');
  return [
    'host checks on',
    'Deno permissions on',
    `OS limits ${flag(layers.osLimits)}`,
    `die-with-host ${flag(layers.dieWithHost)}`,
    `network namespace ${flag(layers.networkNamespace)}`,
    `mount namespace ${flag(layers.mountNamespace)}`,
    `egress gateway ${flag(layers.egressGateway)}`,
  ];
}

/** `label` then the items, comma-separated, wrapped between items to `width`. */
function itemLines(label: string, items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let current = label;
  items.forEach((item, i) => {
    const piece = `${item}${i < items.length - 1 ? ',' : ''}`;
    if (current.length + 1 + piece.length <= width) current += ` ${piece}`;
    else {
      lines.push(current);
      current = `    ${piece}`;
    }
  });
  lines.push(current);
  return lines;
}

function header(granted: LoopbackServer, forbidden: LoopbackServer, layers: ActiveLayers, width: number): string {
  const item = (text: string) => wrapIndented(text, width, 2, 2);
  return [
    'Manasvi plugin runtime demo',
    ...wrapIndented(
      "Each tool runs in its own Deno process, launched with exactly its own sandbox's permissions " +
        '(see them with: manasvi-plugins inspect <manifest>; --verbose shows each launch command).',
      width,
      0,
    ),
    ...itemLines('  active layers:', describeLayers(layers), width),
    `  loopback server granted to fetcher: ${granted.hostPort}`,
    `  loopback server granted to nobody:  ${forbidden.hostPort}`,
    ...item('notes and fetcher are loaded with allow-declared (DEVELOPMENT ONLY: all they declare is granted), from temporary copies;'),
    ...item('secrets is granted API_KEY by a policy (a random key per run, held by the host);'),
    ...item('echo, rogue and rogue-import get nothing but provide-tools.'),
    '',
  ].join('\n');
}

function mcpOnlyHeader(width: number): string {
  return `${[
    'Manasvi plugin runtime demo: the MCP session only',
    ...wrapIndented('(without --mcp, the table of the example plugins, rogue ones included, comes first)', width, 2, 2),
  ].join('\n')}\n`;
}

function summary(rows: readonly DemoRow[], processes: ProcessCount, logLines: number, verbose: boolean, width: number): string {
  const count = (outcome: DemoRow['outcome']) => rows.filter((row) => row.outcome === outcome).length;
  const unexpected = rows.filter((row) => row.outcome !== row.expected);
  const escapes = unexpected.filter((row) => row.expected === 'blocked' && row.outcome === 'allowed');
  const lines = [''];
  const say = (text: string) => lines.push(...wrapIndented(text, width, 0, 2));
  say(
    `${rows.length} attempts: ${count('allowed')} allowed, ${count('blocked')} blocked` +
      (count('failed') > 0 ? `, ${count('failed')} failed` : '') +
      `. Tool processes: ${processes.launched} launched, ${processes.exited} exited.`,
  );
  // One line per escape that names it whole (so it can be searched for), then what got through.
  for (const row of escapes) lines.push(`ESCAPE: ${row.plugin} ${row.attempt} was NOT blocked`, ...wrapIndented(row.detail, width, 8));
  if (unexpected.length === 0) say('Everything behaved as expected: every escape attempt was blocked.');
  else say(`${unexpected.length} row(s) marked "!" did not behave as expected.`);
  const stderrLines = `${logLines} plugin stderr line${logLines === 1 ? '' : 's'}`;
  if (!verbose) say(`(--verbose adds, per scenario, the grant decisions, launch commands, audit records and ${stderrLines})`);
  else if (logLines > MAX_KEPT_LOG_LINES) say(`(${stderrLines} captured; the first ${MAX_KEPT_LOG_LINES} are shown above)`);
  return `${lines.join('\n')}\n`;
}

/** What the table phase and the MCP session share, and what an interrupt must close. */
interface Opened {
  runtime?: Runtime;
  servers: LoopbackServer[];
  workspace?: DemoWorkspace;
  stopBridge?: () => Promise<void>;
}

interface DemoSetup {
  granted: LoopbackServer;
  forbidden: LoopbackServer;
  workspace: DemoWorkspace;
  width: number;
  verbose: boolean;
}

/** The table: every scenario against one in-process runtime. Returns whether every row behaved as expected. */
async function runTable(opened: Opened, { granted, forbidden, workspace, width, verbose }: DemoSetup): Promise<boolean> {
  const logs: PluginLogLine[] = [];
  const audit: AuditRecord[] = [];
  let logLines = 0;
  let keySightings = 0;
  const processes: ProcessCount = { launched: 0, exited: 0 };
  const apiKey = randomBytes(24).toString('base64url');
  const runtime = createRuntime({
    policy: DEMO_POLICY,
    secrets: functionSecretStore((name) => (name === 'API_KEY' ? apiKey : undefined)),
    // Plugin stderr goes to a sink, not the terminal: the table is the output.
    onLog: (entry) => {
      logLines += 1;
      if (entry.line.includes(apiKey)) keySightings += 1;
      if (logs.length < MAX_KEPT_LOG_LINES) logs.push(entry);
    },
    onAudit: (record) => {
      if (JSON.stringify(record).includes(apiKey)) keySightings += 1;
      if (record.type === 'launch') processes.launched += 1;
      if (record.type === 'exit') processes.exited += 1;
      if (audit.length < MAX_KEPT_AUDIT_RECORDS) audit.push(record);
    },
  });
  opened.runtime = runtime;
  process.stdout.write(header(granted, forbidden, runtime.layers, width));
  let results: ScenarioResult[];
  try {
    results = await runScenarios({
      runtime,
      granted,
      forbidden,
      fetcherManifest: workspace.fetcherManifest,
      notesManifest: workspace.notesManifest,
      canaryModule: workspace.canaryModule,
      canary: workspace.canary,
      apiKey,
    });
  } finally {
    // Closed before the table is printed, so its count of exited processes is complete.
    await runtime.close();
  }
  const rows = results.flatMap((result) => result.rows);
  rows.push(forbiddenServerRow(forbidden), secretLeakRow(apiKey, rows, keySightings));

  process.stdout.write(`\n${renderTable(rows, width)}`);
  if (verbose) process.stdout.write(verboseDetails(results, audit, logs, width));
  process.stdout.write(summary(rows, processes, logLines, verbose, width));
  return rows.every((row) => row.outcome === row.expected);
}

/** The MCP session: the real bridge as a child process, driven by the SDK's client. Returns whether every step behaved as expected. */
async function runSession(opened: Opened, { forbidden, workspace, width, verbose }: DemoSetup): Promise<boolean> {
  const session = await runMcpSession({
    root: workspace.root,
    policyFile: workspace.policyFile,
    manifests: {
      echo: exampleManifest('echo'),
      rogue: exampleManifest('rogue'),
      counter: exampleManifest('counter'),
      // Under the demo's policy notes is refused, as in the table: the bridge serves the others and says why.
      refused: { plugin: 'notes', manifest: workspace.notesManifest },
    },
    forbidden,
    onStarted: (stop) => (opened.stopBridge = stop),
  });
  process.stdout.write(renderTranscript(session, workspace.root, width, verbose));
  return session.steps.every((step) => step.ok);
}

/**
 * `demo`: the example plugins, rogue ones included, as a table, then some of them over
 * MCP through the real bridge (`--mcp`: only that); exit 1 if anything escaped or misbehaved.
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      verbose: { type: 'boolean', default: false },
      mcp: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('demo');
  expectPositionals(positionals, []);
  const started = performance.now();
  const width = outputWidth();

  const opened: Opened = { servers: [] };
  // Each step runs even if another fails: no process, server or temporary folder is left behind.
  const cleanup = async () => {
    await Promise.allSettled([opened.stopBridge?.(), opened.runtime?.close(), ...opened.servers.map((server) => server.close())]);
    opened.workspace?.remove();
  };
  const stopOnSignal = closeOnSignal(cleanup);
  // An interrupt can land while the workspace is being made; removal is synchronous, so do it at exit too.
  const removeAtExit = () => opened.workspace?.remove();
  process.once('exit', removeAtExit);

  let ok: boolean;
  try {
    const granted = await startLoopbackServer('hello from the loopback server fetcher is granted');
    opened.servers.push(granted);
    const forbidden = await startLoopbackServer('nobody is granted this server');
    opened.servers.push(forbidden);
    const workspace = createDemoWorkspace({ fetcher: exampleDir('fetcher'), notes: exampleDir('notes') }, granted.hostPort, DEMO_POLICY);
    opened.workspace = workspace;
    const setup: DemoSetup = { granted, forbidden, workspace, width, verbose: values.verbose };
    if (values.mcp) process.stdout.write(mcpOnlyHeader(width));
    const tableOk = values.mcp ? true : await runTable(opened, setup);
    const sessionOk = await runSession(opened, setup);
    ok = tableOk && sessionOk;
  } finally {
    await cleanup();
    stopOnSignal();
    process.off('exit', removeAtExit);
  }
  process.stdout.write(`Total elapsed time: ${formatMs(performance.now() - started)}.\n`);
  return ok ? 0 : 1;
}
