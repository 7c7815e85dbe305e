import type { GrantDecision, SecretInjection } from './grants.ts';
import { injectionScope } from '../scopes/injection-scope.ts';
import type { GrantAdvice } from '../errors.ts';

/** Rules no policy entry can overturn: the runtime's own paths, `/proc`, and the policy's own denies. */
function hardRefusal(rule: string): boolean {
  return rule.startsWith('never granted') || rule.startsWith('runtime-protected') || rule.startsWith('policy deny.');
}

/**
 * How an operator could grant what a load was refused: the policy entries that would
 * grant exactly the declared scopes the policy refused, and the scopes no policy can
 * grant (with the rule that says so). Never suggests a grant the host would still
 * refuse: a sensitive path is suggested by its exact name, which is what the rule asks for.
 *
 * @param plugin the plugin's name (its key under `plugins`)
 * @param decisions the load's decisions, each with its rule
 * @param policySource the policy file (or label) in force, or null when none was given
 * @param allowDeclared true under `--allow-declared`, where only the host's own refusals remain
 * @param injections the injections the manifest declares: a refused one is suggested as the very inject entry that grants it
 */
export function grantAdvice(
  plugin: string,
  decisions: readonly GrantDecision[],
  policySource: string | null,
  allowDeclared = false,
  injections: readonly SecretInjection[] = [],
): GrantAdvice {
  const network = new Set<string>();
  const secrets = new Set<string | { name: string; inject: { host: string; header: string; format: string } }>();
  const byScope = new Map(injections.map((injection) => [injectionScope(injection), injection]));
  const paths = { read: new Set<string>(), write: new Set<string>() };
  const ungrantable: GrantAdvice['ungrantable'] = [];
  for (const decision of decisions) {
    if (decision.granted || decision.capability === 'provide-tools') continue;
    if (hardRefusal(decision.rule)) {
      ungrantable.push({ scope: `${decision.capability} ${decision.scope}`, why: decision.rule });
      continue;
    }
    if (decision.capability === 'access-network') network.add(decision.scope);
    else if (decision.capability === 'access-secret') {
      const injection = byScope.get(decision.scope);
      secrets.add(injection ? { name: injection.name, inject: { host: `${injection.host}:${injection.port}`, header: injection.header, format: injection.format } } : decision.scope);
    }
    else {
      const [mode, ...rest] = decision.scope.split(':') as ['read' | 'write', ...string[]];
      paths[mode].add(rest.join(':'));
    }
  }
  const entry: Record<string, unknown> = {};
  if (network.size > 0) entry['access-network'] = [...network];
  if (secrets.size > 0) entry['access-secret'] = [...secrets];
  if (paths.read.size > 0 || paths.write.size > 0) {
    entry['access-filesystem'] = {
      ...(paths.read.size > 0 ? { read: [...paths.read] } : {}),
      ...(paths.write.size > 0 ? { write: [...paths.write] } : {}),
    };
  }
  const snippet = Object.keys(entry).length > 0 ? { plugins: { [plugin]: entry } } : null;
  const summary = allowDeclared
    ? 'allow-declared grants everything declared, but never what the host itself refuses'
    : policySource === null
      ? 'no policy was given; only provide-tools is granted by default'
      : `the policy (${policySource}) does not grant it`;
  return { policy: policySource, summary, snippet, ungrantable };
}
