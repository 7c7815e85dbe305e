/**
 * Where the package's own files are, whether this module runs from its TypeScript source
 * (`runtime/package-root.ts`) or compiled (`dist/runtime/package-root.js`).
 *
 * The runtime needs files that are never compiled: the SDK's sources (what the bundler feeds
 * to Deno), `deno-launch.json`, the example plugins. Each is found from the package root,
 * the nearest folder above this module whose `package.json` names this package.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'manasvi-plugins';

function findPackageRoot(start: string): { root: string; version: string } {
  for (let dir = start; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === PACKAGE_NAME) return { root: dir, version: String(manifest.version) };
    } catch {
      // no package.json here, or not ours: keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`${PACKAGE_NAME}: no package.json naming this package above ${start}`);
  }
}

const found = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));

/** Absolute path of the package's root folder (the one holding its package.json). */
export const PACKAGE_ROOT = found.root;

/** The package's version, from its package.json. */
export const PACKAGE_VERSION = found.version;

/** Absolute path of a file or folder inside the package, given relative to its root. */
export function packagePath(...segments: string[]): string {
  return path.join(PACKAGE_ROOT, ...segments);
}

/**
 * The package's own code and config: a grant over any of them would let a plugin rewrite its
 * jailer. When the package is installed, the `node_modules` folder holding it is included
 * (its dependencies, esbuild and Deno among them, live there, not inside the package).
 */
export function packageOwnPaths(): string[] {
  const own = ['runtime', 'dist', 'bin', 'plugin-sdk', 'node_modules', 'deno-launch.json', 'package.json'].map((name) => packagePath(name));
  const parent = path.dirname(PACKAGE_ROOT);
  if (path.basename(parent) === 'node_modules') own.push(parent);
  return own;
}
