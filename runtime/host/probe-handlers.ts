import type { AuditFields } from '../audit/audit-record.ts';
import { grantAuthority } from '../channel/channel-gate.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { isPluginRuntimeError, PluginRuntimeError } from '../errors.ts';
import { type Grants, NO_GRANTS } from '../grants/grants.ts';
import type { TokenRegistry } from '../handshake/token-registry.ts';
import { buildDenoArgv } from '../launch/deno-argv.ts';
import { type OsLayers, toolCommand } from '../launch/os-limits.ts';
import { ToolProcess } from '../supervisor/tool-process.ts';
import type { SchemaIssue } from '../schema-issues.ts';
import type { PreparedPlugin } from './prepare-plugin.ts';

export interface ProbeDeps {
  config: LaunchConfig;
  denoPath: string;
  processStorageDir: string;
  layers: OsLayers;
  tokens: TokenRegistry;
  audit: (fields: AuditFields) => void;
  onLog: (line: string, launchId: string) => void;
}

/** A manifest field issue, as `manifest_invalid` carries it (nothing received: the finding is the entry's). */
export type HandlerIssue = SchemaIssue;

const issue = (path: string, message: string): SchemaIssue => ({ path, message, expected: null, received: '' });

/** Nothing but registering: what the probe's channel gate lets through. */
const PROBE_GRANTS: Grants = { ...NO_GRANTS, provideTools: true };

/**
 * Runs the plugin's bundle once, with no permissions, to learn which handlers its entry
 * has. The process is launched as an ordinary tool process (same argv builder, OS layers,
 * scrubbed environment, own DENO_DIR, launch handshake and its deadline) for the first
 * declared tool, but with no grants at all: no read, write or network, no secrets, no
 * capability tokens. Its `tools.register` carries every handler name; the process is then
 * stopped, whatever happened, and its storage removed before this resolves.
 * @returns the handler names the entry registers
 * @throws PluginRuntimeError `manifest_invalid` naming `entry` when the entry's top level
 *   throws, hangs past `handshake.timeoutMs`, or never says which handlers it has.
 */
export async function probeHandlers(prepared: PreparedPlugin, deps: ProbeDeps): Promise<string[]> {
  const plugin = prepared.manifest.name;
  const tool = prepared.tools[0]?.name;
  if (tool === undefined) return [];
  const argv = buildDenoArgv({ config: deps.config, grants: NO_GRANTS, bundlePath: prepared.bundlePath, heapMb: prepared.limits.heapMb });
  let handlers: readonly string[] | undefined;
  const probe = new ToolProcess({
    plugin,
    tool,
    grants: NO_GRANTS,
    argv,
    // The same command every tool process gets for these grants: no network, so its own empty network namespace.
    command: toolCommand(deps.layers, prepared.limits, deps.denoPath, NO_GRANTS, argv),
    storageRoot: deps.processStorageDir,
    rssMb: prepared.limits.rssMb,
    config: deps.config,
    tokens: deps.tokens,
    capabilityTokens: () => ({}),
    authority: () => grantAuthority(PROBE_GRANTS, PROBE_GRANTS, () => false),
    readSecret: async () => ({ ok: false, code: 'capability_denied', message: 'no secrets while probing' }),
    audit: deps.audit,
    onLog: deps.onLog,
    onHandlers: (names) => (handlers = [...names]),
  });
  let failure: unknown;
  try {
    await probe.start();
  } catch (error) {
    failure = error;
  } finally {
    await probe.stop('handler probe done');
  }
  if (handlers) return [...handlers];
  throw new PluginRuntimeError('manifest_invalid', `the entry of plugin ${plugin} could not be probed for its handlers`, {
    cause: failure,
    details: { manifestPath: prepared.manifestPath, issues: [issue('entry', probeFailure(prepared.entryPath, failure))] },
  });
}

function probeFailure(entryPath: string, failure: unknown): string {
  const base = `${entryPath} did not say which handlers it registers when run with no permissions`;
  if (!isPluginRuntimeError(failure)) return `${base}: ${failure instanceof Error ? failure.message : String(failure)}`;
  const reason = isPluginRuntimeError(failure, 'handshake_failed') ? failure.details?.reason : undefined;
  const stderr = isPluginRuntimeError(failure, 'handshake_failed') ? (failure.details?.stderr ?? []) : [];
  const why =
    reason === 'timeout'
      ? 'its top-level code did not reach definePlugin before the handshake deadline (it hangs or waits on something)'
      : reason === 'exited'
        ? 'its top-level code ended the process before definePlugin served (it threw, or called Deno.exit)'
        : `${failure.code}: ${failure.message}`;
  const tail = stderr.length > 0 ? `; stderr: ${stderr.slice(-3).join(' | ')}` : '';
  return `${base}: ${why}${tail}`;
}

/**
 * Compares the tools the manifest declares with the handlers the entry registers.
 * @returns one issue per declared tool without a handler (`tools.<name>`) and per handler
 *   the manifest does not declare (`entry`); empty when they match
 */
export function handlerIssues(declared: readonly string[], handlers: readonly string[], entryPath: string): HandlerIssue[] {
  const issues: HandlerIssue[] = [];
  for (const tool of declared) {
    if (!handlers.includes(tool)) {
      issues.push(issue(`tools.${tool}`, `declared in the manifest but the entry ${entryPath} registers no handler for it`));
    }
  }
  for (const handler of handlers) {
    if (!declared.includes(handler)) {
      issues.push(issue('entry', `${entryPath} registers a handler for \`${handler}\`, which the manifest does not declare`));
    }
  }
  return issues;
}
