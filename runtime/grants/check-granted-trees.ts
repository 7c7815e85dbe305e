import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { PluginRuntimeError } from '../errors.ts';
import { type Grants, pathGrantCovers } from './grants.ts';

/** A grant tree larger than this is refused rather than half-checked. */
export const MAX_ENTRIES_CHECKED = 50_000;

function refused(mode: string, root: string, where: string, why: string): PluginRuntimeError {
  return new PluginRuntimeError('grant_refused', `${mode} grant ${root} refused: ${where} ${why}`, {
    details: { mode, root, path: where, why },
  });
}

/**
 * Walks every granted tree with lstat before a launch. Deno follows symlinks and hard
 * links inside a granted tree and its permission lists do not stop them, so a symlink
 * whose target lies outside the process's grants of the same mode (or dangles), or a
 * regular file with more than one hard link, refuses the launch with the path named.
 *
 * @throws PluginRuntimeError `grant_refused`
 */
export function checkGrantedTrees(grants: Pick<Grants, 'read' | 'write'>): void {
  let budget = MAX_ENTRIES_CHECKED;
  for (const mode of ['read', 'write'] as const) {
    const roots = grants[mode];
    for (const root of roots) {
      const stack = [root];
      while (stack.length > 0) {
        const current = stack.pop()!;
        if (--budget < 0) throw refused(mode, root, current, `is past the ${MAX_ENTRIES_CHECKED}-entry limit the host verifies`);
        let stat;
        try {
          stat = lstatSync(current);
        } catch {
          continue; // a grant for a path that does not exist yet holds nothing to follow
        }
        if (stat.isSymbolicLink()) {
          let target: string;
          try {
            target = realpathSync(current);
          } catch {
            throw refused(mode, root, current, `is a dangling symlink (to ${readlinkSync(current)})`);
          }
          if (!roots.some((granted) => pathGrantCovers(granted, target))) {
            throw refused(mode, root, current, `is a symlink leading out of the grant (to ${target})`);
          }
        } else if (stat.isDirectory()) {
          for (const name of readdirSync(current)) stack.push(path.join(current, name));
        } else if (stat.isFile() && stat.nlink > 1) {
          throw refused(mode, root, current, `is a hard-linked file (${stat.nlink} links)`);
        }
      }
    }
  }
}
