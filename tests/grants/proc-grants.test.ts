import { symlinkSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { computeGrants, NEVER_GRANTED_TREES } from '../../runtime/grants/compute-grants.ts';
import { canonicalisePath } from '../../runtime/scopes/canonicalise-path.ts';
import { resolvePolicy } from '../../runtime/policy/resolved-policy.ts';

const PLUGIN = 'plug';
const procPolicy = resolvePolicy({ plugins: { [PLUGIN]: { 'access-filesystem': { read: ['/proc', '/'], write: ['/proc'] } } } }, '/');

t.test('positive control: the host\'s realpath turns /proc/self and /dev/fd into the host\'s own process', async (t) => {
  t.equal(canonicalisePath('/', '/proc/self/environ'), `/proc/${process.pid}/environ`);
  t.equal(canonicalisePath('/', '/dev/fd'), `/proc/${process.pid}/fd`);
});

t.test('/proc grants are refused with the rule named, under allowDeclared and when the policy names /proc', async (t) => {
  t.same(NEVER_GRANTED_TREES, ['/proc']);
  const dir = t.testdir({});
  symlinkSync('/proc/self', path.join(dir, 'me'));
  const written = ['/proc/self/environ', '/proc/self/fd', '/dev/fd', `${dir}/me/environ`, '/proc', '/proc/1/status', '/'];
  const targets = written.map((entry) => canonicalisePath(dir, entry));
  for (const target of targets) t.match(target, /^\/proc(\/|$)|^\/$/, `${target} canonical form reaches /proc`);
  const declared = { 'access-filesystem': { read: targets, write: targets } };
  for (const policy of [{ allowDeclared: true }, { allowDeclared: false, policy: procPolicy }, { allowDeclared: true, policy: procPolicy }]) {
    const { grants, decisions } = computeGrants(declared, policy, PLUGIN);
    t.same(grants.read, []);
    t.same(grants.write, []);
    for (const decision of decisions) t.match(decision, { granted: false, rule: /^never granted: .* is or holds \/proc/ }, decision.scope);
  }
});

t.test('a path that only shares the /proc prefix is judged as usual', async (t) => {
  const { grants } = computeGrants({ 'access-filesystem': { read: ['/processes'] } }, { allowDeclared: true }, PLUGIN);
  t.same(grants.read, ['/processes']);
});
