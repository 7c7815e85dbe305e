import os from 'node:os';
import path from 'node:path';
import { pathContains, pathInsidePattern, pathSegments, pathsOverlap } from '../scopes/path-scope.ts';

/** Trees no plugin gets unless the policy names them (a policy entry at or inside the tree). */
export const SENSITIVE_TREES = ['/proc', '/sys', '/dev', '/etc', '/boot', '/root', '/run', '/var/run'];

/**
 * The sensitive trees a canonical path touches: `/` itself, the system trees above,
 * and dot-files in home folders (`/home/<user>/.ssh`, the host user's `~/.config`, …).
 */
export function sensitiveTreesTouched(canonical: string): string[] {
  const touched = SENSITIVE_TREES.filter((tree) => pathsOverlap(canonical, tree));
  if (canonical === '/') touched.push('/');
  // root's home is /root (a sensitive tree already): its parent "/" is not a homes folder.
  const homesDir = path.dirname(os.homedir());
  const homes = new Set(['/home', ...(homesDir === '/' ? [] : [homesDir])]);
  for (const home of homes) {
    if (!pathContains(home, canonical)) {
      if (pathContains(canonical, home)) touched.push(`${home}/*/.*`);
      continue;
    }
    const parts = pathSegments(canonical)!.slice(pathSegments(home)!.length);
    // The homes folder itself holds every user's dot-files.
    if (parts.length === 0) touched.push(`${home}/*/.*`);
    else if (parts.length === 1) touched.push(`${home}/${parts[0]}/.*`);
    else if (parts[1]!.startsWith('.')) touched.push(`${home}/${parts[0]}/${parts[1]}`);
  }
  return touched;
}

/**
 * True when the policy entry names the sensitive tree explicitly: it is at or inside the
 * tree (`*` in a tree standing for one or more characters of a segment). Only `/` names `/`.
 */
export function namesTree(policyEntry: string, tree: string): boolean {
  if (tree === '/') return policyEntry === '/';
  return pathInsidePattern(tree, policyEntry);
}
