/**
 * Finds the bundle an earlier load built from exactly the same files, so a load of an
 * unchanged plugin starts no esbuild at all.
 *
 * The key is a fingerprint of everything the build could have read: every entry of the
 * plugin folder and of the SDK folder as `lstat` sees it (path, type, mode, size, inode,
 * modification and change times), the resolver files in the folders above the plugin, the
 * entry, esbuild's version and the build options. Writing, adding, removing, renaming or
 * re-linking anything there changes a change time the owner cannot set, so the key
 * changes and the next load builds (and checks) again. Nothing is opened or followed while
 * fingerprinting: a FIFO or a symlink is only `lstat`ed.
 *
 * Only a build that passed every confinement check is recorded, under the bundle folder
 * (mode 0700 in the state folder no grant can reach); a hit is re-hashed before use.
 */
import { createHash, type Hash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { RESOLVER_FILES } from './check-resolver-files.ts';
import { writeAtomically } from '../write-atomically.ts';

/** A folder with more entries than this is not fingerprinted: it is simply built each time. */
const MAX_FINGERPRINT_ENTRIES = 20_000;
const INDEX_FOLDER = 'by-inputs';
const FORMAT = 'manasvi-bundle-cache-1';

function esbuildVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('esbuild/package.json') as { version: string }).version;
}

function addStat(hash: Hash, where: string): void {
  try {
    const s = lstatSync(where, { bigint: true });
    hash.update(`${where}\0${s.mode}:${s.size}:${s.dev}:${s.ino}:${s.mtimeNs}:${s.ctimeNs}\n`);
  } catch {
    hash.update(`${where}\0absent\n`);
  }
}

/** Adds every entry under `root` (not following symlinks); false once past the budget. */
function addTree(hash: Hash, root: string, budget: { left: number }): boolean {
  addStat(hash, root);
  const stack = [root];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      hash.update(`${dir}\0unlistable\n`);
      continue;
    }
    for (const name of names) {
      if (--budget.left < 0) return false;
      const where = path.join(dir, name);
      addStat(hash, where);
      try {
        if (lstatSync(where).isDirectory()) stack.push(where);
      } catch {
        // gone since the listing: its absence is already in the hash
      }
    }
  }
  return true;
}

/**
 * The fingerprint of a build's possible inputs, or null when the folder is too large to
 * fingerprint cheaply.
 */
export function buildFingerprint(input: { pluginDir: string; sdkDir: string; entryPath: string; options: unknown }): string | null {
  const hash = createHash('sha256');
  hash.update(`${FORMAT}\n${esbuildVersion()}\n${JSON.stringify(input.options)}\n${input.entryPath}\n`);
  const budget = { left: MAX_FINGERPRINT_ENTRIES };
  if (!addTree(hash, input.pluginDir, budget) || !addTree(hash, input.sdkDir, budget)) return null;
  for (let dir = path.dirname(input.pluginDir); ; dir = path.dirname(dir)) {
    for (const name of RESOLVER_FILES) addStat(hash, path.join(dir, name));
    if (path.dirname(dir) === dir) break;
  }
  return hash.digest('hex');
}

/** The path of the bundle recorded for `fingerprint`, if it is still there and intact. */
export function cachedBundle(bundleDir: string, fingerprint: string): { bundlePath: string; sha256: string } | undefined {
  let sha256: string;
  try {
    sha256 = readFileSync(path.join(bundleDir, INDEX_FOLDER, fingerprint), 'utf8');
  } catch {
    return undefined;
  }
  if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const bundlePath = path.join(bundleDir, `${sha256}.js`);
  try {
    const s = lstatSync(bundlePath);
    if (!s.isFile()) return undefined;
    if (createHash('sha256').update(readFileSync(bundlePath)).digest('hex') !== sha256) return undefined;
  } catch {
    return undefined;
  }
  return { bundlePath, sha256 };
}

/** Records that `fingerprint` built the bundle with this hash (best effort). */
export function recordBundle(bundleDir: string, fingerprint: string, sha256: string): void {
  const folder = path.join(bundleDir, INDEX_FOLDER);
  const target = path.join(folder, fingerprint);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    writeAtomically(target, sha256, 0o600);
  } catch {
    // the next load builds again
  }
}
