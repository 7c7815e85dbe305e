import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import {
  type LaunchConfig,
  loadLaunchConfig,
  type PluginHandle,
  type PluginLogLine,
  type Runtime,
  type RuntimeOptions,
  type ToolStateEvent,
} from '../../runtime/index.ts';
import { createRuntimeWith } from '../../runtime/host/create-runtime.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import { AuditLog } from './audit-log.ts';
import { ECHO_MANIFEST } from './fixtures.ts';
import { GENEROUS_MS, waitFor } from './wait-for.ts';

/** Some numbers of deno-launch.json changed for one test, section by section. */
export type LaunchConfigOverrides = { [K in keyof LaunchConfig]?: Partial<LaunchConfig[K]> };

export interface TestRuntimeOptions extends Omit<RuntimeOptions, 'launchConfig' | 'onAudit' | 'onLog'> {
  /** The config to start from; default the package's deno-launch.json. Copied, never changed. */
  launchConfig?: LaunchConfig;
  /** Section-wise overrides of the config (e.g. `{ heartbeat: { intervalMs: 200 } }`). */
  config?: LaunchConfigOverrides;
  /** A short handshake deadline, for the test that waits it out. */
  handshakeTimeoutMs?: number;
  /** Adjusts this runtime's copy of the config last, for what `config` cannot say. */
  configure?: (config: LaunchConfig) => void;
  /**
   * The state folder; default a fresh one of its own, removed at teardown. One given here
   * is left to its owner (usually a t.testdir).
   */
  stateDir?: string;
  /** The audit collector to record into; default a new one. Share one across runtimes that stand for one host restarted. */
  audit?: AuditLog;
  /** Layers taken away on purpose, to measure the others (Deno's flags stripped, namespaces off). */
  layerOverrides?: LayerOverrides;
}

export type StateRecord = ToolStateEvent & { plugin: string };

export interface TestRuntime {
  runtime: Runtime;
  /** Every audit record, to query (`all`, `find`, `last`) and wait on. */
  audit: AuditLog;
  /** Every stderr line any plugin process wrote. */
  logs: PluginLogLine[];
  /** The runtime's own folder (bundles, Deno's cache), canonical: never grantable. */
  stateDir: string;
  /** Every state event of every plugin loaded through {@link TestRuntime.load}. */
  states: StateRecord[];
  /** `runtime.load`, recording the plugin's state events in {@link TestRuntime.states}. */
  load(manifestPath: string): Promise<PluginHandle>;
  /** The echo example, loaded once: the well-behaved neighbour. */
  neighbour(): Promise<PluginHandle>;
  /** Waits for a plugin stderr line containing `text`; resolves with the line (its launchId says which process). */
  waitForLog(text: string, timeoutMs?: number): Promise<PluginLogLine>;
  /** Waits for a state event of `tool`, skipping the first `since` events recorded. */
  waitForState(tool: string, state: ToolStateEvent['state'], since?: number): Promise<StateRecord>;
}

function buildConfig(options: TestRuntimeOptions): LaunchConfig {
  const config = structuredClone(options.launchConfig ?? loadLaunchConfig()) as unknown as Record<string, object>;
  for (const [section, values] of Object.entries(options.config ?? {})) {
    config[section] = { ...config[section], ...values };
  }
  const merged = config as unknown as LaunchConfig;
  if (options.handshakeTimeoutMs !== undefined) merged.handshake.timeoutMs = options.handshakeTimeoutMs;
  options.configure?.(merged);
  return merged;
}

/**
 * A real runtime for one test, with its own state folder, an audit collector, a log
 * collector and state events; closed (every process stopped) and its state folder
 * removed at teardown. Every other option goes to `createRuntime` as it is.
 */
export function testRuntime(t: Test, options: TestRuntimeOptions = {}): TestRuntime {
  const { launchConfig: _base, config: _overrides, handshakeTimeoutMs: _handshake, configure: _configure, stateDir: given, audit: shared, layerOverrides, ...rest } = options;
  const owned = given === undefined ? realpathSync(mkdtempSync(path.join(os.tmpdir(), 'manasvi-test-'))) : undefined;
  const stateDir = given ?? path.join(owned!, 'state');
  const audit = shared ?? new AuditLog();
  const logs: PluginLogLine[] = [];
  const states: StateRecord[] = [];
  const runtime = createRuntimeWith(
    { ...rest, launchConfig: buildConfig(options), stateDir, onAudit: audit.sink, onLog: (entry) => logs.push(entry) },
    layerOverrides ?? {},
  );
  t.teardown(async () => {
    await runtime.close();
    if (owned) rmSync(owned, { recursive: true, force: true });
  });
  const load = async (manifestPath: string) => {
    const handle = await runtime.load(manifestPath);
    handle.on('state', (event) => states.push({ plugin: handle.name, ...event }));
    return handle;
  };
  let echo: Promise<PluginHandle> | undefined;
  return {
    runtime,
    audit,
    logs,
    stateDir,
    states,
    load,
    neighbour: () => (echo ??= load(ECHO_MANIFEST)),
    waitForLog: (text, timeoutMs) =>
      waitFor(`a plugin log line containing ${JSON.stringify(text)}`, () => logs.find((entry) => entry.line.includes(text)), timeoutMs),
    waitForState: (tool, state, since = 0) =>
      waitFor(`${tool} to report ${state}`, () => states.slice(since).find((e) => e.tool === tool && e.state === state)),
  };
}

/** Asserts that the host and its echo neighbour still answer. */
export async function neighbourAnswers(t: Test, rt: TestRuntime): Promise<void> {
  const echo = await rt.neighbour();
  const text = `still here ${Date.now()}`;
  t.same(await echo.call('echo', { text }, { timeoutMs: GENEROUS_MS }), { text }, 'the neighbour plugin still answers');
}
