import { createRuntimeWith } from '../../host/create-runtime.ts';
import type { LayerOverrides } from '../../host/layer-overrides.ts';
import { ESCAPES, type Escape, type EscapeContext, type EscapeOutcome } from './escape-catalogue.ts';
import type { ProbeWorkspace } from './probe-workspace.ts';

/** The three ways the escapes are tried, each proving something different. */
export const ROUNDS = {
  /** Deno's flags in force, no namespaces: Deno's permissions on their own. */
  deno: { withoutNamespaces: true },
  /** Deno's flags stripped, under the OS layers: the OS layers on their own. */
  os: { stripDenoPermissions: true },
  /** Deno's flags stripped and no namespaces, the egress gateway alone under the networked tool. */
  gateway: { stripDenoPermissions: true, withoutNamespaces: true },
  /** Deno's flags stripped, no namespaces, no egress gateway: every escape must get through, or the probe proves nothing. */
  control: { stripDenoPermissions: true, withoutNamespaces: true, withoutEgressGateway: true },
} as const satisfies Record<string, LayerOverrides>;

export type RoundName = keyof typeof ROUNDS;

export interface EscapeResult {
  escape: Escape;
  escaped: boolean;
  outcome: EscapeOutcome;
}

export interface RoundResult {
  round: RoundName;
  results: EscapeResult[];
  /** `/proc/self/limits` as the probe process saw it (null where it could not read it). */
  limits: string | null;
  /** `/proc/self/status` as the probe process saw it: its capabilities and seccomp mode (null where it could not read it). */
  status: string | null;
  /** What the networked tool got from the server it is granted: the way through the gateway works. */
  grantedReach: EscapeOutcome;
}

/** Runs every escape once under `round`'s layers, in a runtime of its own (its state folder beside the workspace). */
export async function runRound(workspace: ProbeWorkspace, round: RoundName): Promise<RoundResult> {
  const staged = workspace.stageEscaper();
  const runtime = createRuntimeWith(
    {
      stateDir: workspace.stateDir(),
      policy: { plugins: { escaper: { 'access-filesystem': { read: [staged.readable], write: [staged.writable] }, 'access-network': [workspace.grantedHostPort] } } },
      onLog: () => {},
    },
    ROUNDS[round],
  );
  try {
    const plugin = await runtime.load(staged.manifest);
    const call = async (tool: string, args: Record<string, string>) => (await plugin.call(tool, args)) as EscapeOutcome;
    // The sibling the last escape aims at, started first; its own call reads the limits it runs under.
    const limits = await call('granted', { action: 'limits' });
    const status = await call('granted', { action: 'read', target: '/proc/self/status' });
    const grantedReach = await call('networked', { action: 'fetch', target: workspace.grantedHostPort }).catch((error: Error) => ({ allowed: false, error: 'call failed', message: error.message }));
    const context: EscapeContext = { workspace, staged, siblingPid: plugin.pids('granted')[0] ?? -1 };
    const results: EscapeResult[] = [];
    for (const escape of ESCAPES) {
      workspace.resetCounters();
      const outcome = await call(escape.tool, escape.args(context)).catch((error: Error) => ({ allowed: false, error: 'call failed', message: error.message }));
      results.push({ escape, escaped: await escape.escaped(outcome, context), outcome });
    }
    const text = (outcome: EscapeOutcome) => (outcome.allowed ? String(outcome.value) : null);
    return { round, results, limits: text(limits), status: text(status), grantedReach };
  } finally {
    await runtime.close();
  }
}
