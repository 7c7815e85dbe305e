import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { PluginRuntimeError } from '../errors.ts';
import { confineImports } from './confine-imports.ts';

const SDK_DIR = realpathSync(fileURLToPath(new URL('../../plugin-sdk/', import.meta.url)));
const SDK_ENTRY = path.join(SDK_DIR, 'mod.ts');

export interface BundleResult {
  /** Absolute path of the bundle: content-addressed and read-only. */
  bundlePath: string;
  /** SHA-256 of the bundle, hex. */
  sha256: string;
}

/**
 * Bundles a plugin entry with the SDK into one self-contained ESM file under
 * `bundleDir`, named by its content hash. Deno exempts a program's static module graph
 * from read checks, so the bundle must hold no import Deno would resolve from disk:
 * resolution is confined (see {@link confineImports}) and the output is checked for any
 * import left outside it.
 *
 * @throws PluginRuntimeError `import_refused` naming the import; `bundle_failed`.
 */
export async function bundlePlugin(entryPath: string, pluginDir: string, bundleDir: string): Promise<BundleResult> {
  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [entryPath],
      absWorkingDir: pluginDir,
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      conditions: ['deno', 'import', 'default'],
      loader: { '.txt': 'text', '.json': 'json' },
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [confineImports({ pluginDir, sdkDir: SDK_DIR, sdkEntry: SDK_ENTRY })],
    });
  } catch (error) {
    throw toBundleError(error, entryPath);
  }

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
  if (!existsSync(bundlePath)) {
    const temporary = `${bundlePath}.${process.pid}.tmp`;
    writeFileSync(temporary, output.contents, { mode: 0o444 });
    chmodSync(temporary, 0o444);
    renameSync(temporary, bundlePath);
  }
  return { bundlePath, sha256 };
}

function toBundleError(error: unknown, entryPath: string): PluginRuntimeError {
  const failure = error as esbuild.BuildFailure;
  const refused = failure.errors?.find((message) => message.pluginName === 'manasvi-confine-imports');
  if (refused) {
    const detail = refused.detail as { specifier?: string; importer?: string } | undefined;
    return new PluginRuntimeError('import_refused', refused.text, {
      details: { specifier: detail?.specifier, importer: detail?.importer, entryPath },
    });
  }
  const first = failure.errors?.[0];
  const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
  return new PluginRuntimeError('bundle_failed', `cannot bundle ${entryPath}: ${first?.text ?? String(error)}${where}`, {
    cause: error,
  });
}
