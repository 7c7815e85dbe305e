import { createRuntimeWith } from '../../runtime/host/create-runtime.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import type { AuditRecord, LaunchConfig, PluginHandle } from '../../runtime/index.ts';
import { sandboxedToolPid } from '../../runtime/launch/sandbox/sandboxed-pid.ts';
import { type FetchLoopArgs, type FetchLoopResult, EGRESS_PLUGIN_NAME, FETCH_TOOL } from './egress-plugin.ts';
import { descendantPids } from './proc-descendants.ts';
import { readProcessName } from './proc-rss.ts';
import { readProcStatFields } from './proc-stat.ts';
import { nowMs } from './stats.ts';

const LOG_TAIL_LINES = 20;

/**
 * The three ways the egress section's tool reaches the origin, each a runtime of its own:
 * `gateway` is the default (sandbox, a network namespace of its own, the Perl forwarder
 * bridging it to the gateway's Unix socket, the gateway); `hostGateway` takes the sandbox
 * away (the tool in the host's network, its proxy variables naming the gateway's TCP port),
 * so the gateway is measured without the bridge; `direct` takes the gateway away too (no
 * proxy variables: Deno fetches the origin itself).
 *
 * There is no side with the sandbox but without the gateway: the bridged namespace has no
 * way out but the gateway, and its launcher refuses to start without the proxy credential
 * (its DNS reports carry it), so such a tool never starts.
 */
export type EgressLabel = 'gateway' | 'hostGateway' | 'direct';
export const EGRESS_LABELS: readonly EgressLabel[] = ['gateway', 'hostGateway', 'direct'];

export const EGRESS_OVERRIDES: Record<EgressLabel, LayerOverrides> = {
  gateway: {},
  hostGateway: { withoutNamespaces: true },
  direct: { withoutNamespaces: true, withoutEgressGateway: true },
};

/** One warm process of the networked tool. */
export interface NetworkedTool {
  /** Deno's own pid (under the sandbox, the launcher's grandchild). */
  readonly pid: number;
  /** The bridge's forwarder (`gateway` side only), for its CPU time. */
  readonly forwarderPid: number | null;
  fetch(args: FetchLoopArgs): Promise<FetchLoopResult>;
  stop(): Promise<void>;
}

/** A fresh load and first call, in ms from just before the load. */
export interface NetworkedColdStart {
  tool: NetworkedTool;
  loadMs: number;
  /** From the load's start to the first call's result (which started the process and did one fetch). */
  firstResultMs: number;
}

/** One CONNECT tunnel the gateway relayed, from its record (written when the tunnel closed). */
export interface TunnelRecord {
  launchId: string;
  port: number;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
}

/** The gateway's `egress` records for one side so far. */
export interface EgressSeen {
  /** Plain requests forwarded (one record each). */
  requests: number;
  /** CONNECT tunnels relayed (one record each, when the tunnel closes). */
  tunnels: TunnelRecord[];
  /** Every refusal's rule. */
  refused: string[];
}

export interface EgressSide {
  readonly label: EgressLabel;
  /** Loads the plugin afresh and makes its first call: a new process that fetches once. */
  coldStart(args: FetchLoopArgs): Promise<NetworkedColdStart>;
  readonly egress: EgressSeen;
  close(): Promise<void>;
}

export interface EgressSideOptions {
  label: EgressLabel;
  denoPath: string;
  config: LaunchConfig;
  stateDir: string;
  manifestPath: string;
  /** `127.0.0.1:<port>` of each origin, granted by the policy. */
  hostPorts: readonly string[];
  /** The gateway's per-call budget, raised to what the plan's biggest call needs: this measures speed, not the budget. */
  limits: { connectionsPerCall: number; bytesPerCall: number };
}

/**
 * A runtime under `label`'s overrides with a policy naming the origins exactly (a loopback
 * address reaches the gateway's dial only when the operator named it), through the host API.
 */
export function egressSide(options: EgressSideOptions): EgressSide {
  const egress: EgressSeen = { requests: 0, tunnels: [], refused: [] };
  const logTail: string[] = [];
  const runtime = createRuntimeWith(
    {
      denoPath: options.denoPath,
      launchConfig: options.config,
      stateDir: options.stateDir,
      policy: {
        plugins: {
          [EGRESS_PLUGIN_NAME]: {
            'access-network': [...options.hostPorts],
            limits: { egressConnectionsPerCall: options.limits.connectionsPerCall, egressBytesPerCall: options.limits.bytesPerCall },
          },
        },
      },
      onAudit: (record: AuditRecord) => {
        if (record.type !== 'egress') return;
        if (record.decision !== 'allowed') egress.refused.push(record.rule);
        else if (record.kind === 'connect') {
          const { launchId = '', port, bytesUp = 0, bytesDown = 0, durationMs = 0 } = record;
          egress.tunnels.push({ launchId, port, bytesUp, bytesDown, durationMs });
        } else egress.requests++;
      },
      onLog: ({ line }) => {
        logTail.push(line);
        if (logTail.length > LOG_TAIL_LINES) logTail.shift();
      },
    },
    EGRESS_OVERRIDES[options.label],
  );
  const failed = (error: unknown) =>
    new Error(`${options.label} side: ${error instanceof Error ? error.message : String(error)}; plugin log: ${logTail.join(' | ') || '(none)'}`);
  const call = async (handle: PluginHandle, args: FetchLoopArgs) => {
    try {
      return (await handle.call(FETCH_TOOL, args)) as FetchLoopResult;
    } catch (error) {
      throw failed(error);
    }
  };

  return {
    label: options.label,
    egress,
    async coldStart(args) {
      const started = nowMs();
      const handle = await runtime.load(options.manifestPath);
      const loadMs = nowMs() - started;
      await call(handle, args);
      const firstResultMs = nowMs() - started;
      // Under the sandbox the runtime's pid is the launcher's; Deno and the forwarder are below it.
      const spawned = handle.pids(FETCH_TOOL)[0];
      const sandboxed = options.label === 'gateway';
      const pid = spawned === undefined ? null : sandboxed ? sandboxedToolPid(spawned) : spawned;
      if (spawned === undefined || pid === null) throw failed('no pid for the tool process after its first call');
      const tool: NetworkedTool = {
        pid,
        forwarderPid: sandboxed ? bridgeForwarderPid(spawned, pid) : null,
        fetch: (each) => call(handle, each),
        stop: () => handle.close(),
      };
      return { tool, loadMs, firstResultMs };
    },
    close: () => runtime.close(),
  };
}

const parentOf = (pid: number): number | null => {
  const parent = Number(readProcStatFields(pid)?.[1]);
  return Number.isInteger(parent) && parent > 0 ? parent : null;
};

/**
 * The bridge's forwarder: the sandbox launcher's other child (besides pid 1 inside, Deno's
 * parent), a Perl process with no children of its own.
 */
function bridgeForwarderPid(launcherPid: number, denoPid: number): number | null {
  const inner = parentOf(denoPid);
  const others = descendantPids(launcherPid).filter((pid) => pid !== inner && parentOf(pid) === launcherPid && readProcessName(pid) === 'perl');
  return others.length === 1 ? others[0]! : null;
}
