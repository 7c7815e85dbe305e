import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { PluginRuntimeError } from '../errors.ts';
import { jsonErrorMessage, parseJson } from '../parse-json.ts';
import { printableText } from '../printable-text.ts';
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
  /** One value validator per tool that declares an `output` schema. */
  outputValidators: ReadonlyMap<string, ArgumentValidator>;
}

/** What a folder given instead of a manifest stands for. */
const MANIFEST_FILE_NAME = 'manifest.json';

function invalid(manifestPath: string, issues: SchemaIssue[], cause?: unknown): PluginRuntimeError {
  return new PluginRuntimeError('manifest_invalid', describeSchemaIssues(`manifest ${printableText(manifestPath)}`, issues), {
    details: { manifestPath, issues },
    cause,
  });
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Canonical form of `file`; a path that does not exist is `manifest_not_found` naming `shown`. */
function canonicalOrNotFound(file: string, shown: string, hint: string): string {
  try {
    return realpathSync(file);
  } catch (cause) {
    if (!isMissing(cause)) throw cause;
    let dangling = false;
    try {
      dangling = lstatSync(file).isSymbolicLink();
    } catch {
      // Not there at all.
    }
    const why = dangling ? 'it is a symlink whose target does not exist' : hint;
    throw new PluginRuntimeError('manifest_not_found', `no manifest at ${printableText(shown)}: ${why}`, {
      details: { manifestPath: shown },
      cause,
    });
  }
}

/**
 * The canonical manifest a path names: the file itself (symlinks followed), or the
 * `manifest.json` of a folder. Only `realpath` and `stat` look at the path, never `open`,
 * so a FIFO or device is left for {@link readRegularFile} to refuse without blocking.
 */
function resolveManifestFile(manifestFile: string): string {
  const given = path.resolve(manifestFile);
  const canonical = canonicalOrNotFound(given, given, `nothing there; give the path of a plugin's ${MANIFEST_FILE_NAME} or of its folder`);
  if (!statSync(canonical).isDirectory()) return canonical;
  const inside = path.join(given, MANIFEST_FILE_NAME);
  return canonicalOrNotFound(
    path.join(canonical, MANIFEST_FILE_NAME),
    inside,
    `the folder ${printableText(given)} has no ${MANIFEST_FILE_NAME}`,
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
  const issues = [...reserved, ...(result.success ? [] : toSchemaIssues(result.issues, ManifestSchema))];
  if (issues.length > 0 || !result.success) throw invalid(manifestPath, issues);
  return result.output;
}

/**
 * Reads, validates and resolves a plugin manifest.
 *
 * @throws PluginRuntimeError `manifest_not_found` naming the absolute path looked for;
 * `manifest_invalid` naming every bad field (a manifest that is not a regular file or is
 * over {@link MAX_MANIFEST_BYTES}, JSON syntax by line and column, schema — an unknown key
 * with the keys valid there —, an entry outside the plugin folder, missing (its absolute
 * path named) or not a regular file, a tool input or output schema that does not compile, is over
 * its limits, or holds a pattern RE2 cannot run).
 * @param manifestFile the manifest's path (relative to the current folder), or the plugin's
 * folder, which stands for its `manifest.json`
 * @returns the manifest with its canonical paths and one argument validator per tool
 * @example
 * const { manifest, entryPath } = loadManifest('plugins/notes/manifest.json');
 */
export function loadManifest(manifestFile: string, options: { validatorCacheDir?: string } = {}): LoadedManifest {
  let manifestPath = path.resolve(manifestFile);
  let raw: unknown;
  try {
    manifestPath = resolveManifestFile(manifestFile);
    raw = parseJson(readRegularFile(manifestPath, MAX_MANIFEST_BYTES));
  } catch (cause) {
    if (cause instanceof PluginRuntimeError) throw cause;
    throw invalid(manifestPath, [issue('(root)', jsonErrorMessage(cause, 'cannot read manifest'))], cause);
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
    } catch (cause) {
      const where = printableText(entryPath);
      const why = isMissing(cause) ? `no file at ${where}` : `cannot resolve ${where}: ${printableText((cause as Error).message)}`;
      issues.push(issue('entry', `${why} (entry is resolved against the manifest's folder)`, manifest.entry));
    }
  }

  const inputValidators = new Map<string, ArgumentValidator>();
  const outputValidators = new Map<string, ArgumentValidator>();
  const compileSchema = createInputSchemaCompiler(options.validatorCacheDir);
  compiling: for (const [toolName, tool] of Object.entries(manifest.tools)) {
    const schemas = [['input', tool.input, inputValidators], ['output', tool.output, outputValidators]] as const;
    for (const [field, schema, validators] of schemas) {
      if (schema === undefined) continue;
      try {
        validators.set(toolName, compileSchema(schema));
      } catch (cause) {
        issues.push(issue(`tools.${toolName}.${field}`, `a valid JSON Schema: ${(cause as Error).message}`));
        if (cause instanceof ManifestBudgetExceeded) break compiling;
      }
    }
  }
  if (issues.length > 0) throw invalid(manifestPath, issues);
  return { manifest, manifestPath, pluginDir, entryPath, inputValidators, outputValidators };
}
