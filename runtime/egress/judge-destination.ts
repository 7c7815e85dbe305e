import type { EgressLaunch } from './egress-launch.ts';
import { type EgressRule, matchRule, normaliseHost } from './egress-rules.ts';
import { type VetContext, vetDestination } from './vet-address.ts';

/** A destination the gateway will dial, or why it will not. */
export type Judgement =
  | { ok: true; rule: EgressRule; address: string; family: 4 | 6 }
  | { ok: false; reason: string; address?: string };

/**
 * Judges one connection a tool asked for, in order: a grant of this tool must cover the
 * host and port; the process's budget must admit one more connection; the name, resolved
 * once by the host, must lead to an address the grant may reach. An admitted connection
 * that is then refused gives its place back.
 */
export async function judgeDestination(launch: EgressLaunch, host: string, port: number, context: VetContext): Promise<Judgement> {
  const rule = matchRule(launch.rules, host, port);
  if (!rule) {
    const grants = launch.rules.map((r) => r.entry).join(', ') || 'none';
    return { ok: false, reason: `not granted: ${host}:${port} is covered by none of the tool's network grants (${grants})` };
  }
  const refused = launch.budget.admit();
  if (refused) return { ok: false, reason: refused };
  // The host as the rule matched it: an address in another spelling (`2130706433`) is that address, never a name to look up.
  const vetted = await vetDestination(normaliseHost(host), rule, context);
  if (!vetted.ok) {
    launch.budget.closed();
    return vetted;
  }
  return { ok: true, rule, address: vetted.address, family: vetted.family };
}
