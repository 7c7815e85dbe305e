import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { PluginRuntimeError } from '../errors.ts';
import { describeSchemaIssues, type SchemaIssue, toSchemaIssues } from '../schema-issues.ts';
import { pathContains } from '../scopes/path-scope.ts';
import { type ArgumentValidator, createInputSchemaCompiler, ManifestBudgetExceeded } from './input-validator.ts';
import { type Manifest, ManifestSchema, MAX_TOOLS } from './manifest-schema.ts';
import { fileKind, readRegularFile } from './read-regular-file.ts';
import { reservedKeyIssues } from './reserved-keys.ts';

/**
 * Largest manifest.json read, in bytes. Loading is synchronous on the host's main thread,
 * so this bounds its cost: parsing, validation and compiling every input schema of a
 * manifest this size take well under a second. A hundred tools with generous schemas
 * need a few hundred KiB.
 */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** A validated manifest plus where it lives on disk. */
export interface LoadedManifest {
  manifest: Manifest;
  /** Canonical path of manifest.json. */
  manifestPath: string;
  /** Canonical folder of the manifest: the plugin's folder, which bundling is confined to. */
  pluginDir: string;
  /** Canonical path of the entry module, inside `pluginDir`. */
  entryPath: string;
  /** One argument validator per tool, compiled from its `input` schema. */
  inputValidators: ReadonlyMap<string, ArgumentValidator>;
}

function invalid(manifestPath: string, issues: SchemaIssue[], cause?: unknown): PluginRuntimeError {
  return new PluginRuntimeError(
    'manifest_invalid',
    `manifest ${manifestPath} is invalid: ${describeSchemaIssues(issues)}`,
    { details: { manifestPath, issues }, cause },
  );
}

function issue(pathText: string, message: string, received = ''): SchemaIssue {
  return { path: pathText, message, expected: null, received };
}

/** Validates an already-parsed manifest object; every issue is reported, each naming its field. */
export function parseManifest(input: unknown, manifestPath = 'manifest.json'): Manifest {
  const tools = input !== null && typeof input === 'object' ? (input as { tools?: unknown }).tools : undefined;
  if (tools !== null && typeof tools === 'object' && Object.keys(tools).length > MAX_TOOLS) {
    // Refused before valibot checks every one of them.
    throw invalid(manifestPath, [issue('tools', `at most ${MAX_TOOLS} tools`, `${Object.keys(tools).length} tools`)]);
  }
  const reserved = reservedKeyIssues(tools, 'tools');
  const result = v.safeParse(ManifestSchema, input);
  const issues = [...reserved, ...(result.success ? [] : toSchemaIssues(result.issues))];
  if (issues.length > 0 || !result.success) throw invalid(manifestPath, issues);
  return result.output;
}

/**
 * Reads, validates and resolves a plugin manifest.
 *
 * @throws PluginRuntimeError `manifest_invalid` naming every bad field (a manifest that
 * is not a regular file or is over {@link MAX_MANIFEST_BYTES}, JSON syntax, schema, an
 * entry outside the plugin folder or not a regular file, a tool input schema that does
 * not compile, is over its limits, or holds a pattern RE2 cannot run).
 * @param manifestFile the manifest's path (relative to the current folder)
 * @returns the manifest with its canonical paths and one argument validator per tool
 * @example
 * const { manifest, entryPath } = loadManifest('plugins/notes/manifest.json');
 */
export function loadManifest(manifestFile: string, options: { validatorCacheDir?: string } = {}): LoadedManifest {
  let manifestPath: string;
  let raw: unknown;
  try {
    manifestPath = realpathSync(path.resolve(manifestFile));
    raw = JSON.parse(readRegularFile(manifestPath, MAX_MANIFEST_BYTES));
  } catch (cause) {
    throw invalid(manifestFile, [issue('(root)', `cannot read manifest: ${(cause as Error).message}`)], cause);
  }
  const manifest = parseManifest(raw, manifestPath);
  const pluginDir = path.dirname(manifestPath);
  const issues: SchemaIssue[] = [];

  let entryPath = path.resolve(pluginDir, manifest.entry);
  if (path.isAbsolute(manifest.entry)) {
    issues.push(issue('entry', 'a path relative to the manifest', manifest.entry));
  } else {
    try {
      entryPath = realpathSync(entryPath);
      if (!pathContains(pluginDir, entryPath)) issues.push(issue('entry', 'a file inside the plugin folder', manifest.entry));
      else {
        // stat, never open: a FIFO entry must be refused, not waited on.
        const stats = statSync(entryPath);
        if (!stats.isFile()) issues.push(issue('entry', `a regular file (it is ${fileKind(stats)})`, manifest.entry));
      }
    } catch {
      issues.push(issue('entry', 'an existing file', manifest.entry));
    }
  }

  const inputValidators = new Map<string, ArgumentValidator>();
  const compileInputSchema = createInputSchemaCompiler(options.validatorCacheDir);
  for (const [toolName, tool] of Object.entries(manifest.tools)) {
    try {
      inputValidators.set(toolName, compileInputSchema(tool.input));
    } catch (cause) {
      issues.push(issue(`tools.${toolName}.input`, `a valid JSON Schema: ${(cause as Error).message}`));
      if (cause instanceof ManifestBudgetExceeded) break;
    }
  }
  if (issues.length > 0) throw invalid(manifestPath, issues);
  return { manifest, manifestPath, pluginDir, entryPath, inputValidators };
}
