import path from 'node:path';
import { type AuditRecord, createRuntime, isPluginRuntimeError, type LaunchConfig, type ToolStateEvent } from '../../runtime/index.ts';
import { type FleetBounds, type FleetResult, measureFleetStart } from './fleet-measure.ts';
import { FLEET_PLUGIN_NAME, writeFleetPlugin } from './fleet-plugin.ts';
import { countBy, snapshotFleet, survivors } from './fleet-processes.ts';
import { type LaunchSeen, launchSeen, toolDenoPid } from './launch-pid.ts';
import { nowMs } from './stats.ts';

const LOG_TAIL_LINES = 20;

export interface RuntimeFleetOptions extends FleetBounds {
  denoPath: string;
  config: LaunchConfig;
  /** A fresh folder for the generated plugin and the runtime's state; the caller removes it. */
  dir: string;
}

/**
 * The runtime's fleet, through the public host API only: a runtime of its own (so its close
 * can be checked to leave nothing behind), one generated plugin with a tool per process,
 * and one call to every tool. Ready = the handle's `ready` state event for that tool; pids
 * come from the launch audit records (RSS and names read from Deno's own pid, which under the
 * sandbox is the launcher's grandchild; both are watched for exit after close).
 */
export async function runRuntimeFleet(options: RuntimeFleetOptions): Promise<FleetResult> {
  const { manifestPath, tools } = writeFleetPlugin(path.join(options.dir, 'plugin'), options.processes);
  const launched: LaunchSeen[] = [];
  const logTail: string[] = [];
  const runtime = createRuntime({
    denoPath: options.denoPath,
    launchConfig: options.config,
    stateDir: path.join(options.dir, 'state'),
    onAudit: (record: AuditRecord) => {
      if (record.type !== 'launch' || record.plugin !== FLEET_PLUGIN_NAME) return;
      const seen = launchSeen(record);
      if (seen) launched.push(seen);
    },
    onLog: ({ tool, line }) => {
      logTail.push(`[${tool}] ${line}`);
      if (logTail.length > LOG_TAIL_LINES) logTail.shift();
    },
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await runtime.close();
  };
  try {
    // Validating, granting and bundling the plugin is not part of the measurement.
    const handle = await runtime.load(manifestPath);
    const readyAt = new Map<string, number>();
    const states: string[] = [];
    handle.on('state', (event: ToolStateEvent) => {
      states.push(event.state);
      if (event.state === 'ready' && !readyAt.has(event.tool)) readyAt.set(event.tool, nowMs());
    });
    const start = await measureFleetStart(
      options,
      () =>
        tools.map((tool) =>
          handle.call(tool, {}, { timeoutMs: options.readyTimeoutMs }).then(
            (value) => {
              if ((value as { tool?: unknown } | null)?.tool !== tool) throw new Error(`${tool} answered ${JSON.stringify(value)}`);
              const at = readyAt.get(tool);
              if (at === undefined) throw new Error(`${tool} answered without a ready event`);
              return at;
            },
            (error: unknown) => {
              throw new Error(`${tool}: ${isPluginRuntimeError(error) ? error.code : 'error'} ${(error as Error).message}`);
            },
          ),
        ),
      () => `${readyAt.size} of ${tools.length} ready; plugin log: ${logTail.join(' | ') || '(none)'}`,
    );

    const pids = new Set(launched.map((launch) => launch.pid));
    if (pids.size !== tools.length) {
      throw new Error(`${pids.size} distinct pids in ${launched.length} launch records for ${tools.length} tools`);
    }
    const denoPids = launched.map(toolDenoPid).filter((pid): pid is number => pid !== null);
    if (denoPids.length !== launched.length) throw new Error(`${launched.length - denoPids.length} of ${launched.length} launched tools have no Deno process after answering`);
    const snapshot = snapshotFleet(denoPids, [...pids]);
    const stopStarted = nowMs();
    await close();
    const stopMs = nowMs() - stopStarted;
    const left = await survivors(snapshot.seen, options.exitTimeoutMs);
    return {
      ...start,
      toolRssMiB: snapshot.rssMiB,
      processNames: snapshot.names,
      stopMs,
      leftRunning: left.running,
      zombies: left.zombies,
      extra: { launches: launched.length, states: countBy(states) },
    };
  } finally {
    await close();
  }
}
