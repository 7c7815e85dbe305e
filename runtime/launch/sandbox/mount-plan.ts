import path from 'node:path';

/**
 * How one path enters a tool's file system (see sandbox-launcher.pl):
 * - `exec`: the Deno binary and its libraries, read-only and executable; links on the way
 *   (`/lib` → `usr/lib`) are made again inside, since the loader knows them by those names.
 * - `etc`: a system file name resolution reads (`/etc/hosts`), read-only, links made again.
 * - `ro` / `rw`: the bundle and the granted paths, opened without following any link (a
 *   link swapped in after the host's checks is refused), `nosuid,nodev,noexec`; missing
 *   ones are left out.
 */
export type BindKind = 'exec' | 'etc' | 'ro' | 'rw';

export interface Bind {
  kind: BindKind;
  path: string;
}

export interface MountPlanInput {
  denoPath: string;
  libraries: readonly string[];
  bundlePath: string;
  grants: { read: readonly string[]; write: readonly string[]; network: readonly string[] };
  /**
   * The tool reaches the network only through the bridge to the egress gateway: it resolves
   * no names itself (the launcher writes a resolv.conf naming its DNS sink), so no
   * name-resolution file of the host is bound.
   */
  bridged?: boolean;
  /** Files the tool's Deno reads by itself, bound read-only: the gateway's CA certificate. */
  extraFiles?: readonly string[];
}

/** What a tool that resolves host names reads; nothing else of /etc is there. */
const NAME_RESOLUTION_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/nsswitch.conf', '/etc/gai.conf'];

const isInside = (parent: string, child: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);
const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1);
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The granted paths as binds: one per path, parents before children, and a path left out
 * where a bind above it already gives as much (a read inside a write grant is writable,
 * as Deno's own check has it; a write inside a read grant is bound writable over it). Pure.
 */
export function grantBinds(read: readonly string[], write: readonly string[]): Bind[] {
  const entries: Bind[] = [
    ...write.map((p) => ({ kind: 'rw' as const, path: path.resolve(p) })),
    ...read.map((p) => ({ kind: 'ro' as const, path: path.resolve(p) })),
  ];
  // Parents first; at one path, the write before the read.
  entries.sort((a, b) => depth(a.path) - depth(b.path) || compare(a.path, b.path) || (a.kind === 'rw' ? -1 : 1) - (b.kind === 'rw' ? -1 : 1));
  const kept: Bind[] = [];
  for (const entry of entries) {
    const coveredBy = (other: Bind) => isInside(other.path, entry.path) && (other.kind === 'rw' || entry.kind === 'ro');
    if (!kept.some(coveredBy)) kept.push(entry);
  }
  return kept;
}

/**
 * Every bind of one tool's file system, in the order the launcher makes them: the bundle
 * and the grants, then Deno's own files on top, so a grant of a folder above them (a read
 * grant of `/usr`) cannot cover them with a noexec or writable bind (the launcher keeps
 * that order whatever it is given). Pure.
 */
export function mountPlan(input: MountPlanInput): Bind[] {
  return [
    { kind: 'ro', path: input.bundlePath },
    ...grantBinds(input.grants.read, input.grants.write),
    { kind: 'exec', path: input.denoPath },
    ...input.libraries.map((lib) => ({ kind: 'exec' as const, path: lib })),
    ...(input.grants.network.length > 0 && !input.bridged ? NAME_RESOLUTION_FILES.map((file) => ({ kind: 'etc' as const, path: file })) : []),
    ...(input.extraFiles ?? []).map((file) => ({ kind: 'etc' as const, path: file })),
  ];
}

/** The plan as launcher arguments: `--exec /path --ro /path …`. */
export function planArgs(plan: readonly Bind[]): string[] {
  return plan.flatMap((bind) => [`--${bind.kind}`, bind.path]);
}
