import type { Manifest } from '../manifest/manifest-schema.ts';
import { injectionScope, readInjection } from '../scopes/injection-scope.ts';

/** One scope an updated manifest asks for that the approved one did not. */
export interface WidenedScope {
  /** `capabilities` for the plugin's ceiling, or `tools.<name>.sandbox` for a tool. */
  where: string;
  capability: 'provide-tools' | 'access-network' | 'access-secret' | 'access-filesystem' | 'tool' | 'name';
  scope: string;
}

type Scopes = Map<string, Omit<WidenedScope, 'where'>>;

/**
 * Every scope of a capabilities object, keyed so that equal scopes meet. An injection's
 * key holds every field it is decided on (host, port, header, format), so a new or changed
 * injection is a new scope; its shown scope adds the format to the decision's scope.
 */
function scopesOf(capabilities: Manifest['capabilities']): Scopes {
  const scopes: Scopes = new Map();
  const add = (key: string, capability: WidenedScope['capability'], scope: string) => scopes.set(key, { capability, scope });
  if (capabilities['provide-tools']) add('provide-tools', 'provide-tools', 'provide-tools');
  for (const host of capabilities['access-network'] ?? []) add(`net:${host}`, 'access-network', host);
  for (const entry of capabilities['access-secret'] ?? []) {
    if (typeof entry === 'string') {
      add(`secret:${entry}`, 'access-secret', entry);
      continue;
    }
    const injection = readInjection(entry.name, entry.inject);
    const scope = `${injectionScope(injection)} format ${JSON.stringify(injection.format)}`;
    add(`inject:${JSON.stringify([injection.name, injection.host, injection.port, injection.header, injection.format])}`, 'access-secret', scope);
  }
  for (const p of capabilities['access-filesystem']?.read ?? []) add(`read:${p}`, 'access-filesystem', `read:${p}`);
  for (const p of capabilities['access-filesystem']?.write ?? []) add(`write:${p}`, 'access-filesystem', `write:${p}`);
  return scopes;
}

function sandboxScopesOf(tool: Manifest['tools'][string]): Scopes {
  const sandbox = tool.sandbox ?? {};
  return scopesOf({
    'access-network': sandbox.network,
    'access-secret': sandbox.secrets,
    'access-filesystem': sandbox.filesystem,
  });
}

function added(before: Scopes, after: Scopes, where: string): WidenedScope[] {
  return [...after].filter(([key]) => !before.has(key)).map(([, scope]) => ({ where, ...scope }));
}

/**
 * What an update would widen: every capability scope, tool, and tool-sandbox scope in
 * `updated` that `approved` did not have. A secret that changes form, or an injection that
 * changes host, port, header or format, counts as new. Pure; compares declarations as
 * written (paths relative to each manifest's folder), so moving a plugin does not hide a
 * change.
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
