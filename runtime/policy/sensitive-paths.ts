import os from 'node:os';
import path from 'node:path';

/** Trees no plugin gets unless the policy names them (a policy entry at or inside the tree). */
export const SENSITIVE_TREES = ['/proc', '/sys', '/dev', '/etc', '/boot', '/root', '/run', '/var/run'];

/** True when one canonical path is the other or lies inside it. */
export function overlaps(a: string, b: string): boolean {
  const inside = (child: string, parent: string) =>
    child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
  return inside(a, b) || inside(b, a);
}

/**
 * The sensitive trees a canonical path touches: `/` itself, the system trees above,
 * and dot-files in home folders (`/home/<user>/.ssh`, the host user's `~/.config`, …).
 */
export function sensitiveTreesTouched(canonical: string): string[] {
  const touched = SENSITIVE_TREES.filter((tree) => overlaps(canonical, tree));
  if (canonical === '/') touched.push('/');
  // root's home is /root (a sensitive tree already): its parent "/" is not a homes folder.
  const homesDir = path.dirname(os.homedir());
  const homes = new Set(['/home', ...(homesDir === '/' ? [] : [homesDir])]);
  for (const home of homes) {
    const relative = path.relative(home, canonical);
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      if (overlaps(canonical, home)) touched.push(`${home}/*/.*`);
      continue;
    }
    const parts = relative.split(path.sep);
    // The homes folder itself holds every user's dot-files.
    if (relative === '') touched.push(`${home}/*/.*`);
    else if (parts.length === 1) touched.push(`${home}/${parts[0]}/.*`);
    else if (parts.length >= 2 && parts[1]!.startsWith('.')) touched.push(`${home}/${parts[0]}/${parts[1]}`);
  }
  return touched;
}

/** True when the policy entry names the sensitive tree explicitly: it is at or inside the tree. */
export function namesTree(policyEntry: string, tree: string): boolean {
  if (tree === '/') return policyEntry === '/';
  if (tree.includes('*')) {
    const pattern = new RegExp(`^${tree.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+')}(/|$)`);
    return pattern.test(policyEntry);
  }
  return policyEntry === tree || policyEntry.startsWith(`${tree}/`);
}
