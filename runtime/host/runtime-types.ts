import type { AuditSink } from '../audit/audit-record.ts';
import type { SecretStore } from '../capabilities/secret-store.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import type { PolicyInput } from '../policy/policy-schema.ts';
import type { WidenedScope } from '../policy/widened-scopes.ts';
import type { PluginHandle, PluginLogLine } from './plugin-handle.ts';
import type { PreparedPlugin } from './prepare-plugin.ts';

// The host API's shapes: what createRuntime takes and what it returns (create-runtime.ts
// is its implementation).

/** What {@link createRuntime} takes; every field is optional. */
export interface RuntimeOptions {
  /** Deno binary; default `MANASVI_DENO`, else the `deno` npm package's binary. */
  denoPath?: string;
  /** A `deno-launch.json` path or an already-built config; default the package's own file. */
  launchConfig?: string | LaunchConfig;
  /** Folder for bundles and each tool process's own storage (created 0700); default per user under the OS temp folder. */
  stateDir?: string;
  /**
   * The operator policy: a JSON file path, or the same object (its relative paths resolve
   * against the current folder). Without one, nothing but provide-tools is granted.
   */
  policy?: string | PolicyInput;
  /** Development only: grant everything each manifest declares. */
  allowDeclared?: boolean;
  /** Where secret values come from; default the host's `MANASVI_SECRET_<NAME>` variables. */
  secrets?: SecretStore;
  /** Receives plugin stderr lines; default: written to the host's stderr, tagged. */
  onLog?: (entry: PluginLogLine) => void;
  /** Receives every audit record. */
  onAudit?: AuditSink;
  /** Appends every audit record as a JSON line to this file. */
  auditFile?: string;
  /**
   * Certificate authorities (PEM) the egress gateway trusts, besides the system's roots,
   * when it makes TLS itself: toward a host that has a secret injected (a private CA).
   */
  egressTrustedCertificates?: readonly string[];
}

/** Which enforcement layers are active. */
export interface ActiveLayers {
  /** Manifest, grant, bundle, channel and capability checks in the host: always. */
  hostChecks: true;
  /** Deno permission flags per tool process: always (false only while `doctor` measures the others without them). */
  denoPermissions: boolean;
  /** CPU-seconds and file-size limits set by the OS (prlimit). */
  osLimits: boolean;
  /** The kernel kills plugin processes when the host dies (setpriv --pdeathsig). */
  dieWithHost: boolean;
  /** Tools with no network grant run in an empty network namespace (the sandbox, or unshare). */
  networkNamespace: boolean;
  /** User, mount, PID, IPC and UTS namespaces per tool process, over a file system holding only Deno, the bundle and the grants. */
  mountNamespace: boolean;
  /** The host's egress gateway, through which every tool with network grants reaches the network: always (it runs in the host; false only while `doctor` measures without it). */
  egressGateway: boolean;
}

/** Per-load overrides for `load` and `inspect`. */
export interface LoadOptions {
  /** Development only: grant everything this manifest declares. */
  allowDeclared?: boolean;
}

/** The host: loads plugins, and stops them all on close. Made by {@link createRuntime}. */
export interface Runtime {
  /** The validated launch config in force. */
  readonly config: LaunchConfig;
  /** The enforcement layers active on this host, for the operator to see at start. */
  readonly layers: ActiveLayers;
  /**
   * Validates, grants and bundles a plugin and returns its handle; processes start on first call.
   * Every decision is audited (`grant_decision`), a refused load's too.
   *
   * @param manifestPath the plugin's `manifest.json`
   * @param options development overrides for this load
   * @returns the plugin's handle
   * @throws PluginRuntimeError `manifest_invalid`, `sandbox_exceeds_grants` (with
   *   `loadDecisions`), `import_refused`, `bundle_failed`, `deno_unsupported`,
   *   `load_timeout`, `runtime_closed`.
   * @example
   * const notes = await runtime.load('plugins/notes/manifest.json');
   * console.log(notes.refused);
   */
  load(manifestPath: string, options?: LoadOptions): Promise<PluginHandle>;
  /**
   * What `load` would grant and launch, without starting anything.
   *
   * @param manifestPath the plugin's `manifest.json`
   * @param options development overrides, as for `load`
   * @returns the manifest, its paths, grants, decisions, each tool's grants and argv, the bundle and the limits
   * @throws PluginRuntimeError the same codes as `load`.
   * @example
   * const prepared = await runtime.inspect('plugins/notes/manifest.json');
   * for (const tool of prepared.tools) console.log(tool.name, tool.argv.join(' '));
   */
  inspect(manifestPath: string, options?: LoadOptions): Promise<PreparedPlugin>;
  /**
   * Runs the plugin's bundle once with no permissions at all and checks that its entry
   * registers a handler for exactly the declared tools (what `validate` does).
   * @throws PluginRuntimeError `manifest_invalid` with one issue per missing (`tools.<name>`)
   *   or undeclared (`entry`) handler, or naming `entry` when its top level throws or hangs.
   */
  checkHandlers(manifestPath: string): Promise<void>;
  /**
   * What `updatedManifestPath` asks for beyond the approved manifest: every scope an update
   * would widen, so an operator never widens a plugin silently. Both manifests are validated.
   *
   * @param approvedManifestPath the manifest the operator approved
   * @param updatedManifestPath the update
   * @returns every widened scope; empty when the update asks for nothing more
   * @throws PluginRuntimeError `manifest_invalid`.
   * @example
   * const widened = runtime.compare('approved/manifest.json', 'update/manifest.json');
   * if (widened.length > 0) throw new Error('the update needs approval');
   */
  compare(approvedManifestPath: string, updatedManifestPath: string): WidenedScope[];
  /**
   * Stops every process of every plugin (shutdown → ack → SIGKILL after the grace period);
   * a load in flight ends with `runtime_closed`, and so does every later `load`.
   *
   * @example
   * await runtime.close();
   */
  close(): Promise<void>;
}
