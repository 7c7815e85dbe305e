import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { Grants } from '../grants/grants.ts';
import type { LayerName } from '../layer-names.ts';
import { type OsLayers, type ToolEgress, toolCommand, toolLayers, unavailableReason } from '../launch/os-limits.ts';
import type { ResolvedPolicy } from '../policy/resolved-policy.ts';
import type { EffectiveLimits } from '../supervisor/effective-limits.ts';
import { type LayerOverrides, withOverrides } from './layer-overrides.ts';

/** A layer a deployment requires, and where it said so. */
export interface LayerRequirement {
  layer: LayerName;
  requiredBy: string;
}

/** What deno-launch.json requires of every plugin, and the policy of this one. */
export function layerRequirements(config: LaunchConfig, policy: ResolvedPolicy | undefined, plugin: string): LayerRequirement[] {
  return [
    ...config.layers.require.map((layer) => ({ layer, requiredBy: 'deno-launch.json layers.require' })),
    ...(policy?.plugins.get(plugin)?.requiredLayers ?? []).map((layer) => ({ layer, requiredBy: `${policy!.source} plugins.${plugin}.layers.require` })),
  ];
}

export interface ToolLaunchInput {
  plugin: string;
  tool: string;
  grants: Grants;
  argv: string[];
  limits: EffectiveLimits;
  /** Where a tool with network grants reaches the egress gateway. */
  egress?: ToolEgress;
}

/** How one tool's process is started: the command, its (possibly overridden) Deno argv, and the layers it runs under. */
export interface ToolLaunchPlan {
  argv: string[];
  command: [string, string[]];
  layers: LayerName[];
}

/**
 * Plans one tool's launch under the layers this host has. A required layer the tool would
 * not get refuses the plan: a deployment that asked for a layer never runs with fewer.
 * A tool with network grants gets its own network namespace only under the sandbox (whose
 * launcher bridges it to the egress gateway).
 * @throws PluginRuntimeError `layer_unavailable` naming the layer, why, and who required it.
 */
export function planToolLaunch(
  detected: OsLayers,
  overrides: LayerOverrides,
  denoPath: string,
  required: readonly LayerRequirement[],
  input: ToolLaunchInput,
): ToolLaunchPlan {
  const { layers, argv } = withOverrides(detected, overrides, input.argv);
  const given = toolLayers(layers, input.grants);
  if (overrides.stripDenoPermissions) given.splice(given.indexOf('denoPermissions'), 1);
  for (const { layer, requiredBy } of required) {
    if (given.includes(layer)) continue;
    // The gateway is the host's own: a tool without network grants has nothing to route through it.
    if (layer === 'egressGateway' && input.grants.network.length === 0) continue;
    const reason = layer === 'denoPermissions' ? "Deno's permission flags are stripped for this measurement" : unavailableReason(layers, layer, input.grants.network.length > 0);
    throw new PluginRuntimeError(
      'layer_unavailable',
      `${requiredBy} requires the ${layer} layer, which this host cannot give ${input.plugin}/${input.tool}: ${reason}`,
      { details: { layer, reason, requiredBy, plugin: input.plugin, tool: input.tool } },
    );
  }
  return { argv, command: toolCommand(layers, input.limits, denoPath, input.grants, argv, input.egress), layers: given };
}
