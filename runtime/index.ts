/**
 * Manasvi plugin runtime: the host API. Everything exported here is public; everything
 * else in `runtime/` is internal and may change.
 *
 * ```ts
 * import { createRuntime, isPluginRuntimeError } from 'manasvi-plugins';
 * const runtime = createRuntime({ policy: 'policy.json', auditFile: 'audit.jsonl' });
 * const echo = await runtime.load('plugins/echo/manifest.json');
 * console.log(await echo.call('echo', { text: 'hi' }));
 * await runtime.close();
 * ```
 * @module
 */

// The runtime, and a loaded plugin.
export { createRuntime } from './host/create-runtime.ts';
export type { ActiveLayers, LoadOptions, Runtime, RuntimeOptions } from './host/runtime-types.ts';
export type { PluginLogLine } from './host/plugin-handle.ts';
export { PluginHandle } from './host/plugin-handle.ts';
export type { CallOptions } from './host/plugin-handle.ts';
export type { ToolStateEvent } from './host/create-tool-pools.ts';
export { TOOL_STATES } from './supervisor/tool-states.ts';
export type { ToolState } from './supervisor/tool-states.ts';

// What `inspect` shows before anything starts.
export type { PreparedPlugin, PreparedTool } from './host/prepare-plugin.ts';
export type { EffectiveLimits } from './supervisor/effective-limits.ts';
export type { GrantDecision, Grants, SecretInjection } from './grants/grants.ts';
export type { ToolNetworkPath } from './egress/network-path.ts';
export type { EgressRule } from './egress/egress-rules.ts';
export type { Manifest } from './manifest/manifest-schema.ts';
export type { WidenedScope } from './policy/widened-scopes.ts';

// Errors: one class, stable codes, typed details.
export { ERROR_CODES, PluginRuntimeError, isPluginRuntimeError } from './errors.ts';
export type { ErrorCode, ErrorDetails, ErrorDetailsByCode, LoadDecisions, WireError } from './errors.ts';

// Audit.
export { fileAuditSink } from './audit/file-sink.ts';
export type { AuditDetailsByType, AuditRecord, AuditSink, AuditType } from './audit/audit-record.ts';

// Configuration, policy and secrets.
export { loadLaunchConfig } from './config/launch-config.ts';
export type { LaunchConfig } from './config/launch-config.ts';
export { loadManifest } from './manifest/load-manifest.ts';
export type { LoadedManifest } from './manifest/load-manifest.ts';
export type { ArgumentIssue, ArgumentValidator } from './manifest/input-validator.ts';
export type { PolicyInput } from './policy/policy-schema.ts';
export { envSecretStore, fileSecretStore, functionSecretStore } from './capabilities/secret-store.ts';
export type { SecretStore } from './capabilities/secret-store.ts';
