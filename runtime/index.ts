/**
 * Manasvi plugin runtime: the host API.
 * @module
 */
export { createRuntime } from './host/create-runtime.ts';
export type { ActiveLayers, LoadOptions, PluginLogLine, Runtime, RuntimeOptions } from './host/create-runtime.ts';
export type { ToolStateEvent } from './host/create-tool-pools.ts';
export { PluginHandle } from './host/plugin-handle.ts';
export type { CallOptions } from './host/plugin-handle.ts';
export type { PreparedPlugin, PreparedTool } from './host/prepare-plugin.ts';
export { ERROR_CODES, PluginRuntimeError, isPluginRuntimeError } from './errors.ts';
export type { ErrorCode, WireError } from './errors.ts';
export type { GrantDecision, Grants } from './grants/grants.ts';
export type { Manifest } from './manifest/manifest-schema.ts';
export type { AuditRecord, AuditSink, AuditType } from './audit/audit-record.ts';
export { loadLaunchConfig } from './config/launch-config.ts';
export type { LaunchConfig } from './config/launch-config.ts';
export { loadManifest } from './manifest/load-manifest.ts';
export type { WidenedScope } from './policy/widened-scopes.ts';
export type { PolicyInput } from './policy/policy-schema.ts';
export { envSecretStore, fileSecretStore, functionSecretStore } from './capabilities/secret-store.ts';
export type { SecretStore } from './capabilities/secret-store.ts';
export { fileAuditSink } from './audit/file-sink.ts';
