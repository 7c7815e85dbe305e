import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { namesTree, sensitiveTreesTouched } from '../../runtime/policy/sensitive-paths.ts';

t.test('system trees, "/" and their insides are sensitive', async (t) => {
  for (const [target, tree] of [
    ['/etc', '/etc'],
    ['/etc/ssl/certs', '/etc'],
    ['/proc/self/environ', '/proc'],
    ['/sys', '/sys'],
    ['/dev/shm', '/dev'],
    ['/root/.ssh', '/root'],
    ['/', '/'],
  ] as const) {
    t.ok(sensitiveTreesTouched(target).includes(tree), `${target} touches ${tree}`);
  }
  t.ok(sensitiveTreesTouched('/').includes('/etc'), '"/" holds every system tree');
});

t.test("home folders' dot-files are sensitive, and so is any folder holding them", async (t) => {
  t.ok(sensitiveTreesTouched('/home/alice/.ssh').includes('/home/alice/.ssh'));
  t.ok(sensitiveTreesTouched('/home/alice/.config/app').includes('/home/alice/.config'));
  t.ok(sensitiveTreesTouched('/home/alice').includes('/home/alice/.*'), 'a home folder holds its dot-files');
  t.ok(sensitiveTreesTouched('/home').includes('/home/*/.*'), 'the homes folder holds everyone\'s dot-files');
  t.ok(sensitiveTreesTouched(path.join(os.homedir(), '.aws')).length > 0, "the host user's own dot-folders");
  t.same(sensitiveTreesTouched('/home/alice/projects/app'), [], 'an ordinary folder in a home is not sensitive');
});

t.test('namesTree: a policy entry names a tree when it is at or inside it', async (t) => {
  t.ok(namesTree('/etc', '/etc'));
  t.ok(namesTree('/etc/ssl', '/etc'));
  t.notOk(namesTree('/', '/etc'), '"/" does not name /etc');
  t.notOk(namesTree('/etcetera', '/etc'), 'a sibling with the same prefix does not');
  t.ok(namesTree('/', '/'));
  t.notOk(namesTree('/home', '/'));
  t.ok(namesTree('/home/alice/.ssh', '/home/*/.*'));
  t.notOk(namesTree('/home/alice', '/home/*/.*'));
  t.notOk(namesTree('/home', '/home/alice/.*'));
});
