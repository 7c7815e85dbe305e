import { lstatSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { PluginRuntimeError } from '../errors.ts';
import { pathContains } from '../scopes/path-scope.ts';
import type { Grants } from './grants.ts';
import { isSetIdFile } from './setid-sweep.ts';

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
 * In a writable tree (a write grant, or the part of a read grant inside one) every symlink
 * is refused: the plugin may rename it, and a relative target then means somewhere else
 * (`out/a/b/link -> ../../x` moved to `out/link`). Deno refuses to create symlinks under
 * path-scoped grants, so none can appear there during the launch either. A set-uid or
 * set-gid file in a writable tree is refused too: a root plugin writing into it keeps the
 * bit (CAP_FSETID), and the plugin must not leave one behind.
 *
 * @throws PluginRuntimeError `grant_refused`
 */
export function checkGrantedTrees(grants: Pick<Grants, 'read' | 'write'>): void {
  const writable = (where: string) => grants.write.some((granted) => pathContains(granted, where));
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
        if (stat.isSymbolicLink() && writable(current)) {
          throw refused(mode, root, current, `is a symlink in a writable tree (to ${readlinkSync(current)})`);
        } else if (stat.isSymbolicLink()) {
          let target: string;
          try {
            target = realpathSync(current);
          } catch {
            throw refused(mode, root, current, `is a dangling symlink (to ${readlinkSync(current)})`);
          }
          if (!roots.some((granted) => pathContains(granted, target))) {
            throw refused(mode, root, current, `is a symlink leading out of the grant (to ${target})`);
          }
        } else if (stat.isDirectory()) {
          for (const name of readdirSync(current)) stack.push(path.join(current, name));
        } else if (stat.isFile() && stat.nlink > 1) {
          throw refused(mode, root, current, `is a hard-linked file (${stat.nlink} links)`);
        } else if (isSetIdFile(stat) && writable(current)) {
          throw refused(mode, root, current, `is a set-uid/set-gid file in a writable tree (mode ${(stat.mode & 0o7777).toString(8)})`);
        }
      }
    }
  }
}
