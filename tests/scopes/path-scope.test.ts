import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { pathContains, pathInsidePattern, pathSegments, pathsOverlap } from '../../runtime/scopes/path-scope.ts';

/** The reference: `inner` is `outer` or below it when the way from one to the other never climbs. */
function referenceContains(outer: string, inner: string): boolean {
  const relative = path.posix.relative(outer, inner);
  return relative === '' || (relative !== '..' && !relative.startsWith('../') && !path.posix.isAbsolute(relative));
}

/** The regular expression `namesTree` used before path-scope: `*` as `[^/]+`, anchored on a segment boundary. */
function referenceInsidePattern(pattern: string, inner: string): boolean {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]+');
  return new RegExp(`^${escaped}(/|$)`).test(inner);
}

// Few distinct names, so generated pairs often share segments, prefixes and dots.
const segment = fc.oneof(
  fc.constantFrom('a', 'b', 'ab', 'bc', 'a.b', '.a', '..a', 'a..', '.', '..', ''),
  fc.stringMatching(/^[ab.]{1,3}$/),
);
const segments = fc.array(segment, { maxLength: 6 });
const absolutePath = fc
  .tuple(segments, fc.boolean())
  .map(([parts, trailing]) => `/${parts.join('/')}${trailing && parts.length > 0 ? '/' : ''}`);
const relativePath = fc.oneof(
  fc.constant(''),
  fc.tuple(fc.constantFrom('a', '.', '..', 'ab'), segments).map(([first, rest]) => [first, ...rest].join('/')),
);
const canonicalSegment = fc.constantFrom('a', 'b', 'ab', 'ba', '.a', '.ab', 'a.b');
const canonicalPath = fc.array(canonicalSegment, { maxLength: 5 }).map((parts) => `/${parts.join('/')}`);
const patternPath = fc
  .array(fc.oneof(canonicalSegment, fc.constantFrom('*', '.*', 'a*', '*b', 'a*b', '*.*')), { minLength: 1, maxLength: 4 })
  .map((parts) => `/${parts.join('/')}`);

const runs = { numRuns: 2000 };

t.test('pathContains agrees with path.relative on any two absolute paths', async (t) => {
  fc.assert(fc.property(absolutePath, absolutePath, (outer, inner) => pathContains(outer, inner) === referenceContains(outer, inner)), runs);
  t.pass();
});

t.test('pathContains agrees with path.relative on a path and one built below it, `..` included', async (t) => {
  fc.assert(
    fc.property(absolutePath, segments, (outer, below) => {
      const inner = `${outer}/${below.join('/')}`;
      return pathContains(outer, inner) === referenceContains(outer, inner) && pathContains(inner, outer) === referenceContains(inner, outer);
    }),
    runs,
  );
  t.pass();
});

t.test('pathContains never counts a same-prefix sibling as inside', async (t) => {
  fc.assert(
    fc.property(canonicalPath, fc.stringMatching(/^[ab.]{1,3}$/), segments, (outer, suffix, below) => {
      const sibling = `${outer === '/' ? '/x' : outer}${suffix}/${below.join('/')}`;
      return pathContains(outer === '/' ? '/x' : outer, sibling) === referenceContains(outer === '/' ? '/x' : outer, sibling);
    }),
    runs,
  );
  t.pass();
});

t.test('pathContains ignores trailing slashes and `.` segments', async (t) => {
  fc.assert(
    fc.property(canonicalPath, canonicalPath, (outer, inner) => {
      const expected = pathContains(outer, inner);
      return (
        pathContains(`${outer}/`, inner) === expected &&
        pathContains(outer, `${inner}/`) === expected &&
        pathContains(`${outer}/.`, `${inner}/./`) === expected &&
        pathContains(outer.replace(/\//g, '//'), inner.replace(/\//g, '/./')) === expected
      );
    }),
    runs,
  );
  t.pass();
});

t.test('pathContains is false for a relative or empty path on either side', async (t) => {
  fc.assert(
    fc.property(relativePath, absolutePath, (relative, absolute) =>
      !pathContains(relative, absolute) && !pathContains(absolute, relative) && !pathContains(relative, relative)),
    runs,
  );
  t.pass();
});

t.test('pathContains is reflexive, and antisymmetric up to spelling', async (t) => {
  fc.assert(
    fc.property(absolutePath, absolutePath, (a, b) => {
      if (!pathContains(a, a)) return false;
      return !(pathContains(a, b) && pathContains(b, a)) || path.posix.resolve(a) === path.posix.resolve(b);
    }),
    runs,
  );
  t.pass();
});

t.test('pathsOverlap is symmetric and means containment one way or the other', async (t) => {
  fc.assert(
    fc.property(absolutePath, absolutePath, (a, b) =>
      pathsOverlap(a, b) === pathsOverlap(b, a) && pathsOverlap(a, b) === (referenceContains(a, b) || referenceContains(b, a))),
    runs,
  );
  t.pass();
});

t.test('pathInsidePattern matches the old namesTree regular expression on canonical paths', async (t) => {
  fc.assert(fc.property(patternPath, canonicalPath, (pattern, inner) => pathInsidePattern(pattern, inner) === referenceInsidePattern(pattern, inner)), runs);
  t.pass();
});

t.test('pathInsidePattern without `*` is pathContains', async (t) => {
  fc.assert(fc.property(absolutePath, absolutePath, (outer, inner) => pathInsidePattern(outer, inner) === pathContains(outer, inner)), runs);
  t.pass();
});

t.test('a path grant covers itself and what lies inside it', async (t) => {
  t.ok(pathContains('/data', '/data'));
  t.ok(pathContains('/data', '/data/file.txt'));
  t.ok(pathContains('/data', '/data/deep/er/file'));
  t.ok(pathContains('/data/', '/data/file.txt'));
  t.ok(pathContains('/', '/anything'));
});

t.test('a path grant does not cover a sibling that shares its prefix', async (t) => {
  t.notOk(pathContains('/data', '/data2'));
  t.notOk(pathContains('/data', '/data2/file'));
  t.notOk(pathContains('/data', '/data.bak'));
  t.notOk(pathContains('/data/in', '/data'), 'nor its parent');
  t.notOk(pathContains('/a/b', '/a/bc'));
  t.notOk(pathContains('/a/b/', '/a/bc'), 'with a trailing slash either');
});

t.test('the root holds everything and lies inside nothing else', async (t) => {
  t.ok(pathContains('/', '/'));
  t.ok(pathContains('/', '/a/b'));
  t.ok(pathContains('//', '/a'), 'repeated slashes are the root too');
  t.ok(pathContains('/..', '/a'), '`..` at the root stays at the root');
  t.notOk(pathContains('/a', '/'));
});

t.test('trailing slashes, `.` and `..` segments are read once, lexically', async (t) => {
  t.ok(pathContains('/a/', '/a'));
  t.ok(pathContains('/a', '/a/'));
  t.ok(pathContains('/a/./b', '/a/b/c'));
  t.ok(pathContains('/a/b/..', '/a/c'), '/a/b/.. is /a');
  t.notOk(pathContains('/a', '/a/../b'), '/a/../b is /b');
  t.notOk(pathContains('/a/b', '/a/b/../c'));
  t.ok(pathContains('/a', '/a/..b'), 'a name that starts with two dots is a child, not a climb');
  t.ok(pathContains('/a', '/a/.b'));
  t.same(pathSegments('/a//./b/../c/'), ['a', 'c']);
});

t.test('relative and empty paths are inside nothing and hold nothing', async (t) => {
  t.equal(pathSegments('a/b'), null);
  t.notOk(pathContains('', '/a'));
  t.notOk(pathContains('/', ''));
  t.notOk(pathContains('a', 'a/b'));
  t.notOk(pathContains('.', '.'));
  t.notOk(pathsOverlap('a', '/a'));
});

t.test('pathsOverlap is true for the same path or one inside the other, on folder boundaries', async (t) => {
  t.ok(pathsOverlap('/a/b', '/a/b'));
  t.ok(pathsOverlap('/a/b/c', '/a/b'));
  t.ok(pathsOverlap('/a', '/a/b'));
  t.notOk(pathsOverlap('/a/bc', '/a/b'));
  t.ok(pathsOverlap('/', '/a'));
});

t.test('pathInsidePattern: `*` stands for one or more characters of one segment', async (t) => {
  t.ok(pathInsidePattern('/home/*/.*', '/home/alice/.ssh'));
  t.ok(pathInsidePattern('/home/*/.*', '/home/alice/.ssh/id_ed25519'));
  t.notOk(pathInsidePattern('/home/*/.*', '/home/alice/notes'));
  t.notOk(pathInsidePattern('/home/*/.*', '/home/alice'), 'the home itself is not one of its dot-files');
  t.notOk(pathInsidePattern('/home/*/.*', '/home/alice/.'), '`.` is no name');
  t.notOk(pathInsidePattern('/home/*/.*', '/home//.ssh'), '`*` is never empty');
  t.notOk(pathInsidePattern('/home/*/.*', '/home/a/b/.ssh'), '`*` never crosses a slash');
  t.ok(pathInsidePattern('/a*b', '/axb'));
  t.notOk(pathInsidePattern('/a*b', '/ab'));
});
