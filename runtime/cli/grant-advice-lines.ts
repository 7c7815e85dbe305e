import { isPluginRuntimeError } from '../index.ts';

/**
 * What to print after a `sandbox_exceeds_grants` error: the policy JSON that would grant
 * exactly what was refused (to use with `--policy FILE`, or to add to the policy given),
 * and what no policy can grant. Empty for any other error.
 */
export function grantAdviceLines(error: unknown): string[] {
  if (!isPluginRuntimeError(error, 'sandbox_exceeds_grants')) return [];
  const advice = error.details?.advice;
  if (!advice) return [];
  const lines: string[] = [];
  if (advice.snippet) {
    lines.push(
      advice.policy === null
        ? 'to grant it, save this as a policy file and pass --policy FILE:'
        : `to grant it, add this entry to ${advice.policy}:`,
      `  ${JSON.stringify(advice.snippet)}`,
    );
  }
  for (const { scope, why } of advice.ungrantable) lines.push(`no policy can grant ${scope}: ${why}`);
  return lines;
}
