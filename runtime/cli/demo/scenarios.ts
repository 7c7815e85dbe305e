import { createHmac } from 'node:crypto';
import type { LoadOptions, PluginHandle, Runtime } from '../../index.ts';
import { packagePath } from '../../package-root.ts';
import { callRow, classifyError, type DemoRow } from './demo-row.ts';
import type { LoopbackServer } from './loopback-server.ts';
import { DEMO_SCENARIOS, type ScenarioName } from './scenario-list.ts';

const EXAMPLES = `${packagePath('manifests', 'examples')}/`;

export const exampleDir = (name: string) => `${EXAMPLES}${name}`;
export const exampleManifest = (name: string) => `${EXAMPLES}${name}/manifest.json`;

export interface DemoContext {
  runtime: Runtime;
  /** The loopback server the fetcher is granted. */
  granted: LoopbackServer;
  /** A loopback server nobody is granted: any request it receives is an escape. */
  forbidden: LoopbackServer;
  /** The temporary fetcher copy whose manifest names `granted`'s port. */
  fetcherManifest: string;
  /** The temporary notes copy, so the notes it writes stay out of the package. */
  notesManifest: string;
  /** A module outside every plugin folder, and the value it exports. */
  canaryModule: string;
  canary: string;
  /** The API_KEY the runtime's secret store holds; it must never appear in any output. */
  apiKey: string;
}

type Loaded = { plugin: PluginHandle; row?: undefined } | { plugin?: undefined; row: DemoRow };

/** Loads a plugin expected to load; a failure becomes a row (and the demo's verdict fails). */
async function load(ctx: DemoContext, name: string, manifest: string, options: LoadOptions = {}): Promise<Loaded> {
  const started = performance.now();
  try {
    return { plugin: await ctx.runtime.load(manifest, options) };
  } catch (error) {
    const ms = performance.now() - started;
    return { row: { plugin: name, attempt: 'load', expected: 'allowed', ...classifyError(error), ms } };
  }
}

/** Loads a plugin expected to be refused at load, and reports which layer refused it. */
async function refusedLoad(ctx: DemoContext, name: string, manifest: string, attempt: string): Promise<DemoRow> {
  const started = performance.now();
  const since = () => performance.now() - started;
  try {
    await ctx.runtime.load(manifest);
    return { plugin: name, attempt, expected: 'blocked', outcome: 'allowed', layer: 'NOT BLOCKED', detail: 'loaded', ms: since() };
  } catch (error) {
    return { plugin: name, attempt, expected: 'blocked', ...classifyError(error), ms: since() };
  }
}

async function echo(ctx: DemoContext): Promise<DemoRow[]> {
  const loaded = await load(ctx, 'echo', exampleManifest('echo'));
  if (!loaded.plugin) return [loaded.row];
  return [
    await callRow(loaded.plugin, 'echo', { text: 'hello' }, { attempt: 'echo {"text":"hello"}', expected: 'allowed' }),
    await callRow(loaded.plugin, 'echo', { text: 42 }, { attempt: 'echo {"text":42}', expected: 'blocked' }),
  ];
}

async function notes(ctx: DemoContext): Promise<DemoRow[]> {
  const manifest = ctx.notesManifest;
  const rows = [await refusedLoad(ctx, 'notes', manifest, 'load under the policy (no entry for notes)')];
  const loaded = await load(ctx, 'notes', manifest, { allowDeclared: true });
  if (!loaded.plugin) return [...rows, loaded.row];
  const notesPlugin = loaded.plugin;
  const call = (tool: string, args: unknown, attempt: string, expected: DemoRow['expected']) =>
    callRow(notesPlugin, tool, args, { attempt, expected });
  rows.push(await call('write_note', { name: 'demo', text: 'written by the demo' }, 'write_note "demo" (allow-declared)', 'allowed'));
  rows.push(await call('read_note', { name: 'demo' }, 'read_note "demo"', 'allowed'));
  rows.push(await call('list_notes', {}, 'list_notes', 'allowed'));
  rows.push(await call('read_note', { name: '../../../../etc/passwd' }, 'read_note "../../../../etc/passwd"', 'blocked'));
  return rows;
}

async function fetcher(ctx: DemoContext): Promise<DemoRow[]> {
  const loaded = await load(ctx, 'fetcher', ctx.fetcherManifest, { allowDeclared: true });
  if (!loaded.plugin) return [loaded.row];
  return [
    await callRow(loaded.plugin, 'fetch_url', { url: ctx.granted.url }, {
      attempt: `fetch_url ${ctx.granted.hostPort} (granted)`,
      expected: 'allowed',
    }),
    await callRow(loaded.plugin, 'fetch_url', { url: ctx.forbidden.url }, {
      attempt: `fetch_url ${ctx.forbidden.hostPort} (other port)`,
      expected: 'blocked',
    }),
  ];
}

async function rogue(ctx: DemoContext): Promise<DemoRow[]> {
  const loaded = await load(ctx, 'rogue', exampleManifest('rogue'));
  if (!loaded.plugin) return [loaded.row];
  const plugin = loaded.plugin;
  const attempts: [tool: string, args: unknown, attempt: string][] = [
    ['read_passwd', {}, 'read_passwd: read /etc/passwd'],
    ['reach_host', { url: ctx.forbidden.url }, `reach_host: fetch ${ctx.forbidden.hostPort}`],
    ['read_env', {}, 'read_env: Deno.env.toObject(), HOME'],
    ['spawn_process', {}, 'spawn_process: /bin/sh -c echo'],
    ['import_outside', { path: ctx.canaryModule }, 'import_outside: import(<module outside>)'],
  ];
  // Each tool is its own process, so these start side by side.
  const rows = await Promise.all(
    attempts.map(([tool, args, attempt]) => callRow(plugin, tool, args, { attempt, expected: 'blocked' })),
  );
  // The host's own evidence for the import, whatever the plugin says about itself.
  const imported = rows[4]!;
  if (imported.detail.includes(ctx.canary)) Object.assign(imported, { outcome: 'allowed', layer: 'NOT BLOCKED' });
  return rows;
}

async function secrets(ctx: DemoContext): Promise<DemoRow[]> {
  const loaded = await load(ctx, 'secrets', exampleManifest('secrets'));
  if (!loaded.plugin) return [loaded.row];
  const text = 'hello';
  const sign = await callRow(loaded.plugin, 'sign', { text }, { attempt: `sign "${text}" (policy grants API_KEY)`, expected: 'allowed' });
  // The host checks the signature itself: the tool had the key, without the key being shown.
  const expected = createHmac('sha256', ctx.apiKey).update(text).digest('hex');
  if (sign.outcome === 'allowed') {
    const matches = sign.detail.includes(expected);
    sign.outcome = matches ? 'allowed' : 'failed';
    sign.detail = matches
      ? `signature ${expected} matches the host's own HMAC (the key went only to sign's process)`
      : `signature does not match the host's HMAC: ${sign.detail}`;
  }
  const peek = await callRow(loaded.plugin, 'peek', {}, { attempt: 'peek: API_KEY from a tool not naming it', expected: 'blocked' });
  return [sign, peek];
}

async function rogueImport(ctx: DemoContext): Promise<DemoRow[]> {
  return [await refusedLoad(ctx, 'rogue-import', exampleManifest('rogue-import'), 'load (static import of ../../../package.json)')];
}

/** Keyed by the names in scenario-list.ts: each listed scenario has exactly one runner. */
const RUNNERS: Record<ScenarioName, (ctx: DemoContext) => Promise<DemoRow[]>> = {
  echo,
  notes,
  fetcher,
  secrets,
  rogue,
  'rogue-import': rogueImport,
};

/** One scenario's rows and how long it took from start to its last row. */
export interface ScenarioResult {
  name: ScenarioName;
  rows: DemoRow[];
  ms: number;
}

/** Every scenario of {@link DEMO_SCENARIOS}, run side by side; results come back in that order. */
export async function runScenarios(ctx: DemoContext): Promise<ScenarioResult[]> {
  return Promise.all(
    DEMO_SCENARIOS.map(async ({ name }) => {
      const started = performance.now();
      const rows = await RUNNERS[name](ctx);
      return { name, rows, ms: performance.now() - started };
    }),
  );
}
