import { bundlePlugin } from '../bundle/bundle-plugin.ts';
import { isPluginRuntimeError, PluginRuntimeError } from '../errors.ts';
import { grantAdvice } from '../grants/grant-advice.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { computeGrants, declaredInjections, declaredScopes, type GrantPolicy, type ResolvedCapabilities } from '../grants/compute-grants.ts';
import type { GrantDecision, Grants, SecretInjection } from '../grants/grants.ts';
import { canonicalisePath } from '../scopes/canonicalise-path.ts';
import { computeToolGrants, type ResolvedSandbox } from '../grants/tool-grants.ts';
import { buildDenoArgv } from '../launch/deno-argv.ts';
import { type LoadedManifest, loadManifest } from '../manifest/load-manifest.ts';
import type { ArgumentValidator } from '../manifest/input-validator.ts';
import type { LayerName } from '../layer-names.ts';
import type { ToolEgress } from '../launch/os-limits.ts';
import { egressRulesFor, namedByOperator } from './runtime-egress.ts';
import { type ToolNetworkPath, toolNetworkPath } from '../egress/network-path.ts';
import type { ToolLaunchInput, ToolLaunchPlan } from './tool-launch-plan.ts';
import type { Manifest, ToolDefinition } from '../manifest/manifest-schema.ts';
import { type EffectiveLimits, effectiveLimits } from '../supervisor/effective-limits.ts';

/** One tool as the host will launch it. */
export interface PreparedTool {
  name: string;
  description: string;
  /** The tool's input JSON Schema, as the manifest declares it. */
  input: Record<string, unknown>;
  /** The JSON Schema its values are checked against, when the manifest declares one. */
  output?: Record<string, unknown>;
  /** The tool's own call deadline from the manifest, if it declares one. */
  timeoutMs: number | undefined;
  /** Exactly what this tool's process is granted. */
  grants: Grants;
  /**
   * Secrets the egress gateway injects into this tool's requests, which the tool cannot
   * read (their names are not in {@link PreparedTool.grants}); empty when none.
   */
  injections: SecretInjection[];
  /** The exact Deno argv of this tool's process (the token is never in it). */
  argv: string[];
  /**
   * The command spawned for this tool, program first: the OS wrappers (prlimit, unshare,
   * setpriv) with their arguments, the Deno binary, then {@link PreparedTool.argv}.
   */
  command: string[];
  /** The enforcement layers this tool's process runs under. */
  layers: LayerName[];
  /** How it reaches the network: not at all, or through the egress gateway (from which namespace, under which rules). */
  network: ToolNetworkPath;
}

/** Everything an operator needs to know about a plugin before any process starts: what `inspect` returns. */
export interface PreparedPlugin {
  /** The validated manifest. */
  manifest: Manifest;
  /** The manifest file, canonical and absolute. */
  manifestPath: string;
  /** The plugin's folder (the manifest's), canonical and absolute. */
  pluginDir: string;
  /** The entry module the bundle is built from. */
  entryPath: string;
  /** What the plugin is granted: its ceiling. */
  grants: Grants;
  /** One decision per declared scope, granted or refused, with its rule. */
  decisions: GrantDecision[];
  tools: PreparedTool[];
  /** The self-contained bundle every tool process runs, and its SHA-256 (hex). */
  bundlePath: string;
  bundleSha256: string;
  /** The limits its processes run under (deno-launch.json, overridden by the policy). */
  limits: EffectiveLimits;
}

/** A prepared plugin as the runtime keeps it: with the compiled argument and value validators of its tools. */
export interface PluginPlan extends PreparedPlugin {
  inputValidators: ReadonlyMap<string, ArgumentValidator>;
  outputValidators: ReadonlyMap<string, ArgumentValidator>;
}

/** The operator's view of a plan: a copy without the runtime's compiled validators. */
export function inspection({ inputValidators: _inputs, outputValidators: _outputs, ...prepared }: PluginPlan): PreparedPlugin {
  return prepared;
}

function resolveSandbox(loaded: LoadedManifest, tool: ToolDefinition): ResolvedSandbox {
  const canonical = (p: string) => canonicalisePath(loaded.pluginDir, p);
  return {
    network: [...(tool.sandbox?.network ?? [])],
    secrets: [...(tool.sandbox?.secrets ?? [])],
    read: (tool.sandbox?.filesystem?.read ?? []).map(canonical),
    write: (tool.sandbox?.filesystem?.write ?? []).map(canonical),
  };
}

function resolveDeclared(loaded: LoadedManifest): ResolvedCapabilities {
  const declared = loaded.manifest.capabilities;
  const fs = declared['access-filesystem'];
  const canonical = (p: string) => canonicalisePath(loaded.pluginDir, p);
  return {
    ...declared,
    ...(fs ? { 'access-filesystem': { read: (fs.read ?? []).map(canonical), write: (fs.write ?? []).map(canonical) } } : {}),
  };
}

/** Every declared scope as if granted: the manifest's own ceiling for its tool sandboxes. */
function declaredCeiling(declared: ResolvedCapabilities): Grants {
  return declaredScopes(declared);
}

/**
 * manifest → grants → tool grants → bundle → argv, without starting anything. Aborting
 * `signal` abandons the bundling (see {@link bundlePlugin}).
 * @throws PluginRuntimeError `manifest_invalid`, `sandbox_exceeds_grants`, `import_refused`, `bundle_failed`.
 */
export async function preparePlugin(
  manifestPath: string,
  policy: GrantPolicy,
  config: LaunchConfig,
  cacheDirs: { bundleDir: string; validatorDir: string },
  planLaunch: (input: ToolLaunchInput) => ToolLaunchPlan,
  signal?: AbortSignal,
  egress?: ToolEgress,
): Promise<PluginPlan> {
  const loaded = loadManifest(manifestPath, { validatorCacheDir: cacheDirs.validatorDir });
  const declared = resolveDeclared(loaded);
  const { grants, decisions, injections } = computeGrants(declared, policy, loaded.manifest.name);
  const ceiling = declaredCeiling(declared);
  let toolGrants;
  try {
    toolGrants = Object.entries(loaded.manifest.tools).map(
      ([name, tool]) => [name, tool, computeToolGrants(name, resolveSandbox(loaded, tool), ceiling, grants, injections)] as const,
    );
  } catch (error) {
    // An operator inspecting a refused plugin still needs every decision and its rule.
    if (!(error instanceof PluginRuntimeError)) throw error;
    const loadDecisions = { plugin: loaded.manifest.name, decisions };
    if (isPluginRuntimeError(error, 'sandbox_exceeds_grants') && error.details) {
      const advice = grantAdvice(loaded.manifest.name, decisions, policy.policy?.source ?? null, policy.allowDeclared, declaredInjections(declared));
      const never = advice.ungrantable.map(({ scope, why }) => `; ${scope} can never be granted (${why})`).join('');
      throw new PluginRuntimeError('sandbox_exceeds_grants', `${error.message}: ${advice.summary}${never}`, {
        cause: error,
        details: { ...error.details, advice },
        loadDecisions,
      });
    }
    throw new PluginRuntimeError(error.code, error.message, { cause: error, details: error.details, loadDecisions });
  }
  // A refusal from here on (the bundle, a required layer) keeps the plugin's name and decisions on record.
  const withDecisions = (error: unknown) => {
    if (!(error instanceof PluginRuntimeError) || error.loadDecisions) return error;
    return new PluginRuntimeError(error.code, error.message, { cause: error, details: error.details, loadDecisions: { plugin: loaded.manifest.name, decisions } });
  };
  const bundle = await bundlePlugin(loaded.entryPath, loaded.pluginDir, cacheDirs.bundleDir, signal).catch((error: unknown) => {
    throw withDecisions(error);
  });
  const limits = effectiveLimits(config, policy.policy?.plugins.get(loaded.manifest.name)?.limits);
  const tools = toolGrants.map(([name, tool, { grants: granted, injections: injected }]) => {
    const networked = granted.network.length > 0;
    const gateway = networked && egress ? { gateway: egress.gateway } : {};
    // The runtime's CA is bound into a tool's sandbox only when it has a secret injected.
    const toolEgress = networked && egress ? { egress: { gateway: egress.gateway, ...(injected.length > 0 && egress.caFile ? { caFile: egress.caFile } : {}) } } : {};
    const built = buildDenoArgv({ config, grants: granted, bundlePath: bundle.bundlePath, heapMb: limits.heapMb, ...gateway });
    let plan;
    try {
      plan = planLaunch({ plugin: loaded.manifest.name, tool: name, grants: granted, argv: built, limits, ...toolEgress });
    } catch (error) {
      throw withDecisions(error);
    }
    const { argv, command, layers } = plan;
    const output = tool.output === undefined ? {} : { output: tool.output };
    const rules = egressRulesFor(granted.network, (entry) => namedByOperator(entry, loaded.manifest.name, policy.policy, policy.allowDeclared));
    const network = toolNetworkPath(rules, injected, layers, egress?.gateway);
    return { name, description: tool.description, input: tool.input, ...output, timeoutMs: tool.timeoutMs, grants: granted, injections: injected, argv, command: [command[0], ...command[1]], layers, network };
  });
  const { manifest, pluginDir, entryPath, inputValidators, outputValidators } = loaded;
  return {
    manifest,
    manifestPath: loaded.manifestPath,
    pluginDir,
    entryPath,
    grants,
    decisions,
    tools,
    bundlePath: bundle.bundlePath,
    bundleSha256: bundle.sha256,
    limits,
    inputValidators,
    outputValidators,
  };
}
