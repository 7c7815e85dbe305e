import type { Capabilities } from '../manifest/manifest-schema.ts';
import type { LocalNames } from '../policy/local-names.ts';
import { hostDenied, localNameReason, specialRangeOf } from '../policy/network-ranges.ts';
import type { ResolvedPolicy } from '../policy/resolved-policy.ts';
import { namesTree, sensitiveTreesTouched } from '../policy/sensitive-paths.ts';
import { networkGrantCovers } from '../scopes/network-scope.ts';
import { pathContains, pathsOverlap } from '../scopes/path-scope.ts';
import type { GrantDecision, Grants } from './grants.ts';

/**
 * What the operator allows. No policy: nothing but `provide-tools`. `allowDeclared`
 * (development) grants everything declared. `protectedPaths` (the runtime's own folders,
 * the secrets file) are never granted, whatever else says so.
 */
export interface GrantPolicy {
  allowDeclared: boolean;
  policy?: ResolvedPolicy | undefined;
  protectedPaths?: readonly string[];
  /** What this machine resolves by itself (hosts file, own names and addresses): never covered by a `"*"` grant. */
  localNames?: LocalNames;
}

/** Declared capabilities with filesystem paths already canonicalised. */
export type ResolvedCapabilities = Omit<Capabilities, 'access-filesystem'> & {
  'access-filesystem'?: { read?: string[]; write?: string[] };
};

type Verdict = { granted: boolean; rule: string };
const grant = (rule: string): Verdict => ({ granted: true, rule });
const refuse = (rule: string): Verdict => ({ granted: false, rule });

const NO_POLICY = refuse('default: nothing but provide-tools without a policy');
const ALLOW_DECLARED = grant('allow-declared (development): everything declared is granted');

function decideNetwork(plugin: string, host: string, p: GrantPolicy): Verdict {
  const policy = p.policy;
  if (policy) {
    const denied = policy.deny.hosts.findIndex((deny) => hostDenied(host, deny));
    if (denied !== -1) return refuse(`policy deny.hosts[${denied}] ("${policy.deny.hosts[denied]}")`);
  }
  if (p.allowDeclared) return ALLOW_DECLARED;
  if (!policy) return NO_POLICY;
  const entries = policy.plugins.get(plugin)?.network ?? [];
  const exact = entries.findIndex((entry) => entry !== '*' && networkGrantCovers(entry, host));
  if (exact !== -1) return grant(`policy plugins.${plugin}.access-network[${exact}] ("${entries[exact]}")`);
  const wildcard = entries.indexOf('*');
  if (wildcard !== -1) {
    const range = specialRangeOf(host);
    if (range) return refuse(`${range} address: "*" covers public hosts only; name "${host}" in the policy to grant it`);
    const local = p.localNames ? localNameReason(host, p.localNames) : null;
    if (local) return refuse(`${local}: "*" covers public hosts only; name "${host}" in the policy to grant it`);
    return grant(`policy plugins.${plugin}.access-network[${wildcard}] ("*")`);
  }
  return refuse(`not in policy plugins.${plugin}.access-network`);
}

function decideSecret(plugin: string, name: string, p: GrantPolicy): Verdict {
  if (p.allowDeclared) return ALLOW_DECLARED;
  if (!p.policy) return NO_POLICY;
  const entries = p.policy.plugins.get(plugin)?.secrets ?? [];
  const index = entries.indexOf(name);
  return index === -1 ? refuse(`not in policy plugins.${plugin}.access-secret`) : grant(`policy plugins.${plugin}.access-secret[${index}]`);
}

/**
 * Trees never granted, like the runtime's own paths. `/proc` because the host
 * canonicalises every path with its own realpath: `/proc/self/…`, `/dev/fd/…` and any
 * symlink into them become the host's `/proc/<host pid>/…` (its environment, memory and
 * open files), and even `/proc` itself holds every process of the host's user.
 */
export const NEVER_GRANTED_TREES: readonly string[] = ['/proc'];

function decidePath(plugin: string, mode: 'read' | 'write', target: string, p: GrantPolicy): Verdict {
  const never = NEVER_GRANTED_TREES.find((tree) => pathsOverlap(target, tree));
  if (never) return refuse(`never granted: ${target} is or holds ${never}, which the host's realpath reads as the host's own process`);
  const protectedPath = (p.protectedPaths ?? []).find((entry) => pathsOverlap(target, entry));
  if (protectedPath) return refuse(`runtime-protected path ${protectedPath} is never granted`);
  const policy = p.policy;
  if (policy) {
    const denied = policy.deny.paths.findIndex((deny) => pathsOverlap(target, deny));
    if (denied !== -1) return refuse(`policy deny.paths[${denied}] ("${policy.deny.paths[denied]}")`);
  }
  if (p.allowDeclared) return ALLOW_DECLARED;
  if (!policy) return NO_POLICY;
  const entries = policy.plugins.get(plugin)?.[mode] ?? [];
  const index = entries.findIndex((entry) => pathContains(entry, target));
  if (index === -1) return refuse(`not inside policy plugins.${plugin}.access-filesystem.${mode}`);
  const entry = entries[index]!;
  const unnamed = sensitiveTreesTouched(target).find((tree) => !namesTree(entry, tree) && entry !== target);
  if (unnamed) return refuse(`sensitive path: ${target} touches ${unnamed}, which the policy does not name`);
  return grant(`policy plugins.${plugin}.access-filesystem.${mode}[${index}] ("${entry}")`);
}

/**
 * Every declared scope as if granted, with no rule applied (not even the never-granted
 * trees): the manifest's own ceiling, against which a tool sandbox is checked for asking
 * more than its plugin declares. Pure.
 */
export function declaredScopes(declared: ResolvedCapabilities): Grants {
  return {
    provideTools: declared['provide-tools'] === true,
    network: [...(declared['access-network'] ?? [])],
    secrets: [...(declared['access-secret'] ?? [])],
    read: [...(declared['access-filesystem']?.read ?? [])],
    write: [...(declared['access-filesystem']?.write ?? [])],
  };
}

/**
 * Grants = what the manifest declares ∩ what the policy allows. Pure.
 * Returns the grants and one decision per declared scope, each naming the rule that decided.
 */
export function computeGrants(
  declared: ResolvedCapabilities,
  policy: GrantPolicy,
  plugin = '',
): { grants: Grants; decisions: GrantDecision[] } {
  const decisions: GrantDecision[] = [];
  const grants: Grants = { provideTools: false, network: [], secrets: [], read: [], write: [] };
  const record = (capability: GrantDecision['capability'], scope: string, verdict: Verdict): boolean => {
    decisions.push({ capability, scope, ...verdict });
    return verdict.granted;
  };

  if (declared['provide-tools'] === true) {
    const allowed = policy.policy?.plugins.get(plugin)?.provideTools ?? true;
    grants.provideTools = record(
      'provide-tools',
      '*',
      allowed ? grant('default: provide-tools is granted when declared') : refuse(`policy plugins.${plugin}.provide-tools is false`),
    );
  }
  for (const host of declared['access-network'] ?? []) {
    if (record('access-network', host, decideNetwork(plugin, host, policy))) grants.network.push(host);
  }
  for (const name of declared['access-secret'] ?? []) {
    if (record('access-secret', name, decideSecret(plugin, name, policy))) grants.secrets.push(name);
  }
  const fs = declared['access-filesystem'];
  for (const mode of ['read', 'write'] as const) {
    for (const target of fs?.[mode] ?? []) {
      if (record('access-filesystem', `${mode}:${target}`, decidePath(plugin, mode, target, policy))) grants[mode].push(target);
    }
  }
  return { grants, decisions };
}
