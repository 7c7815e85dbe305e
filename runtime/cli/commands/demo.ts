import { randomBytes } from 'node:crypto';
import {
  type ActiveLayers,
  createRuntime,
  functionSecretStore,
  type PluginLogLine,
  type PolicyInput,
  type Runtime,
} from '../../index.ts';
import { closeOnSignal } from '../close-on-signal.ts';
import type { DemoRow } from '../demo/demo-row.ts';
import { createDemoWorkspace, type DemoWorkspace } from '../demo/demo-workspace.ts';
import { type LoopbackServer, startLoopbackServer } from '../demo/loopback-server.ts';
import { renderTable } from '../demo/render-table.ts';
import { exampleDir, runScenarios } from '../demo/scenarios.ts';
import { printHelp } from '../help.ts';
import { expectPositionals, parseCommandArgs } from '../usage-error.ts';

/** Plugin stderr kept for --verbose; the rest is only counted (a plugin can be noisy). */
const MAX_KEPT_LOG_LINES = 200;

/** A real operator policy for the one plugin that does not need allow-declared. */
const DEMO_POLICY: PolicyInput = { plugins: { secrets: { 'access-secret': ['API_KEY'] } } };

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
    layer: hits === 0 ? 'Deno permission' : 'NOT BLOCKED',
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

function describeLayers(layers: ActiveLayers): string {
  const flag = (on: boolean) => (on ? 'on' : 'off');
  return (
    `host checks on, Deno permissions on, OS limits ${flag(layers.osLimits)}, ` +
    `die-with-host ${flag(layers.dieWithHost)}, network namespace ${flag(layers.networkNamespace)}, mount namespace ${flag(layers.mountNamespace)}`
  );
}

function header(granted: LoopbackServer, forbidden: LoopbackServer, layers: ActiveLayers): string {
  return [
    'Manasvi plugin runtime demo',
    'Each tool runs in its own Deno process, launched with exactly its own sandbox\'s permissions',
    '(see them with: manasvi-plugins inspect <manifest>).',
    `  active layers: ${describeLayers(layers)}`,
    `  loopback server granted to fetcher: ${granted.hostPort}`,
    `  loopback server granted to nobody:  ${forbidden.hostPort}`,
    '  notes and fetcher are loaded with allow-declared (DEVELOPMENT ONLY: all they declare is granted);',
    '  secrets is granted API_KEY by a policy (a random key per run, held by the host);',
    '  echo, rogue and rogue-import get nothing but provide-tools.',
    '',
  ].join('\n');
}

function summary(rows: readonly DemoRow[], processes: ProcessCount, logLines: number, verbose: boolean): string {
  const count = (outcome: DemoRow['outcome']) => rows.filter((row) => row.outcome === outcome).length;
  const unexpected = rows.filter((row) => row.outcome !== row.expected);
  const escapes = unexpected.filter((row) => row.expected === 'blocked' && row.outcome === 'allowed');
  const lines = [
    '',
    `${rows.length} attempts: ${count('allowed')} allowed, ${count('blocked')} blocked` +
      (count('failed') > 0 ? `, ${count('failed')} failed` : '') +
      `. Tool processes: ${processes.launched} launched, ${processes.exited} exited.`,
  ];
  for (const row of escapes) lines.push(`ESCAPE: ${row.plugin} ${row.attempt} was NOT blocked (${row.detail})`);
  if (unexpected.length === 0) lines.push('Everything behaved as expected: every escape attempt was blocked.');
  else lines.push(`${unexpected.length} row(s) marked "!" did not behave as expected.`);
  if (logLines > 0 && !verbose) lines.push(`(${logLines} plugin stderr line(s) captured; --verbose prints them)`);
  return `${lines.join('\n')}\n`;
}

/** `demo`: the example plugins, rogue ones included, as a table; exit 1 if anything escaped or misbehaved. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('demo');
  expectPositionals(positionals, []);

  const logs: PluginLogLine[] = [];
  let logLines = 0;
  let keySightings = 0;
  const processes: ProcessCount = { launched: 0, exited: 0 };
  const apiKey = randomBytes(24).toString('base64url');
  const opened: { runtime?: Runtime; servers: LoopbackServer[]; workspace?: DemoWorkspace } = { servers: [] };
  // Each step runs even if another fails: no process, server or temporary folder is left behind.
  const cleanup = async () => {
    await Promise.allSettled([opened.runtime?.close(), ...opened.servers.map((server) => server.close())]);
    opened.workspace?.remove();
  };
  const stopOnSignal = closeOnSignal(cleanup);
  // An interrupt can land while the workspace is being made; removal is synchronous, so do it at exit too.
  const removeAtExit = () => opened.workspace?.remove();
  process.once('exit', removeAtExit);

  let rows: DemoRow[];
  let forbidden: LoopbackServer;
  try {
    const granted = await startLoopbackServer('hello from the loopback server fetcher is granted');
    opened.servers.push(granted);
    forbidden = await startLoopbackServer('nobody is granted this server');
    opened.servers.push(forbidden);
    const workspace = createDemoWorkspace(exampleDir('fetcher'), granted.hostPort);
    opened.workspace = workspace;
    opened.runtime = createRuntime({
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
      },
    });
    process.stdout.write(header(granted, forbidden, opened.runtime.layers));
    rows = await runScenarios({
      runtime: opened.runtime,
      granted,
      forbidden,
      fetcherManifest: workspace.fetcherManifest,
      canaryModule: workspace.canaryModule,
      canary: workspace.canary,
      apiKey,
    });
  } finally {
    await cleanup();
    stopOnSignal();
    process.off('exit', removeAtExit);
  }
  rows.push(forbiddenServerRow(forbidden), secretLeakRow(apiKey, rows, keySightings));

  process.stdout.write(`\n${renderTable(rows)}`);
  process.stdout.write(summary(rows, processes, logLines, values.verbose));
  if (values.verbose) {
    for (const { plugin, tool, line } of logs) process.stdout.write(`[${plugin}/${tool}] ${line}\n`);
  }
  return rows.every((row) => row.outcome === row.expected) ? 0 : 1;
}
