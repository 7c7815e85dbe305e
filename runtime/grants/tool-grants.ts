import { PluginRuntimeError } from '../errors.ts';
import { printableText } from '../printable-text.ts';
import { describeSchemaIssues } from '../schema-issues.ts';
import { networkGrantCovers } from '../scopes/network-scope.ts';
import { pathContains } from '../scopes/path-scope.ts';
import type { Grants, SecretInjection } from './grants.ts';

/** A tool's sandbox with its filesystem paths canonicalised. */
export interface ResolvedSandbox {
  network: string[];
  read: string[];
  write: string[];
  secrets: string[];
}

interface Excess {
  field: string;
  entry: string;
}

/** `injected`: names the ceiling grants for injection only, which a sandbox may name as well. */
function excess(sandbox: ResolvedSandbox, ceiling: Grants, injected: readonly string[] = []): Excess[] {
  const found: Excess[] = [];
  sandbox.network.forEach((entry, i) => {
    if (!ceiling.network.some((grant) => networkGrantCovers(grant, entry))) found.push({ field: `network.${i}`, entry });
  });
  sandbox.secrets.forEach((entry, i) => {
    if (!ceiling.secrets.includes(entry) && !injected.includes(entry)) found.push({ field: `secrets.${i}`, entry });
  });
  for (const mode of ['read', 'write'] as const) {
    sandbox[mode].forEach((entry, i) => {
      if (!ceiling[mode].some((grant) => pathContains(grant, entry))) {
        found.push({ field: `filesystem.${mode}.${i}`, entry });
      }
    });
  }
  return found;
}

/** What one tool process is launched with: its grants (on the wire), and the injections made for it (never on the wire). */
export interface ToolGrants {
  grants: Grants;
  injections: SecretInjection[];
}

/**
 * The grants one tool process is launched with: exactly its sandbox, checked against
 * the plugin's declared capabilities and then against what the policy granted. A secret
 * the sandbox names that the plugin was granted for injection only is not in the tool's
 * `grants.secrets` (the tool cannot read it) but in its `injections`. Pure.
 *
 * @param declared every declared scope, secrets of either form by name (compute-grants.ts `declaredScopes`)
 * @param granted what the policy granted the plugin, secrets to be read only
 * @param injections what the policy granted the plugin for injection
 * @throws PluginRuntimeError `manifest_invalid` when the sandbox asks for something the
 *   manifest never declared; `sandbox_exceeds_grants` when the policy did not grant it
 *   in either form. Both name the tool and the field.
 */
export function computeToolGrants(
  toolName: string,
  sandbox: ResolvedSandbox,
  declared: Grants,
  granted: Grants,
  injections: readonly SecretInjection[] = [],
): ToolGrants {
  const undeclared = excess(sandbox, declared);
  if (undeclared.length > 0) {
    const issues = undeclared.map(({ field, entry }) => ({
      path: `tools.${toolName}.sandbox.${field}`,
      message: `"${printableText(entry)}" is not declared in the plugin's capabilities`,
      expected: null,
      received: entry,
    }));
    throw new PluginRuntimeError(
      'manifest_invalid',
      describeSchemaIssues(`the sandbox of tool "${toolName}"`, issues),
      { details: { tool: toolName, issues } },
    );
  }
  const refused = excess(sandbox, granted, injections.map((injection) => injection.name));
  if (refused.length > 0) {
    const fields = refused.map(({ field, entry }) => `tools.${toolName}.sandbox.${field} ("${entry}")`);
    throw new PluginRuntimeError(
      'sandbox_exceeds_grants',
      `tool "${toolName}" sandbox is wider than the plugin's grants: ${fields.join(', ')} not granted`,
      { details: { tool: toolName, refused } },
    );
  }
  return {
    grants: {
      provideTools: granted.provideTools,
      network: [...sandbox.network],
      secrets: sandbox.secrets.filter((name) => granted.secrets.includes(name)),
      read: [...sandbox.read],
      write: [...sandbox.write],
    },
    injections: injections.filter((injection) => sandbox.secrets.includes(injection.name)).map((injection) => ({ ...injection })),
  };
}
