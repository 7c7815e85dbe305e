import path from 'node:path';
import * as v from 'valibot';
import { PluginRuntimeError } from '../errors.ts';
import { jsonErrorMessage, parseJson } from '../parse-json.ts';
import { readRegularFile } from '../manifest/read-regular-file.ts';
import { printableText } from '../printable-text.ts';
import { reservedKeyIssues } from '../manifest/reserved-keys.ts';
import { describeSchemaIssues, toSchemaIssues } from '../schema-issues.ts';
import { canonicalisePath } from '../scopes/canonicalise-path.ts';
import { readInjection, type SecretInjection } from '../scopes/injection-scope.ts';
import type { LayerName } from '../layer-names.ts';
import { type LimitsPolicy, type PolicyInput, PolicySchema } from './policy-schema.ts';

/** Largest policy file read, in bytes: far more than any operator writes, and never a FIFO waited on. */
export const MAX_POLICY_BYTES = 4 * 1024 * 1024;

/** A plugin's policy entry with its paths canonicalised. */
export interface ResolvedPluginPolicy {
  provideTools: boolean | undefined;
  network: string[];
  /** In the policy's order: a name grants that name to be read, an injection grants only that very injection. */
  secrets: (string | SecretInjection)[];
  read: string[];
  write: string[];
  limits: LimitsPolicy;
  /** Layers its tools must run under. */
  requiredLayers: LayerName[];
}

/** An operator policy, validated, with every path absolute and canonical. */
export interface ResolvedPolicy {
  source: string;
  plugins: Map<string, ResolvedPluginPolicy>;
  deny: { paths: string[]; hosts: string[] };
}

/** "policy option", "policy.json", or "policy /etc/…/hosts.json": never "policy policy …". */
function policySubject(source: string): string {
  const shown = printableText(source);
  return shown.startsWith('policy') ? shown : `policy ${shown}`;
}

/**
 * Validates a policy object and canonicalises its paths against `baseDir`.
 * @throws PluginRuntimeError `policy_invalid` naming each bad field.
 */
export function resolvePolicy(input: PolicyInput | unknown, baseDir: string, source = 'policy'): ResolvedPolicy {
  const pluginEntries = input !== null && typeof input === 'object' ? (input as { plugins?: unknown }).plugins : undefined;
  const reserved = reservedKeyIssues(pluginEntries, 'plugins');
  const result = v.safeParse(PolicySchema, input);
  if (!result.success || reserved.length > 0) {
    const issues = [...reserved, ...(result.success ? [] : toSchemaIssues(result.issues, PolicySchema))];
    throw new PluginRuntimeError('policy_invalid', describeSchemaIssues(policySubject(source), issues), {
      details: { source, issues },
    });
  }
  const canonical = (entry: string) => canonicalisePath(baseDir, entry);
  const plugins = new Map<string, ResolvedPluginPolicy>();
  for (const [name, entry] of Object.entries(result.output.plugins)) {
    plugins.set(name, {
      provideTools: entry['provide-tools'],
      network: [...(entry['access-network'] ?? [])],
      secrets: (entry['access-secret'] ?? []).map((secret) => (typeof secret === 'string' ? secret : readInjection(secret.name, secret.inject))),
      read: (entry['access-filesystem']?.read ?? []).map(canonical),
      write: (entry['access-filesystem']?.write ?? []).map(canonical),
      limits: { ...entry.limits },
      requiredLayers: [...(entry.layers?.require ?? [])],
    });
  }
  return {
    source,
    plugins,
    deny: { paths: result.output.deny.paths.map(canonical), hosts: [...result.output.deny.hosts] },
  };
}

/** Why a policy file could not be read, in words: a missing file names the absolute path looked for. */
function policyReadProblem(file: string, cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const looked = path.resolve(file);
    const relative = path.isAbsolute(file) ? '' : ` (a relative path is taken from the current folder, ${printableText(process.cwd())})`;
    return `no policy file at ${printableText(looked)}${relative}`;
  }
  return jsonErrorMessage(cause, 'cannot read policy');
}

/**
 * Reads a policy file; relative paths in it resolve against the file's folder.
 * @throws PluginRuntimeError `policy_invalid` naming each bad field, or why the file cannot
 * be read (a JSON syntax error by line and column, with the line and a caret; a missing
 * file by the absolute path looked for).
 */
export function loadPolicyFile(file: string): ResolvedPolicy {
  let raw: unknown;
  try {
    raw = parseJson(readRegularFile(file, MAX_POLICY_BYTES));
  } catch (cause) {
    const issues = [{ path: '(root)', message: policyReadProblem(file, cause), expected: null, received: '' }];
    throw new PluginRuntimeError('policy_invalid', describeSchemaIssues(policySubject(file), issues), {
      details: { source: file, issues },
      cause,
    });
  }
  return resolvePolicy(raw, path.dirname(path.resolve(file)), file);
}
