import { type Capabilities, type SecretEntry, secretEntryName } from '../manifest/manifest-schema.ts';
import type { LocalNames } from '../policy/local-names.ts';
import { hostDenied, localNameReason, specialRangeOf } from '../policy/network-ranges.ts';
import type { ResolvedPolicy } from '../policy/resolved-policy.ts';
import { namesTree, sensitiveTreesTouched } from '../policy/sensitive-paths.ts';
import { injectionScope, readInjection, sameInjection } from '../scopes/injection-scope.ts';
import { networkGrantCovers, wildcardDomain } from '../scopes/network-scope.ts';
import { pathContains, pathsOverlap } from '../scopes/path-scope.ts';
import type { GrantDecision, Grants, SecretInjection } from './grants.ts';

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

/**
 * True when a deny entry refuses `host`: a name or address as hostDenied reads it, or a
 * wildcard `*.domain` refusing every name and wildcard below the domain. A deny entry
 * refuses a host on every port, so a wildcard's own port is not read either.
 */
function denyCovers(deny: string, host: string): boolean {
  const domain = wildcardDomain(deny);
  return domain === null ? hostDenied(host, deny) : networkGrantCovers(`*.${domain}`, host);
}

/**
 * Why `"*"` must not cover a declared wildcard: its domain is a special name, or is
 * or holds a name this machine resolves by itself to itself or a special address (its
 * own host name under `*.corp.example`, a hosts-file name). Null for a public domain.
 */
function wildcardNotPublic(wildcard: string, domain: string, local: LocalNames | undefined): string | null {
  const range = specialRangeOf(domain);
  if (range) return `${range} domain ${domain}`;
  if (!local) return null;
  const own = localNameReason(domain, local);
  if (own) return own;
  for (const name of [...local.ownNames, ...local.hosts.keys()]) {
    // On any port: a local name is the machine's whatever port the wildcard names.
    if (!networkGrantCovers(`*.${domain}`, name)) continue;
    const below = localNameReason(name, local);
    if (below) return `${below}, and "${wildcard}" covers it`;
  }
  return null;
}

function decideNetwork(plugin: string, host: string, p: GrantPolicy): Verdict {
  const policy = p.policy;
  if (policy) {
    const denied = policy.deny.hosts.findIndex((deny) => denyCovers(deny, host));
    if (denied !== -1) return refuse(`policy deny.hosts[${denied}] ("${policy.deny.hosts[denied]}")`);
  }
  if (p.allowDeclared) return ALLOW_DECLARED;
  if (!policy) return NO_POLICY;
  const entries = policy.plugins.get(plugin)?.network ?? [];
  const exact = entries.findIndex((entry) => entry !== '*' && networkGrantCovers(entry, host));
  if (exact !== -1) return grant(`policy plugins.${plugin}.access-network[${exact}] ("${entries[exact]}")`);
  const wildcard = entries.indexOf('*');
  if (wildcard !== -1) {
    const domain = wildcardDomain(host);
    if (domain !== null) {
      const why = wildcardNotPublic(host, domain, p.localNames);
      if (why) return refuse(`${why}: "*" covers public hosts only; name "${host}" in the policy to grant it`);
      return grant(`policy plugins.${plugin}.access-network[${wildcard}] ("*")`);
    }
    const range = specialRangeOf(host);
    if (range) return refuse(`${range} address: "*" covers public hosts only; name "${host}" in the policy to grant it`);
    const local = p.localNames ? localNameReason(host, p.localNames) : null;
    if (local) return refuse(`${local}: "*" covers public hosts only; name "${host}" in the policy to grant it`);
    return grant(`policy plugins.${plugin}.access-network[${wildcard}] ("*")`);
  }
  return refuse(`not in policy plugins.${plugin}.access-network`);
}

/** A declared secret entry as decided: its name, or its injection. */
type DeclaredSecret = { name: string; injection: SecretInjection | null };

/** Every injection a manifest declares (granted or not): what advice names a refused one by. */
export function declaredInjections(declared: ResolvedCapabilities): SecretInjection[] {
  return (declared['access-secret'] ?? []).flatMap((entry) => declaredSecret(entry).injection ?? []);
}

function declaredSecret(entry: SecretEntry): DeclaredSecret {
  return typeof entry === 'string' ? { name: entry, injection: null } : { name: entry.name, injection: readInjection(entry.name, entry.inject) };
}

/**
 * A policy name grants that secret to be read; a policy inject entry grants only the very
 * same injection (host, port, header and format), never reading the value, and a name
 * never grants an injection: each form is the operator's own decision.
 */
function decideSecret(plugin: string, wanted: DeclaredSecret, p: GrantPolicy): Verdict {
  if (p.allowDeclared) return ALLOW_DECLARED;
  if (!p.policy) return NO_POLICY;
  const entries = p.policy.plugins.get(plugin)?.secrets ?? [];
  const field = `policy plugins.${plugin}.access-secret`;
  const { name, injection } = wanted;
  const granting = entries.findIndex((entry) =>
    injection === null ? entry === name : typeof entry !== 'string' && sameInjection(entry, injection));
  if (granting !== -1) return grant(`${field}[${granting}]`);
  const other = entries.findIndex((entry) => (typeof entry === 'string' ? entry : entry.name) === name);
  if (other === -1) return refuse(`not in ${field}`);
  const entry = entries[other]!;
  if (typeof entry === 'string') return refuse(`${field}[${other}] lets ${name} be read, which does not grant injecting it`);
  if (injection === null) return refuse(`${field}[${other}] grants ${name} for injection only (${injectionScope(entry)}), not to be read`);
  return refuse(`${field}[${other}] grants ${name} for another injection (${injectionScope(entry)}, format "${entry.format}"): host, port, header and format must match`);
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
    // Either form: a sandbox naming an inject-only secret is declared, and decided against the grants.
    secrets: (declared['access-secret'] ?? []).map(secretEntryName),
    read: [...(declared['access-filesystem']?.read ?? [])],
    write: [...(declared['access-filesystem']?.write ?? [])],
  };
}

/**
 * Grants = what the manifest declares ∩ what the policy allows. Pure.
 * Returns the grants, one decision per declared scope (each naming the rule that decided),
 * and the secrets granted for injection only: those are in `injections`, never in
 * `grants.secrets`, so no tool can read them.
 */
export function computeGrants(
  declared: ResolvedCapabilities,
  policy: GrantPolicy,
  plugin = '',
): { grants: Grants; decisions: GrantDecision[]; injections: SecretInjection[] } {
  const decisions: GrantDecision[] = [];
  const grants: Grants = { provideTools: false, network: [], secrets: [], read: [], write: [] };
  const injections: SecretInjection[] = [];
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
  for (const entry of declared['access-secret'] ?? []) {
    const wanted = declaredSecret(entry);
    const { injection } = wanted;
    const granted = record('access-secret', injection ? injectionScope(injection) : wanted.name, decideSecret(plugin, wanted, policy));
    if (granted && injection) injections.push(injection);
    else if (granted) grants.secrets.push(wanted.name);
  }
  const fs = declared['access-filesystem'];
  for (const mode of ['read', 'write'] as const) {
    for (const target of fs?.[mode] ?? []) {
      if (record('access-filesystem', `${mode}:${target}`, decidePath(plugin, mode, target, policy))) grants[mode].push(target);
    }
  }
  return { grants, decisions, injections };
}
