import type { Capabilities } from '../manifest/manifest-schema.ts';
import type { GrantDecision, Grants } from './grants.ts';

/**
 * What the operator allows. This is the development-era policy: the default grants
 * nothing but `provide-tools`; `allowDeclared` grants everything the manifest declares.
 */
export interface GrantPolicy {
  allowDeclared: boolean;
}

/** Declared capabilities with filesystem paths already canonicalised. */
export type ResolvedCapabilities = Omit<Capabilities, 'access-filesystem'> & {
  'access-filesystem'?: { read?: string[]; write?: string[] };
};

/**
 * Grants = what the manifest declares ∩ what the policy allows. Pure.
 * Returns the grants and one decision per declared scope, each naming its rule.
 */
export function computeGrants(
  declared: ResolvedCapabilities,
  policy: GrantPolicy,
): { grants: Grants; decisions: GrantDecision[] } {
  const decisions: GrantDecision[] = [];
  const grants: Grants = { provideTools: false, network: [], secrets: [], read: [], write: [] };
  const decide = (capability: GrantDecision['capability'], scope: string, always = false): boolean => {
    const granted = always || policy.allowDeclared;
    const rule = always
      ? 'default: provide-tools is granted when declared'
      : granted
        ? 'allow-declared (development): everything declared is granted'
        : 'default: nothing but provide-tools without a policy';
    decisions.push({ capability, scope, granted, rule });
    return granted;
  };

  if (declared['provide-tools'] === true) grants.provideTools = decide('provide-tools', '*', true);
  for (const host of declared['access-network'] ?? []) if (decide('access-network', host)) grants.network.push(host);
  for (const name of declared['access-secret'] ?? []) if (decide('access-secret', name)) grants.secrets.push(name);
  const fs = declared['access-filesystem'];
  for (const p of fs?.read ?? []) if (decide('access-filesystem', `read:${p}`)) grants.read.push(p);
  for (const p of fs?.write ?? []) if (decide('access-filesystem', `write:${p}`)) grants.write.push(p);
  return { grants, decisions };
}
