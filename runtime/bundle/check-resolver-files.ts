import { type Dirent, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { PluginRuntimeError } from '../errors.ts';
import { pathContains } from '../scopes/path-scope.ts';
import { MAX_BUNDLED_FILE_BYTES } from './read-confined-file.ts';

/**
 * Files esbuild's resolver reads by itself, in any folder it looks at, without a plugin
 * hook: package manifests and Yarn PnP data. (tsconfig.json and jsconfig.json are not
 * read at all: the build passes `tsconfigRaw`.)
 */
export const RESOLVER_FILES: ReadonlySet<string> = new Set(['package.json', '.pnp.data.json', '.pnp.cjs', '.pnp.js']);

/** A plugin folder larger than this is refused rather than half-checked. */
export const MAX_FOLDER_ENTRIES = 200_000;

/**
 * Walks the plugin folder (not following symlinks) before the build, so that what
 * esbuild reads on its own is safe to read: each file named in {@link RESOLVER_FILES} must
 * be, or lead by symlink to, a regular file inside the folder within the size limit. A
 * FIFO named package.json would block esbuild's read forever; a symlink to /dev/zero or
 * a huge file would never end; a symlink leading out would read a file that is not the
 * plugin's.
 *
 * @throws PluginRuntimeError `import_refused` naming the file and why.
 */
export function checkResolverFiles(pluginDir: string, entryPath: string): void {
  const refuse = (where: string, why: string) =>
    new PluginRuntimeError('import_refused', `${where} refused: ${why}; esbuild reads it while resolving imports`, {
      details: { path: where, why, entryPath },
    });
  let budget = MAX_FOLDER_ENTRIES;
  const stack = [pluginDir];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue; // esbuild cannot list it either
    }
    for (const entry of entries) {
      if (--budget < 0) throw refuse(pluginDir, `holds more than ${MAX_FOLDER_ENTRIES} entries`);
      const where = path.join(dir, entry.name);
      if (entry.isDirectory()) stack.push(where);
      else if (RESOLVER_FILES.has(entry.name)) {
        const why = unsafeResolverFile(pluginDir, where, entry);
        if (why) throw refuse(where, why);
      }
    }
  }
}

function unsafeResolverFile(pluginDir: string, where: string, entry: Dirent): string | undefined {
  if (!entry.isFile() && !entry.isSymbolicLink()) return 'is not a regular file';
  let real: string;
  try {
    real = realpathSync(where);
  } catch {
    return undefined; // a dangling symlink: esbuild skips it
  }
  if (!pathContains(pluginDir, real)) return `leads out of the plugin folder (to ${real})`;
  const info = statSync(real);
  if (info.isDirectory()) return undefined; // esbuild looks for a file by that name only
  if (!info.isFile()) return 'is not a regular file';
  if (info.size > MAX_BUNDLED_FILE_BYTES) return `is over the ${MAX_BUNDLED_FILE_BYTES}-byte limit`;
  return undefined;
}
