import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { Metafile } from 'esbuild';
import { PluginRuntimeError } from '../errors.ts';
import { pathContains } from '../scopes/path-scope.ts';
import type { ConfinementRoots } from './confine-imports.ts';

function refused(entryPath: string, specifier: string, importer: string, why: string): PluginRuntimeError {
  return new PluginRuntimeError('import_refused', `import "${specifier}" in ${importer} refused: ${why}`, {
    details: { specifier, importer, entryPath, why },
  });
}

/**
 * The second confinement check, against the build's own record of what it read: every
 * input, realpath'd, must be a regular file inside the plugin folder or the SDK, and no
 * input may import anything left external but a `node:` built-in. esbuild expands a
 * template-literal `import()`/`require()` into a glob without asking the resolver and
 * records it as an external import of the pattern (`./files/**\/*.txt`), so a glob is
 * refused here even if it matched nothing.
 *
 * @param metafile paths in it are relative to `pluginDir`, the build's working folder.
 * @throws PluginRuntimeError `import_refused` naming the import and the file that made it.
 */
export function checkInputs(metafile: Metafile, roots: ConfinementRoots, entryPath: string): void {
  // Imports first, so a glob is named by the file that made it rather than by a match.
  for (const [input, { imports }] of Object.entries(metafile.inputs)) {
    for (const record of imports) {
      if (record.external && !record.path.startsWith('node:')) {
        const why = record.path.includes('*') ? 'a computed import expands into a glob' : 'it is left outside the bundle';
        throw refused(entryPath, record.path, path.resolve(roots.pluginDir, input), why);
      }
    }
  }
  for (const input of Object.keys(metafile.inputs)) {
    const file = path.resolve(roots.pluginDir, input);
    let real: string;
    try {
      real = realpathSync(file);
    } catch {
      throw refused(entryPath, input, '(bundle)', 'the bundle read a file that does not exist');
    }
    if (!lstatSync(real).isFile()) throw refused(entryPath, input, '(bundle)', 'the bundle read something that is not a regular file');
    if (!pathContains(roots.pluginDir, real) && !pathContains(roots.sdkDir, real)) {
      throw refused(entryPath, input, '(bundle)', `the bundle read a file outside the plugin folder and the SDK (${real})`);
    }
  }
}
