/**
 * Shared set-up for the supervisor tests: a runtime that is always closed, a well-behaved
 * neighbour (the echo example), and waits on real events with generous deadlines.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import {
  type AuditRecord,
  createRuntime,
  type LaunchConfig,
  loadLaunchConfig,
  type PluginHandle,
  type PluginLogLine,
  type PolicyInput,
  type Runtime,
  type ToolStateEvent,
} from '../../runtime/index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../..');
export const FIXTURES = path.join(REPO, 'tests/fixtures/supervisor');
export const MISBEHAVE_DIR = path.join(FIXTURES, 'misbehave');
export const ECHO_MANIFEST = path.join(REPO, 'manifests/examples/echo/manifest.json');

/** The manifest of one fixture plugin in the misbehave folder, by plugin name. */
export function fixture(name: string): string {
  return path.join(MISBEHAVE_DIR, `${name}.json`);
}

/** Anything a deadline is generous about: the machine has 2 shared cores and tests run in parallel. */
export const GENEROUS_MS = 60_000;

type DeepPartialConfig = { [K in keyof LaunchConfig]?: Partial<LaunchConfig[K]> };

/** The package's deno-launch.json with some numbers changed for one test. */
export function launchConfig(overrides: DeepPartialConfig = {}): LaunchConfig {
  const base = loadLaunchConfig();
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    merged[key] = { ...(base as unknown as Record<string, object>)[key], ...value };
  }
  return merged as unknown as LaunchConfig;
}

export interface Harness {
  runtime: Runtime;
  audit: AuditRecord[];
  logs: PluginLogLine[];
  /** Every state event of every plugin loaded through {@link Harness.load}. */
  states: (ToolStateEvent & { plugin: string })[];
  load(manifestPath: string): Promise<PluginHandle>;
  /** The echo example, loaded once: the well-behaved neighbour. */
  neighbour(): Promise<PluginHandle>;
}

/** A runtime closed in teardown, recording audit records, stderr lines and state events. */
export function harness(
  t: Test,
  options: { config?: DeepPartialConfig; policy?: PolicyInput; stateDir?: string; onLog?: (entry: PluginLogLine) => void } = {},
): Harness {
  const audit: AuditRecord[] = [];
  const logs: PluginLogLine[] = [];
  const states: Harness['states'] = [];
  const runtime = createRuntime({
    launchConfig: launchConfig(options.config),
    ...(options.policy ? { policy: options.policy } : {}),
    ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    onAudit: (record) => audit.push(record),
    onLog: (entry) => {
      logs.push(entry);
      options.onLog?.(entry);
    },
  });
  t.teardown(() => runtime.close());
  let echo: Promise<PluginHandle> | undefined;
  const load = async (manifestPath: string) => {
    const handle = await runtime.load(manifestPath);
    handle.on('state', (event) => states.push({ plugin: handle.name, ...event }));
    return handle;
  };
  return {
    runtime,
    audit,
    logs,
    states,
    load,
    neighbour: () => (echo ??= load(ECHO_MANIFEST)),
  };
}

/** Asserts that the host and the echo neighbour still answer. */
export async function neighbourAnswers(t: Test, h: Harness): Promise<void> {
  const echo = await h.neighbour();
  const text = `still here ${Date.now()}`;
  t.same(await echo.call('echo', { text }, { timeoutMs: GENEROUS_MS }), { text }, 'the neighbour plugin still answers');
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = GENEROUS_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * True while `pid` is a live process. A zombie counts as gone: it runs no code, and in a
 * container nothing may ever reap an orphan's zombie.
 */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    if (process.platform === 'linux') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

/** Waits until every pid has gone. */
export async function waitGone(pids: number[], timeoutMs = GENEROUS_MS): Promise<void> {
  await waitFor(`pids ${pids.join(', ')} to exit`, () => pids.every((pid) => !isAlive(pid)), timeoutMs);
}

/** The settled outcome of a call: its value, or its error's code and details. */
export async function outcome(
  call: Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; code: string; details: Record<string, unknown> }> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    const e = error as { code?: string; details?: Record<string, unknown> };
    return { ok: false, code: e.code ?? String(error), details: e.details ?? {} };
  }
}

/** The one pid a tool runs under right now (it has exactly one live process). */
export async function onlyPid(handle: PluginHandle, tool: string): Promise<number> {
  return waitFor(`one live process of ${tool}`, () => {
    const pids = handle.pids(tool);
    return pids.length === 1 ? pids[0] : undefined;
  });
}

/** Waits for a state event of `tool` (after `since` events, to skip earlier ones). */
export async function waitForState(h: Harness, tool: string, state: ToolStateEvent['state'], since = 0): Promise<ToolStateEvent> {
  return waitFor(`${tool} to report ${state}`, () => h.states.slice(since).find((e) => e.tool === tool && e.state === state));
}

/** Asserts that `list` holds exactly one item matching `pattern`. */
export function matchOne(t: Test, list: readonly unknown[], pattern: object, message = 'exactly one match'): void {
  t.equal(list.length, 1, `${message} (${list.length} found)`);
  t.match(list[0], pattern, message);
}
