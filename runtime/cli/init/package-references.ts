import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../../package-root.ts';

/** How files in a new plugin folder refer to this package's files, each relative to that folder. */
export interface PackageReferences {
  /** The manifest JSON Schema, as a relative URI reference (for `"$schema"`). */
  manifestSchema: string;
  /** The SDK's TypeScript source, as a relative URL (for deno.json `imports`). */
  sdkSource: string;
  /** The SDK's type declarations, as a relative file path (for tsconfig.json `paths`). */
  sdkTypes: string;
  /** What a script in the folder imports the host API by: the package name when it resolves from there, else a relative URL. */
  runtimeImport: string;
}

const PACKAGE_NAME = 'manasvi-plugins';

function realPackageRoot(): string {
  return realpathSync(PACKAGE_ROOT);
}

function relativeSegments(from: string, to: string): string[] | undefined {
  const relative = path.relative(from, to);
  // Another drive (Windows): there is no relative path.
  if (path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep);
}

/** A relative file path with `/` separators, always starting with `./` or `../`. */
function relativePath(from: string, to: string): string {
  const segments = relativeSegments(from, to);
  if (!segments) return to;
  const joined = segments.join('/');
  return joined.startsWith('..') ? joined : `./${joined}`;
}

/**
 * The same as a relative URL reference: each segment percent-encoded, so a folder named
 * with `#`, `?`, `%` or a space still points where it should.
 */
function relativeUrl(from: string, to: string): string {
  const segments = relativeSegments(from, to);
  if (!segments) return pathToFileURL(to).href;
  const joined = segments.map(encodeURIComponent).join('/');
  return joined.startsWith('..') ? joined : `./${joined}`;
}

function readName(packageJson: string): unknown {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}

function realpathOrUndefined(file: string): string | undefined {
  try {
    return realpathSync(file);
  } catch {
    return undefined;
  }
}

function nearestPackageFolder(folder: string): string | undefined {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    try {
      readFileSync(path.join(dir, 'package.json'));
      return dir;
    } catch {
      // none here: keep climbing
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether `import 'manasvi-plugins'` from a module in `folder` reaches this very package,
 * as Node resolves it: the package's own name from inside it (the nearest package.json is
 * this package's), else the first `node_modules/manasvi-plugins` above the folder.
 */
export function packageResolvesFrom(folder: string): boolean {
  const root = realPackageRoot();
  const scope = nearestPackageFolder(folder);
  if (scope !== undefined && readName(path.join(scope, 'package.json')) === PACKAGE_NAME) {
    return realpathOrUndefined(scope) === root;
  }
  for (let dir = folder; ; dir = path.dirname(dir)) {
    const installed = realpathOrUndefined(path.join(dir, 'node_modules', PACKAGE_NAME));
    if (installed !== undefined) return installed === root;
    if (path.dirname(dir) === dir) return false;
  }
}

/**
 * How a plugin folder refers to this package. `folder` must be canonical (realpath'd, a
 * missing tail kept): the paths are computed between real locations, as the runtime
 * resolves plugin folders.
 */
export function packageReferences(folder: string): PackageReferences {
  const root = realPackageRoot();
  return {
    manifestSchema: relativeUrl(folder, path.join(root, 'manifests', 'plugin-manifest.schema.json')),
    sdkSource: relativeUrl(folder, path.join(root, 'plugin-sdk', 'mod.ts')),
    sdkTypes: relativePath(folder, path.join(root, 'dist', 'types', 'plugin-sdk', 'mod.d.ts')),
    runtimeImport: packageResolvesFrom(folder)
      ? PACKAGE_NAME
      : relativeUrl(folder, path.join(root, 'dist', 'index.js')),
  };
}
