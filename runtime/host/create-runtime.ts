import { type AuditSink, makeAuditor } from '../audit/audit-record.ts';
import { type LaunchConfig, loadLaunchConfig, parseLaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import { TokenRegistry } from '../handshake/token-registry.ts';
import { checkDenoVersion, resolveDenoPath } from '../launch/deno-binary.ts';
import { ToolPool } from '../supervisor/tool-pool.ts';
import { ToolProcess } from '../supervisor/tool-process.ts';
import { PluginHandle } from './plugin-handle.ts';
import { type PreparedPlugin, preparePlugin } from './prepare-plugin.ts';
import { defaultStateDir, prepareStateDir } from './state-dir.ts';

/** One line a plugin process wrote to stderr. */
export interface PluginLogLine {
  plugin: string;
  tool: string;
  launchId: string;
  line: string;
}

export interface RuntimeOptions {
  /** Deno binary; default `MANASVI_DENO`, else the `deno` npm package's binary. */
  denoPath?: string;
  /** A `deno-launch.json` path or an already-built config; default the package's own file. */
  launchConfig?: string | LaunchConfig;
  /** Folder for bundles and Deno's cache (created 0700); default per user under the OS temp folder. */
  stateDir?: string;
  /** Development only: grant everything each manifest declares. */
  allowDeclared?: boolean;
  /** Receives plugin stderr lines; default: written to the host's stderr, tagged. */
  onLog?: (entry: PluginLogLine) => void;
  /** Receives every audit record. */
  onAudit?: AuditSink;
}

export interface LoadOptions {
  /** Development only: grant everything this manifest declares. */
  allowDeclared?: boolean;
}

/** The host: loads plugins, and stops them all on close. */
export interface Runtime {
  /** The validated launch config in force. */
  readonly config: LaunchConfig;
  /** Validates, grants and bundles a plugin and returns its handle; processes start on first call. */
  load(manifestPath: string, options?: LoadOptions): Promise<PluginHandle>;
  /** What `load` would grant and launch, without starting anything. */
  inspect(manifestPath: string, options?: LoadOptions): Promise<PreparedPlugin>;
  /** Stops every process of every plugin (shutdown → ack → SIGKILL after the grace period). */
  close(): Promise<void>;
}

function defaultLog({ plugin, tool, line }: PluginLogLine): void {
  process.stderr.write(`[${plugin}/${tool}] ${line}\n`);
}

/**
 * Creates a runtime. Options are normalised and validated here, once.
 *
 * @throws PluginRuntimeError `config_invalid`, `deno_not_found`; `deno_unsupported` from
 *   the first `load` when the Deno binary is older than deno-launch.json allows.
 * @example
 * const runtime = createRuntime();
 * const echo = await runtime.load('manifests/examples/echo/manifest.json');
 * console.log(await echo.call('echo', { text: 'hi' }));
 * await runtime.close();
 */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const config =
    typeof options.launchConfig === 'object'
      ? parseLaunchConfig(options.launchConfig, 'launchConfig option')
      : loadLaunchConfig(options.launchConfig);
  const denoPath = resolveDenoPath(options.denoPath);
  const { bundleDir, denoDir } = prepareStateDir(options.stateDir ?? defaultStateDir());
  const audit = makeAuditor(options.onAudit);
  const onLog = options.onLog ?? defaultLog;
  const tokens = new TokenRegistry();
  const handles = new Set<PluginHandle>();
  let denoChecked: Promise<string> | null = null;
  let closed = false;

  const prepare = async (manifestPath: string, loadOptions: LoadOptions) => {
    if (closed) throw new PluginRuntimeError('runtime_closed', 'the runtime is closed');
    denoChecked ??= checkDenoVersion(denoPath, config.deno.minVersion);
    await denoChecked;
    const allowDeclared = loadOptions.allowDeclared ?? options.allowDeclared ?? false;
    const prepared = await preparePlugin(manifestPath, { allowDeclared }, config, bundleDir);
    for (const decision of prepared.decisions) {
      audit({ type: 'grant_decision', plugin: prepared.loaded.manifest.name, ...decision, reason: decision.rule });
    }
    return prepared;
  };

  return {
    config,
    inspect: (manifestPath, loadOptions = {}) => prepare(manifestPath, loadOptions),
    async load(manifestPath, loadOptions = {}) {
      const prepared = await prepare(manifestPath, loadOptions);
      const plugin = prepared.loaded.manifest.name;
      const pools = new Map<string, ToolPool>();
      for (const tool of prepared.tools) {
        const create = () =>
          new ToolProcess({
            plugin,
            tool: tool.name,
            grants: tool.grants,
            argv: tool.argv,
            denoPath,
            denoDir,
            config,
            tokens,
            capabilityTokens: () => ({}),
            onSecretRequest: async (request) => ({
              ok: false,
              code: 'capability_denied',
              message: `secret ${request.name} is not granted to ${plugin}/${tool.name}`,
            }),
            audit,
            onLog: (line, launchId) => onLog({ plugin, tool: tool.name, launchId, line }),
          });
        pools.set(tool.name, new ToolPool({ tool: tool.name, idleMs: config.toolProcess.idleMs, create }));
      }
      const handle = new PluginHandle(prepared, pools, config);
      handles.add(handle);
      return handle;
    },
    async close() {
      closed = true;
      await Promise.all([...handles].map((handle) => handle.close()));
      handles.clear();
    },
  };
}
