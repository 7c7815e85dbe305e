import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type * as esbuild from 'esbuild';
import { PluginRuntimeError } from '../errors.ts';
import { packagePath } from '../package-root.ts';
import { buildFingerprint, cachedBundle, recordBundle } from './bundle-cache.ts';
import { checkInputs } from './check-inputs.ts';
import { checkResolverFiles } from './check-resolver-files.ts';
import { type ConfinementRoots, confineImports } from './confine-imports.ts';
import { buildAbandonable } from './esbuild-service.ts';
import { type LoadRefusal, loadConfined } from './load-confined.ts';
import { writeAtomically } from '../write-atomically.ts';

/** The SDK's TypeScript sources: what the bundler feeds to Deno, never a compiled copy. */
const SDK_DIR = realpathSync(packagePath('plugin-sdk'));
const SDK_ENTRY = path.join(SDK_DIR, 'mod.ts');

export interface BundleResult {
  /** Absolute path of the bundle: content-addressed and read-only. */
  bundlePath: string;
  /** SHA-256 of the bundle, hex. */
  sha256: string;
}

/** How every plugin is built, apart from where and the confinement (tests reuse them for their controls). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  mainFields: ['module', 'main'],
  conditions: ['deno', 'import', 'default'],
  loader: { '.txt': 'text', '.json': 'json' },
  logLevel: 'silent',
  legalComments: 'none',
  // No tsconfig.json is read, in the plugin folder or above it (nor its `extends`).
  tsconfigRaw: '{}',
} as const satisfies esbuild.BuildOptions;

/**
 * Bundles a plugin entry with the SDK into one self-contained ESM file under
 * `bundleDir`, named by its content hash. Deno exempts a program's static module graph
 * from read checks, so the bundle must hold no import Deno would resolve from disk, and
 * no bytes from outside the plugin folder and the SDK: the files esbuild's resolver reads
 * by itself are checked first ({@link checkResolverFiles}), resolution is confined
 * ({@link confineImports}), every file is read by the host, not by esbuild
 * ({@link loadConfined}), and the build's own record of its inputs and the output are
 * checked after it ({@link checkInputs}). No tsconfig.json is read (`tsconfigRaw`): Deno
 * ignores them too, and their `extends` could name any file.
 *
 * Aborting `signal` abandons the build (see {@link buildAbandonable}); the promise then
 * rejects with the signal's reason.
 *
 * @throws PluginRuntimeError `import_refused` naming the import or file and why; `bundle_failed`.
 */
export async function bundlePlugin(
  entryPath: string,
  pluginDir: string,
  bundleDir: string,
  signal?: AbortSignal,
): Promise<BundleResult> {
  const roots: ConfinementRoots = { pluginDir, sdkDir: SDK_DIR, sdkEntry: SDK_ENTRY };
  const fingerprint = buildFingerprint({ pluginDir, sdkDir: SDK_DIR, entryPath, options: BUNDLE_OPTIONS });
  const cached = fingerprint === null ? undefined : cachedBundle(bundleDir, fingerprint);
  if (cached) return cached;
  checkResolverFiles(pluginDir, entryPath);
  const reached = new Set<string>();
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await buildAbandonable(
      {
        ...BUNDLE_OPTIONS,
        entryPoints: [entryPath],
        absWorkingDir: pluginDir,
        write: false,
        metafile: true,
        plugins: [confineImports(roots, reached), loadConfined(roots, reached)],
      },
      signal,
    );
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw toBundleError(error, entryPath, pluginDir);
  }
  checkInputs(result.metafile, roots, entryPath);

  const output = result.outputFiles[0]!;
  const leftover = Object.values(result.metafile.outputs)
    .flatMap((out) => out.imports)
    .filter((imp) => !imp.path.startsWith('node:'));
  if (leftover.length > 0) {
    throw new PluginRuntimeError(
      'import_refused',
      `bundle of ${entryPath} still imports ${leftover.map((imp) => `"${imp.path}"`).join(', ')}`,
      { details: { imports: leftover.map((imp) => imp.path) } },
    );
  }

  const sha256 = createHash('sha256').update(output.contents).digest('hex');
  mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
  const bundlePath = path.join(bundleDir, `${sha256}.js`);
  // A file already under this name is kept only if it still holds exactly these bytes.
  if (!holdsBundle(bundlePath, sha256)) {
    writeAtomically(bundlePath, output.contents, 0o444);
  }
  if (fingerprint !== null) recordBundle(bundleDir, fingerprint, sha256);
  return { bundlePath, sha256 };
}

function holdsBundle(bundlePath: string, sha256: string): boolean {
  try {
    return createHash('sha256').update(readFileSync(bundlePath)).digest('hex') === sha256;
  } catch {
    return false;
  }
}

function toBundleError(error: unknown, entryPath: string, pluginDir: string): PluginRuntimeError {
  const failure = error as esbuild.BuildFailure;
  const refused = failure.errors?.find((message) => message.pluginName === 'manasvi-confine-imports');
  if (refused) {
    const detail = refused.detail as { specifier?: string; importer?: string } | undefined;
    return new PluginRuntimeError('import_refused', refused.text, {
      details: { specifier: detail?.specifier, importer: detail?.importer, entryPath },
    });
  }
  const load = failure.errors?.find((message) => message.pluginName === 'manasvi-load-confined');
  if (load) return loadRefusedError(load, entryPath, pluginDir);
  const first = failure.errors?.[0];
  const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
  return new PluginRuntimeError('bundle_failed', `cannot bundle ${entryPath}: ${first?.text ?? String(error)}${where}`, {
    cause: error,
  });
}

/**
 * A file refused at load. One reached through a glob is named with the import that made
 * the glob and the file holding it: esbuild reports that import as the location.
 */
function loadRefusedError(message: esbuild.Message, entryPath: string, pluginDir: string): PluginRuntimeError {
  const detail = message.detail as LoadRefusal;
  const site = message.location;
  const specifier = site ? site.lineText.slice(site.column, site.column + site.length) : detail.globImports?.[0];
  const importer = site ? path.resolve(pluginDir, site.file) : detail.globImports ? detail.path : undefined;
  const where = site ? ` (import ${specifier} in ${site.file}:${site.line})` : '';
  return new PluginRuntimeError('import_refused', `${message.text}${where}`, {
    details: { path: detail.path, why: detail.why, specifier, importer, globImports: detail.globImports, entryPath },
  });
}
