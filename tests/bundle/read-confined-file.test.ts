import { execFileSync } from 'node:child_process';
import { realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { readConfinedFile, RefusedRead } from '../../runtime/bundle/read-confined-file.ts';

const refusedWhy = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  if (!(error instanceof RefusedRead)) throw new Error(`expected a refusal, got ${String(error)}`);
  return error.why;
};

t.test('readConfinedFile reads a regular file inside a root', async (t) => {
  const dir = realpathSync(t.testdir({ 'a.txt': 'inside' }));
  t.equal((await readConfinedFile(path.join(dir, 'a.txt'), [dir])).toString(), 'inside');
});

t.test('readConfinedFile refuses a FIFO without blocking', async (t) => {
  const dir = realpathSync(t.testdir({}));
  execFileSync('mkfifo', [path.join(dir, 'pipe')]);
  t.match(await refusedWhy(readConfinedFile(path.join(dir, 'pipe'), [dir])), 'not a regular file');
});

t.test('readConfinedFile refuses a symlink to a device, and one leading out', async (t) => {
  const dir = realpathSync(t.testdir({ root: {}, 'outside.txt': 'x' }));
  const root = path.join(dir, 'root');
  symlinkSync('/dev/zero', path.join(root, 'zero'));
  symlinkSync('../outside.txt', path.join(root, 'out'));
  t.match(await refusedWhy(readConfinedFile(path.join(root, 'zero'), [root, '/dev'])), 'not a regular file');
  t.match(await refusedWhy(readConfinedFile(path.join(root, 'out'), [root])), 'leads out');
});

t.test('readConfinedFile refuses a file over the cap', async (t) => {
  const dir = realpathSync(t.testdir({ 'big.txt': 'x'.repeat(100) }));
  t.match(await refusedWhy(readConfinedFile(path.join(dir, 'big.txt'), [dir], 99)), 'over the 99-byte limit');
});
