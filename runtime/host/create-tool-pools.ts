import type { AuditFields } from '../audit/audit-record.ts';
import type { CapabilityTokens } from '../capabilities/capability-tokens.ts';
import { readSecret, StoreReadSlots } from '../capabilities/secret-gate.ts';
import type { SecretStore } from '../capabilities/secret-store.ts';
import { grantAuthority } from '../channel/channel-gate.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { checkGrantedTrees } from '../grants/check-granted-trees.ts';
import { octalMode, SetIdSweeper } from '../grants/setid-sweep.ts';
import type { TokenRegistry } from '../handshake/token-registry.ts';
import type { SpawnPacer } from '../supervisor/spawn-pacer.ts';
import { ToolPool } from '../supervisor/tool-pool.ts';
import { ToolProcess } from '../supervisor/tool-process.ts';
import type { ToolState } from '../supervisor/tool-states.ts';
import type { PreparedPlugin } from './prepare-plugin.ts';
import type { RuntimeEgress } from './runtime-egress.ts';

/** A state change of one tool of a plugin, as the handle emits it. */
export interface ToolStateEvent {
  tool: string;
  state: ToolState;
  launchId?: string;
  reason?: string;
}

export interface ToolPoolDeps {
  config: LaunchConfig;
  /** Where each tool process gets its own DENO_DIR, created at spawn and removed at exit. */
  processStorageDir: string;
  pacer: SpawnPacer;
  tokens: TokenRegistry;
  capabilityTokens: CapabilityTokens;
  secrets: SecretStore;
  audit: (fields: AuditFields) => void;
  /** Admits each launch of a tool with network grants to the egress gateway. */
  egress?: RuntimeEgress | undefined;
  onLog: (tool: string, launchId: string, line: string) => void;
  onState: (event: ToolStateEvent) => void;
}

/** One pool per tool of a prepared plugin, each creating processes with exactly that tool's grants. */
export function createToolPools(prepared: PreparedPlugin, deps: ToolPoolDeps): Map<string, ToolPool> {
  const plugin = prepared.manifest.name;
  const { limits } = prepared;
  const pools = new Map<string, ToolPool>();
  for (const tool of prepared.tools) {
    const emit = (event: ToolStateEvent) => {
      // Every state change is audited (issue 4: the handle's state events "go to the audit
      // log"), busy/idle included: they mark when a tool's code was running.
      deps.audit({ type: 'state', plugin, tool: tool.name, state: event.state, launchId: event.launchId, reason: event.reason });
      deps.onState(event);
    };
    const create = () => {
      try {
        checkGrantedTrees(tool.grants);
      } catch (error) {
        deps.audit({ type: 'grant_refused', plugin, tool: tool.name, reason: (error as Error).message });
        throw error;
      }
      const storeReads = new StoreReadSlots(deps.config.limits.secretReadsInFlight);
      // A process that may write sweeps its writable trees for set-id files while it lives.
      let sweeper: SetIdSweeper | undefined;
      const toolProcess: ToolProcess = new ToolProcess({
        plugin,
        tool: tool.name,
        grants: tool.grants,
        argv: tool.argv,
        command: [tool.command[0]!, tool.command.slice(1)],
        storageRoot: deps.processStorageDir,
        rssMb: limits.rssMb,
        config: deps.config,
        tokens: deps.tokens,
        capabilityTokens: (launchId) => deps.capabilityTokens.forSecrets(launchId, tool.grants.secrets),
        // The channel gate checks the plugin's grants, then the sandbox's, then the token.
        authority: (launchId) =>
          grantAuthority(prepared.grants, tool.grants, (capability, scope, token) =>
            deps.capabilityTokens.verify(launchId, capability, scope ?? '', token),
          ),
        readSecret: (request, live) => readSecret(request, { plugin, tool: tool.name, storeReads, ...live }, deps.secrets),
        audit: deps.audit,
        onLog: (line, launchId) => deps.onLog(tool.name, launchId, line),
        onEvent: (state, detail) => {
          if (state === 'starting') sweeper?.start();
          if (state === 'stopped' || state === 'crashed') sweeper?.stop();
          emit({ tool: tool.name, state, ...detail });
        },
        onSettled: () => sweeper?.sweep(),
        ...(tool.network.via === 'gateway' && deps.egress
          ? {
              egress: (launchId, hooks) =>
                deps.egress!.lease({ plugin, tool: tool.name, rules: tool.network.rules, injections: tool.network.injections, limits: limits.egress }, launchId, hooks),
            }
          : {}),
      });
      if (tool.grants.write.length > 0) {
        const fields = () => ({ plugin, tool: tool.name, launchId: toolProcess.launchId });
        sweeper = new SetIdSweeper({
          roots: tool.grants.write,
          intervalMs: deps.config.toolProcess.setidSweepIntervalMs,
          onStrip: (strip) =>
            deps.audit({ type: 'setid_stripped', ...fields(), path: strip.path, oldMode: octalMode(strip.oldMode), newMode: octalMode(strip.newMode) }),
          onIncomplete: () => {
            deps.audit({ type: 'setid_sweep_incomplete', ...fields(), reason: 'a writable tree is past the entries the host sweeps' });
            void toolProcess.stop('writable tree too large to sweep for set-id files');
          },
        });
      }
      return toolProcess;
    };
    pools.set(
      tool.name,
      new ToolPool({
        tool: tool.name,
        idleMs: limits.idleMs,
        maxConcurrent: limits.maxConcurrent,
        maxQueued: limits.maxQueued,
        maxProcesses: limits.maxProcesses,
        restart: deps.config.restart,
        pacer: deps.pacer,
        create,
        onEvent: (state, detail) => emit({ tool: tool.name, state, ...(detail.reason ? { reason: detail.reason } : {}) }),
      }),
    );
  }
  return pools;
}
