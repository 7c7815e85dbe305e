import { chmodSync, linkSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { checkGrantedTrees } from '../../runtime/grants/check-granted-trees.ts';

/** A granted `data/` folder with a nested file, beside `data2/` (same prefix) and `outside/`. */
function plant(t: Test) {
  const root = realpathSync(
    t.testdir({
      data: { 'in.txt': 'inside', nested: { 'deep.txt': 'deep' } },
      data2: { 'sibling.txt': 'sibling' },
      outside: { 'secret.txt': 'secret' },
      writable: {},
    }),
  );
  const at = (...parts: string[]) => path.join(root, ...parts);
  return { root, at, data: at('data') };
}

t.test('a clean read-only tree passes, symlinks that stay inside the grant included', async (t) => {
  const { at, data } = plant(t);
  symlinkSync(at('data', 'in.txt'), at('data', 'alias'));
  symlinkSync('nested/deep.txt', at('data', 'relative-alias'));
  symlinkSync('.', at('data', 'nested', 'loop')); // lstat never follows it, so no endless walk
  t.doesNotThrow(() => checkGrantedTrees({ read: [data], write: [] }));
  t.doesNotThrow(() => checkGrantedTrees({ read: [data], write: [at('writable')] }), 'a write grant elsewhere changes nothing');
});

t.test('in a writable tree every symlink is refused, even one leading inside', async (t) => {
  // The plugin could rename it: `a/b/link -> ../../x` leads to data/x where it stands and
  // out of the grant once moved to data/link.
  const { at, data } = plant(t);
  mkdirSync(at('data', 'a', 'b'), { recursive: true });
  writeFileSync(at('data', 'x'), 'x');
  symlinkSync('../../x', at('data', 'a', 'b', 'link'));
  t.throws(() => checkGrantedTrees({ read: [], write: [data] }), {
    code: 'grant_refused',
    details: { mode: 'write', path: at('data', 'a', 'b', 'link') },
  });
  t.throws(() => checkGrantedTrees({ read: [data], write: [data] }), { code: 'grant_refused', details: { path: at('data', 'a', 'b', 'link') } });
  t.doesNotThrow(() => checkGrantedTrees({ read: [data], write: [] }), 'read-only, the same link is fine');
});

t.test('a symlink in the part of a read grant inside a write grant is refused; beside it, it is judged as before', async (t) => {
  const { at, root } = plant(t);
  symlinkSync('deep.txt', at('data', 'nested', 'alias'));
  t.throws(() => checkGrantedTrees({ read: [at('data', 'nested')], write: [at('data')] }), {
    code: 'grant_refused',
    details: { mode: 'read', path: at('data', 'nested', 'alias') },
  });
  t.throws(() => checkGrantedTrees({ read: [root], write: [at('data', 'nested')] }), {
    code: 'grant_refused',
    details: { path: at('data', 'nested', 'alias') },
  });
  t.doesNotThrow(() => checkGrantedTrees({ read: [root], write: [at('writable')] }), 'outside the writable part');
});

t.test('a set-uid or set-gid file in a writable tree is refused; in a read-only tree it is not', async (t) => {
  const { at, data } = plant(t);
  for (const mode of [0o4755, 0o2755]) {
    const file = at('data', 'nested', `setid-${mode.toString(8)}`);
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, mode);
    t.throws(() => checkGrantedTrees({ read: [], write: [data] }), { code: 'grant_refused', details: { mode: 'write', path: file } });
    t.throws(() => checkGrantedTrees({ read: [data], write: [at('data', 'nested')] }), { code: 'grant_refused', details: { path: file } });
    t.doesNotThrow(() => checkGrantedTrees({ read: [data], write: [] }));
    chmodSync(file, 0o755);
  }
  t.doesNotThrow(() => checkGrantedTrees({ read: [], write: [data] }), 'fine once the bits are gone');
});

t.test('a symlink leading out of the grant is refused, naming the path, mode and root', async (t) => {
  const { at, data } = plant(t);
  const escape = at('data', 'nested', 'escape');
  symlinkSync(at('outside', 'secret.txt'), escape);
  t.throws(() => checkGrantedTrees({ read: [data], write: [] }), {
    code: 'grant_refused',
    details: { mode: 'read', root: data, path: escape },
  });
});

t.test('a relative symlink through .. is judged by where it really leads', async (t) => {
  const { at, data } = plant(t);
  symlinkSync('../outside', at('data', 'up'));
  t.throws(() => checkGrantedTrees({ read: [], write: [data] }), { code: 'grant_refused', details: { path: at('data', 'up'), mode: 'write' } });
});

t.test('a symlink into a sibling folder with the same prefix leads out', async (t) => {
  const { at, data } = plant(t);
  symlinkSync(at('data2', 'sibling.txt'), at('data', 'sibling'));
  t.throws(() => checkGrantedTrees({ read: [data], write: [] }), { code: 'grant_refused', details: { path: at('data', 'sibling') } });
});

t.test('a symlink is judged against the grants of its own mode', async (t) => {
  const { at, data } = plant(t);
  symlinkSync(at('writable'), at('data', 'to-writable'));
  // Leads into a folder the process may only write: from a read grant, that is out.
  t.throws(() => checkGrantedTrees({ read: [data], write: [at('writable')] }), {
    code: 'grant_refused',
    details: { mode: 'read', path: at('data', 'to-writable') },
  });
  t.doesNotThrow(() => checkGrantedTrees({ read: [data, at('writable')], write: [] }), 'fine when both are read grants');
});

t.test('a dangling symlink is refused', async (t) => {
  const { at, data } = plant(t);
  symlinkSync(at('outside', 'not-yet'), at('data', 'dangling'));
  t.throws(() => checkGrantedTrees({ read: [data], write: [] }), { code: 'grant_refused', details: { path: at('data', 'dangling') } });
});

t.test('a regular file with more than one hard link is refused, wherever the other link is', async (t) => {
  const outside = plant(t);
  linkSync(outside.at('outside', 'secret.txt'), outside.at('data', 'nested', 'hard'));
  t.throws(() => checkGrantedTrees({ read: [outside.data], write: [] }), {
    code: 'grant_refused',
    details: { path: outside.at('data', 'nested', 'hard') },
  });
});

t.test('a granted root that is itself a hard-linked file is refused', async (t) => {
  const { at } = plant(t);
  linkSync(at('outside', 'secret.txt'), at('granted-file'));
  t.throws(() => checkGrantedTrees({ read: [at('granted-file')], write: [] }), {
    code: 'grant_refused',
    details: { path: at('granted-file') },
  });
});

t.test('a granted path that does not exist yet holds nothing to refuse', async (t) => {
  const { at } = plant(t);
  t.doesNotThrow(() => checkGrantedTrees({ read: [], write: [at('not-created', 'yet')] }));
});

t.test('a write grant is walked as well as a read grant', async (t) => {
  const { at, data } = plant(t);
  mkdirSync(at('data', 'deeper', 'still'), { recursive: true });
  writeFileSync(at('outside', 'target.txt'), 'target');
  linkSync(at('outside', 'target.txt'), at('data', 'deeper', 'still', 'hard'));
  t.throws(() => checkGrantedTrees({ read: [], write: [data] }), {
    code: 'grant_refused',
    details: { mode: 'write', path: at('data', 'deeper', 'still', 'hard') },
  });
});
