import { fileURLToPath } from 'node:url';
import { createRuntimeWith } from '../../runtime/host/create-runtime.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import {
  type AuditRecord,
  type LaunchConfig,
  type PluginHandle,
  type Runtime,
  type ToolStateEvent,
} from '../../runtime/index.ts';
import { ECHO_ARGS, type ColdStart, type EchoProcess, type EchoSide } from './echo-side.ts';
import { type LaunchSeen, launchSeen, toolDenoPid } from './launch-pid.ts';
import { nowMs } from './stats.ts';

const ECHO_MANIFEST = fileURLToPath(new URL('../../manifests/examples/echo/manifest.json', import.meta.url));
const LOG_TAIL_LINES = 20;

export interface RuntimeSideOptions {
  denoPath: string;
  config: LaunchConfig;
  /** The runtime's state folder (bundles, Deno cache): the bench's own, fresh. */
  stateDir: string;
  /** Layers taken away, for the rows that compare a runtime with and without them. */
  overrides?: LayerOverrides;
}

export interface RuntimeSide extends EchoSide {
  /** The runtime itself, for sections that measure more than one echo process. */
  readonly runtime: Runtime;
  /** Loads the echo example afresh: a new handle whose tool process starts on first call. */
  loadEcho(): Promise<PluginHandle>;
}

interface LaunchTimes {
  launch: LaunchSeen | null;
  launchedAt: number;
  helloAt: number | null;
}

/**
 * The runtime side: the echo example plugin through the public host API. Each cold start
 * loads the plugin afresh (validate, grant, bundle — not timed; the bundle is cached by
 * content hash after the first) and times its first call, which starts the tool process.
 * Pids and handshake times come from the audit records and readiness from the handle's
 * `state` events, as an operator would see them; the pid is Deno's own (under the sandbox
 * the launch record's is the launcher's), so RSS and CPU readings are of the tool.
 */
export function runtimeSide({ denoPath, config, stateDir, overrides = {} }: RuntimeSideOptions): RuntimeSide {
  const launches = new Map<string, LaunchTimes>();
  let lastLaunchId: string | null = null;
  const logTail: string[] = [];
  const onAudit = (record: AuditRecord): void => {
    const at = nowMs();
    if (record.type === 'launch' && record.launchId) {
      launches.set(record.launchId, { launch: launchSeen(record), launchedAt: at, helloAt: null });
      lastLaunchId = record.launchId;
    } else if (record.type === 'handshake_ok' && record.launchId) {
      const seen = launches.get(record.launchId);
      if (seen) seen.helloAt = at;
    }
  };
  const runtime = createRuntimeWith({
    denoPath,
    launchConfig: config,
    stateDir,
    onAudit,
    onLog: ({ tool, line }) => {
      logTail.push(`[${tool}] ${line}`);
      if (logTail.length > LOG_TAIL_LINES) logTail.shift();
    },
  }, overrides);
  const loadEcho = () => runtime.load(ECHO_MANIFEST);

  return {
    label: 'runtime',
    runtime,
    loadEcho,
    async coldStart(): Promise<ColdStart> {
      const handle = await loadEcho();
      lastLaunchId = null;
      const ready: { at: number | null } = { at: null };
      const onState = (event: ToolStateEvent) => {
        if (event.state !== 'ready') return;
        ready.at = nowMs();
        handle.off('state', onState); // no listener left on the measured calls' path
      };
      handle.on('state', onState);
      const started = nowMs();
      await handle.call('echo', ECHO_ARGS);
      const firstResultMs = nowMs() - started;
      const seen = lastLaunchId === null ? undefined : launches.get(lastLaunchId);
      if (!seen || seen.launch === null || seen.helloAt === null || ready.at === null) {
        throw new Error(`no launch/handshake_ok audit records or ready event for the echo process; plugin log: ${logTail.join(' | ') || '(none)'}`);
      }
      const pid = toolDenoPid(seen.launch);
      if (pid === null) throw new Error(`no Deno process under the launched pid ${seen.launch.pid} after the first call; plugin log: ${logTail.join(' | ') || '(none)'}`);
      const process: EchoProcess = {
        pid,
        echo: () => handle.call('echo', ECHO_ARGS),
        stop: () => handle.close(),
      };
      return { process, startedAt: started, helloMs: seen.helloAt - started, readyMs: ready.at - started, firstResultMs };
    },
    close: () => runtime.close(),
  };
}
