import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Canonicalises a manifest path: resolved against the plugin folder, then realpath'd.
 * A path that does not exist yet (a write target) keeps its missing tail under the
 * canonical form of its nearest existing ancestor, so a symlinked ancestor still
 * grants the real location, never the link. What it returns is what path-scope.ts's
 * checks expect.
 */
export function canonicalisePath(pluginDir: string, entry: string): string {
  const absolute = path.resolve(pluginDir, entry);
  const missing: string[] = [];
  let probe = absolute;
  for (;;) {
    try {
      return path.join(realpathSync(probe), ...missing.reverse());
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return absolute;
      missing.push(path.basename(probe));
      probe = parent;
    }
  }
}
