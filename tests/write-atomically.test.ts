import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { writeAtomically } from '../runtime/write-atomically.ts';

t.test('writeAtomically replaces the file whole, with the mode asked for whatever the umask', async (t) => {
  const dir = t.testdir({ 'entry.json': 'old' });
  const target = path.join(dir, 'entry.json');
  writeAtomically(target, 'new contents', 0o444);
  t.equal(readFileSync(target, 'utf8'), 'new contents');
  t.equal(statSync(target).mode & 0o777, 0o444);
  t.same(readdirSync(dir), ['entry.json'], 'no temporary file is left');
});

t.test('writeAtomically starts afresh over a read-only leftover of a crashed run', async (t) => {
  const dir = t.testdir({});
  const target = path.join(dir, 'bundle.js');
  writeFileSync(`${target}.${process.pid}.tmp`, 'half', { mode: 0o444 });
  writeAtomically(target, 'whole', 0o600);
  t.equal(readFileSync(target, 'utf8'), 'whole');
  t.same(readdirSync(dir), ['bundle.js']);
});

t.test('writeAtomically throws when it cannot replace the target, and leaves no temporary file', async (t) => {
  const dir = t.testdir({});
  const target = path.join(dir, 'taken');
  mkdirSync(path.join(target, 'inside'), { recursive: true });
  t.throws(() => writeAtomically(target, 'x', 0o600));
  t.same(readdirSync(dir), ['taken']);
});
