import path from 'node:path';
import { makeAuditor } from '../audit/audit-record.ts';
import { fileAuditSink } from '../audit/file-sink.ts';
import { CapabilityTokens } from '../capabilities/capability-tokens.ts';
import { envSecretStore } from '../capabilities/secret-store.ts';
import { loadManifest } from '../manifest/load-manifest.ts';
import { widenedScopes } from '../policy/widened-scopes.ts';
import { readLocalNames } from '../policy/local-names.ts';
import { loadPolicyFile, type ResolvedPolicy, resolvePolicy } from '../policy/resolved-policy.ts';
import { loadLaunchConfig, parseLaunchConfig } from '../config/launch-config.ts';
import { isPluginRuntimeError, PluginRuntimeError } from '../errors.ts';
import type { GrantDecision } from '../grants/grants.ts';
import { TokenRegistry } from '../handshake/token-registry.ts';
import { checkDenoVersion, resolveDenoPath } from '../launch/deno-binary.ts';
import { detectOsLayersInBackground, toolLayers } from '../launch/os-limits.ts';
import { type LayerOverrides, withOverrides } from './layer-overrides.ts';
import { layerRequirements, planToolLaunch } from './tool-launch-plan.ts';
import { packageOwnPaths } from '../package-root.ts';
import { createSpawnPacer } from '../supervisor/spawn-pacer.ts';
import { createToolPools } from './create-tool-pools.ts';
import { type PluginLogLine, RuntimePluginHandle } from './plugin-handle.ts';
import { handlerIssues, probeHandlers } from './probe-handlers.ts';
import { inspection, preparePlugin } from './prepare-plugin.ts';
import { canonicalisePath } from '../scopes/canonicalise-path.ts';
import { LoadsInFlight } from './loads-in-flight.ts';
import type { ActiveLayers, LoadOptions, Runtime, RuntimeOptions } from './runtime-types.ts';
import { defaultStateDir, prepareStateDir } from './state-dir.ts';
import { RuntimeEgress } from './runtime-egress.ts';


/**
 * Runs an operator-supplied callback (log sink, state listener) from inside the supervisor:
 * if it throws, the supervisor's own bookkeeping must still finish, so the error is reported
 * on the host's stderr instead of unwinding through it.
 */
function shielded(callback: () => unknown): void {
  try {
    callback();
  } catch (error) {
    process.stderr.write(`manasvi-plugins: a log or state callback threw: ${(error as Error)?.message ?? String(error)}\n`);
  }
}

function normalisePolicy(policy: RuntimeOptions['policy']): ResolvedPolicy | undefined {
  if (policy === undefined) return undefined;
  return typeof policy === 'string' ? loadPolicyFile(policy) : resolvePolicy(policy, process.cwd(), 'policy option');
}

/** A failed load on record: which manifest, and why (its decisions are recorded beside it). */
function auditRefusedLoad(audit: ReturnType<typeof makeAuditor>, manifestPath: string, error: PluginRuntimeError): void {
  const plugin = error.loadDecisions?.plugin ?? '(unknown)';
  audit({ type: 'load_refused', plugin, manifestPath: path.resolve(manifestPath), code: error.code, message: error.message });
}

function defaultLog({ plugin, tool, line }: PluginLogLine): void {
  process.stderr.write(`[${plugin}/${tool}] ${line}\n`);
}

/**
 * Creates a runtime. Options are normalised and validated here, once.
 *
 * @param options Deno, launch config, state folder, policy, secrets and where logs and audit records go
 * @returns the runtime; nothing is launched until a plugin's tool is called
 * @throws PluginRuntimeError `config_invalid`, `deno_not_found`; `deno_unsupported` from
 *   the first `load` when the Deno binary is older than deno-launch.json allows.
 * @example
 * const runtime = createRuntime();
 * const echo = await runtime.load('manifests/examples/echo/manifest.json');
 * console.log(await echo.call('echo', { text: 'hi' }));
 * await runtime.close();
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return createRuntimeWith(options, {});
}

/**
 * {@link createRuntime} with layers taken away on purpose (see layer-overrides.ts): for
 * `doctor` and the escape suite only, never exported from the package.
 */
export function createRuntimeWith(options: RuntimeOptions, overrides: LayerOverrides): Runtime {
  const config =
    typeof options.launchConfig === 'object'
      ? parseLaunchConfig(options.launchConfig, 'launchConfig option')
      : loadLaunchConfig(options.launchConfig);
  const denoPath = resolveDenoPath(options.denoPath);
  const stateDir = options.stateDir ?? defaultStateDir();
  const { bundleDir, validatorDir, processStorageDir } = prepareStateDir(stateDir);
  const policy = normalisePolicy(options.policy);
  const secrets = options.secrets ?? envSecretStore();
  const protectedPaths = [
    stateDir,
    denoPath,
    ...packageOwnPaths(),
    ...(secrets.protectedPath ? [secrets.protectedPath] : []),
    ...(options.auditFile ? [options.auditFile] : []),
  ].map((p) => canonicalisePath(process.cwd(), p));
  const fileSink = options.auditFile ? fileAuditSink(options.auditFile) : undefined;
  const audit = makeAuditor(
    fileSink && options.onAudit
      ? (record) => {
          fileSink(record);
          options.onAudit!(record);
        }
      : (fileSink ?? options.onAudit),
  );
  const capabilityTokens = new CapabilityTokens();
  const onLog = options.onLog ?? defaultLog;
  const tokens = new TokenRegistry();
  const layerDetection = detectOsLayersInBackground(denoPath);
  const osLayers = () => withOverrides(layerDetection.now(), overrides, []).layers;
  const pacer = createSpawnPacer();
  const egress = new RuntimeEgress({ config, processStorageDir, audit, secrets, policy, trustedCertificates: options.egressTrustedCertificates });
  const handles = new Set<RuntimePluginHandle>();
  const loads = new LoadsInFlight(config.load.timeoutMs);
  let denoChecked: Promise<string> | null = null;
  let closed = false;
  const refuseIfClosed = () => {
    if (closed) throw new PluginRuntimeError('runtime_closed', 'the runtime is closed');
  };

  const prepareUnbounded = async (manifestPath: string, loadOptions: LoadOptions, signal: AbortSignal) => {
    denoChecked ??= checkDenoVersion(denoPath, config.deno.minVersion, stateDir);
    await Promise.all([denoChecked, layerDetection.ready, egress.ready()]);
    const allowDeclared = loadOptions.allowDeclared ?? options.allowDeclared ?? false;
    const recordDecisions = (plugin: string, decisions: readonly GrantDecision[]) => {
      for (const decision of decisions) audit({ type: 'grant_decision', plugin, ...decision, reason: decision.rule });
    };
    try {
      const prepared = await preparePlugin(
        manifestPath,
        // Read at each load: a hosts file or an interface may change while the host runs.
        { allowDeclared, policy, protectedPaths, localNames: readLocalNames() },
        config,
        { bundleDir, validatorDir },
        // The probe has answered by now: preparation waits for it, like every launch.
        (input) => planToolLaunch(layerDetection.now(), overrides, denoPath, layerRequirements(config, policy, input.plugin), input),
        signal,
        // Without the gateway (doctor's control round) a networked tool connects directly: no proxy, no bridge.
        overrides.withoutEgressGateway ? undefined : egress.toolEgress(),
      );
      recordDecisions(prepared.manifest.name, prepared.decisions);
      return prepared;
    } catch (error) {
      // A load refused for its grants still leaves the decisions, and their rules, on record.
      if (isPluginRuntimeError(error) && error.loadDecisions) recordDecisions(error.loadDecisions.plugin, error.loadDecisions.decisions);
      throw error;
    }
  };
  // Every load ends: with its result, `load_timeout` at the deadline, or `runtime_closed` once close() begins.
  const prepare = (manifestPath: string, loadOptions: LoadOptions) => {
    refuseIfClosed();
    return loads.bound(manifestPath, (signal) => prepareUnbounded(manifestPath, loadOptions, signal));
  };

  return {
    config,
    get layers(): ActiveLayers {
      const given = new Set([...toolLayers(osLayers(), { network: [] })]);
      return {
        hostChecks: true as const,
        denoPermissions: !overrides.stripDenoPermissions,
        osLimits: given.has('osLimits'),
        dieWithHost: given.has('dieWithHost'),
        networkNamespace: given.has('networkNamespace'),
        mountNamespace: given.has('mountNamespace'),
        // The host's own proxy: there for every tool with network grants, whatever else this host has.
        egressGateway: !overrides.withoutEgressGateway,
      };
    },
    inspect: async (manifestPath, loadOptions = {}) => inspection(await prepare(manifestPath, loadOptions)),
    async checkHandlers(manifestPath) {
      const prepared = await prepare(manifestPath, { allowDeclared: true });
      refuseIfClosed();
      const probeLog = (line: string, launchId: string) => shielded(() => onLog({ plugin: prepared.manifest.name, tool: '(probe)', launchId, line }));
      const handlers = await probeHandlers(prepared, { config, denoPath, processStorageDir, layers: osLayers(), tokens, audit, onLog: probeLog });
      const issues = handlerIssues(prepared.tools.map((tool) => tool.name), handlers, prepared.entryPath);
      if (issues.length > 0) {
        throw new PluginRuntimeError('manifest_invalid', `the entry ${prepared.entryPath} does not register a handler for exactly the declared tools`, {
          details: { manifestPath: prepared.manifestPath, issues },
        });
      }
    },
    compare: (approved, updated) => widenedScopes(loadManifest(approved).manifest, loadManifest(updated).manifest),
    async load(manifestPath, loadOptions = {}) {
      let prepared;
      try {
        prepared = await prepare(manifestPath, loadOptions);
      } catch (error) {
        if (isPluginRuntimeError(error) && error.code !== 'runtime_closed') auditRefusedLoad(audit, manifestPath, error);
        throw error;
      }
      // close() may have begun between the preparation settling and this continuation running.
      refuseIfClosed();
      const plugin = prepared.manifest.name;
      let handle: RuntimePluginHandle | undefined;
      const pools = createToolPools(prepared, {
        config,
        processStorageDir,
        pacer,
        tokens,
        capabilityTokens,
        secrets,
        audit,
        ...(overrides.withoutEgressGateway ? {} : { egress }),
        onLog: (tool, launchId, line) => {
          const entry = { plugin, tool, launchId, line };
          shielded(() => onLog(entry));
          shielded(() => handle?.emit('log', entry));
        },
        onState: (event) => shielded(() => handle?.emit('state', event)),
      });
      handle = new RuntimePluginHandle(prepared, pools, config);
      handles.add(handle);
      return handle;
    },
    async close() {
      closed = true;
      loads.closeAll();
      await Promise.all([...handles].map((handle) => handle.close()));
      handles.clear();
      await egress.close();
      fileSink?.close();
    },
  };
}
