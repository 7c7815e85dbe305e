/**
 * Path scopes: whether one filesystem path lies inside another. Every grant, policy rule
 * and bundle-confinement check asks this here, so there is one answer to it.
 *
 * **Inputs.** Absolute canonical POSIX paths, as `canonicalisePath` (./canonicalise-path.ts)
 * or `realpath` returns them. Anything else is read lexically, never against the disk or the working
 * folder: repeated and trailing slashes are dropped, `.` segments are ignored, and `..`
 * removes the segment before it (at `/` it stays at `/`). That reading is only what the
 * filesystem means when no symlink sits under a `..`, which is why callers canonicalise
 * first. A relative path, or the empty string, has no place in the tree: it is inside
 * nothing and holds nothing, so every check here answers `false` for it (fail closed,
 * rather than guessing a base folder).
 *
 * Comparison is by whole segments: `/a/b` is not inside `/a/bc`.
 *
 * @module
 */

/** The segments of an absolute path, read lexically (see the module notes); null for a relative one. */
export function pathSegments(p: string): string[] | null {
  if (!p.startsWith('/')) return null;
  const segments: string[] = [];
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments;
}

function startsWithSegments(
  outer: string,
  inner: string,
  same: (outerSegment: string, innerSegment: string) => boolean,
): boolean {
  const o = pathSegments(outer);
  const i = pathSegments(inner);
  if (o === null || i === null || o.length > i.length) return false;
  return o.every((segment, index) => same(segment, i[index]!));
}

/**
 * True when `inner` is `outer` or lies inside it, segment by segment.
 *
 * @param outer an absolute canonical path: the grant, the tree, the root
 * @param inner an absolute canonical path: what is asked for
 * @returns false when either is relative (see the module notes)
 * @example
 * pathContains('/data', '/data/file.txt'); // true
 * pathContains('/data', '/data2');         // false
 * pathContains('/', '/anything');          // true
 */
export function pathContains(outer: string, inner: string): boolean {
  return startsWithSegments(outer, inner, (o, i) => o === i);
}

/**
 * True when one path is the other or lies inside it: a grant of either reaches into the other.
 *
 * @example
 * pathsOverlap('/', '/etc');      // true
 * pathsOverlap('/a/bc', '/a/b');  // false
 */
export function pathsOverlap(a: string, b: string): boolean {
  return pathContains(a, b) || pathContains(b, a);
}

/** Glob match of one segment: each `*` stands for one or more characters (never `/`). */
function segmentMatches(pattern: string, segment: string): boolean {
  const pieces = pattern.split('*');
  if (pieces.length === 1) return pattern === segment;
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (!segment.startsWith(first)) return false;
  let end = first.length;
  for (const piece of pieces.slice(1, -1)) {
    // Leftmost placement leaves the most room for what follows; +1 because `*` is never empty.
    const at = segment.indexOf(piece, end + 1);
    if (at === -1) return false;
    end = at + piece.length;
  }
  return segment.length - last.length >= end + 1 && segment.endsWith(last);
}

/**
 * True when `inner` is, or lies inside, a path that `pattern` matches, where `*` in a
 * segment of `pattern` stands for one or more characters other than `/`. A pattern with
 * no `*` is {@link pathContains}. Same input rules as {@link pathContains}.
 *
 * @example
 * pathInsidePattern('/home/alice/.*', '/home/alice/.ssh/id_ed25519'); // true
 * pathInsidePattern('/home/alice/.*', '/home/alice/notes');           // false
 * pathInsidePattern('/home/alice/.*', '/home/alice/.');               // false: `.` is no segment
 */
export function pathInsidePattern(pattern: string, inner: string): boolean {
  return startsWithSegments(pattern, inner, segmentMatches);
}
