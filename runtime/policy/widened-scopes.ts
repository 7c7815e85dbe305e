import type { Manifest } from '../manifest/manifest-schema.ts';

/** One scope an updated manifest asks for that the approved one did not. */
export interface WidenedScope {
  /** `capabilities` for the plugin's ceiling, or `tools.<name>.sandbox` for a tool. */
  where: string;
  capability: 'provide-tools' | 'access-network' | 'access-secret' | 'access-filesystem' | 'tool' | 'name';
  scope: string;
}

function scopesOf(capabilities: Manifest['capabilities']): Map<string, WidenedScope['capability']> {
  const scopes = new Map<string, WidenedScope['capability']>();
  if (capabilities['provide-tools']) scopes.set('provide-tools', 'provide-tools');
  for (const host of capabilities['access-network'] ?? []) scopes.set(`net:${host}`, 'access-network');
  for (const name of capabilities['access-secret'] ?? []) scopes.set(`secret:${name}`, 'access-secret');
  for (const p of capabilities['access-filesystem']?.read ?? []) scopes.set(`read:${p}`, 'access-filesystem');
  for (const p of capabilities['access-filesystem']?.write ?? []) scopes.set(`write:${p}`, 'access-filesystem');
  return scopes;
}

function sandboxScopesOf(tool: Manifest['tools'][string]): Map<string, WidenedScope['capability']> {
  const sandbox = tool.sandbox ?? {};
  return scopesOf({
    'access-network': sandbox.network,
    'access-secret': sandbox.secrets,
    'access-filesystem': sandbox.filesystem,
  });
}

function added(
  before: Map<string, WidenedScope['capability']>,
  after: Map<string, WidenedScope['capability']>,
  where: string,
): WidenedScope[] {
  return [...after].filter(([key]) => !before.has(key)).map(([key, capability]) => ({
    where,
    capability,
    scope: key.replace(/^(net|secret):/, ''),
  }));
}

/**
 * What an update would widen: every capability scope, tool, and tool-sandbox scope in
 * `updated` that `approved` did not have. Pure; compares declarations as written (paths
 * relative to each manifest's folder), so moving a plugin does not hide a change.
 */
export function widenedScopes(approved: Manifest, updated: Manifest): WidenedScope[] {
  const widened = added(scopesOf(approved.capabilities), scopesOf(updated.capabilities), 'capabilities');
  // A new name picks up another plugin's policy entry: as wide a change as any.
  if (approved.name !== updated.name) widened.push({ where: 'name', capability: 'name', scope: `${approved.name} → ${updated.name}` });
  for (const [name, tool] of Object.entries(updated.tools)) {
    const before = approved.tools[name];
    if (!before) widened.push({ where: `tools.${name}`, capability: 'tool', scope: name });
    widened.push(...added(before ? sandboxScopesOf(before) : new Map(), sandboxScopesOf(tool), `tools.${name}.sandbox`));
  }
  return widened;
}
