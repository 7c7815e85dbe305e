import fc from 'fast-check';
import t from 'tap';
import { type Bind, grantBinds, mountPlan, planArgs } from '../../runtime/launch/sandbox/mount-plan.ts';

const isInside = (parent: string, child: string) => child === parent || child.startsWith(parent === '/' ? '/' : `${parent}/`);

/** What a path may do inside, by the binds: the deepest bind at or above it decides (later binds sit on top). */
function accessOf(binds: readonly Bind[], target: string): 'none' | 'ro' | 'rw' {
  let access: 'none' | 'ro' | 'rw' = 'none';
  let depth = -1;
  for (const bind of binds) {
    const d = bind.path.split('/').length;
    if (isInside(bind.path, target) && d >= depth) {
      access = bind.kind === 'rw' ? 'rw' : 'ro';
      depth = d;
    }
  }
  return access;
}

/** What Deno's flags allow a path: write anywhere under a write grant, read under either. */
function denoAccess(read: readonly string[], write: readonly string[], target: string): 'none' | 'ro' | 'rw' {
  if (write.some((w) => isInside(w, target))) return 'rw';
  if (read.some((r) => isInside(r, target))) return 'ro';
  return 'none';
}

t.test('a read inside a write grant stays writable; a write inside a read grant is bound writable over it', async (t) => {
  t.same(grantBinds(['/a/b'], ['/a']), [{ kind: 'rw', path: '/a' }]);
  t.same(grantBinds(['/a'], ['/a/b']), [
    { kind: 'ro', path: '/a' },
    { kind: 'rw', path: '/a/b' },
  ]);
  t.same(grantBinds(['/x'], ['/x']), [{ kind: 'rw', path: '/x' }], 'read and write of one path: one writable bind');
  t.same(grantBinds(['/a', '/a/b/c'], ['/a/b']), [
    { kind: 'ro', path: '/a' },
    { kind: 'rw', path: '/a/b' },
  ]);
  t.same(grantBinds(['/ab'], ['/a']), [
    { kind: 'rw', path: '/a' },
    { kind: 'ro', path: '/ab' },
  ], '/ab is not inside /a');
});

t.test('property: inside the binds, every path gets exactly the access Deno’s flags give it', async () => {
  const segment = fc.constantFrom('a', 'b', 'c', 'ab');
  const grantPath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
  fc.assert(
    fc.property(fc.array(grantPath, { maxLength: 5 }), fc.array(grantPath, { maxLength: 5 }), grantPath, (read, write, target) => {
      const binds = grantBinds(read, write);
      return accessOf(binds, target) === denoAccess(read, write, target);
    }),
    { numRuns: 2000 },
  );
});

t.test('property: binds come parents first, each path once', async () => {
  const grantPath = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
  fc.assert(
    fc.property(fc.array(grantPath, { maxLength: 6 }), fc.array(grantPath, { maxLength: 6 }), (read, write) => {
      const binds = grantBinds(read, write);
      const paths = binds.map((bind) => bind.path);
      const parentsFirst = binds.every((bind, i) => binds.slice(i + 1).every((later) => !isInside(later.path, bind.path) || later.path === bind.path));
      return new Set(paths).size === paths.length && parentsFirst;
    }),
  );
});

t.test('the plan: bundle and grants, then Deno and its libraries on top, name resolution only with a network grant', async (t) => {
  const base = { denoPath: '/opt/deno', libraries: ['/lib/libc.so.6'], bundlePath: '/state/bundles/b.js' };
  const plan = mountPlan({ ...base, grants: { read: ['/data'], write: [], network: [] } });
  t.same(planArgs(plan), ['--ro', '/state/bundles/b.js', '--ro', '/data', '--exec', '/opt/deno', '--exec', '/lib/libc.so.6']);
  const networked = mountPlan({ ...base, grants: { read: [], write: [], network: ['example.com'] } });
  t.ok(networked.some((bind) => bind.kind === 'etc' && bind.path === '/etc/resolv.conf'), 'a tool with a network grant can resolve names');
  t.notOk(plan.some((bind) => bind.kind === 'etc'), 'a tool without one sees nothing of /etc');
});
