import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { prepareStateDir } from '../../runtime/host/state-dir.ts';
import {
  createProcessStorage,
  hostStorageDir,
  removeProcessStorage,
  sweepProcessStorage,
} from '../../runtime/launch/process-storage.ts';

/** A pid that was alive a moment ago and is not now: a child that has exited and been reaped. */
function deadPid(): number {
  const { pid } = spawnSync('/bin/true');
  return pid;
}

/** Leaves what a host with `pid` would have: one process folder holding a stash. */
function plantHostFolder(root: string, pid: number | string): string {
  const dir = path.join(root, String(pid));
  mkdirSync(path.join(dir, 'launch', 'location_data'), { recursive: true });
  writeFileSync(path.join(dir, 'launch', 'location_data', 'local_storage'), 'stash');
  return dir;
}

t.test('createProcessStorage makes a fresh 0700 folder per launch under this host pid', async (t) => {
  const root = realpathSync(t.testdir());
  const dir = createProcessStorage(root, 'LAUNCH1');
  t.equal(dir, path.join(hostStorageDir(root), 'LAUNCH1'));
  t.equal(path.basename(path.dirname(dir)), String(process.pid));
  t.ok(statSync(dir).isDirectory());
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.same(
    readdirSync(dir).sort(),
    ['dep_analysis_cache_v2', 'node_analysis_cache_v2'],
    'empty but for the folders that keep Deno\'s analysis caches in memory',
  );
  t.not(createProcessStorage(root, 'LAUNCH2'), dir, 'another launch, another folder');
});

t.test('createProcessStorage refuses a folder that is already there', async (t) => {
  const root = realpathSync(t.testdir());
  createProcessStorage(root, 'TWICE');
  t.throws(() => createProcessStorage(root, 'TWICE'), { code: 'EEXIST' });
  mkdirSync(hostStorageDir(root), { recursive: true });
  symlinkSync(root, path.join(hostStorageDir(root), 'PLANTED'));
  t.throws(() => createProcessStorage(root, 'PLANTED'), { code: 'EEXIST' }, 'a planted symlink is not used');
});

t.test('removeProcessStorage removes the folder and all it holds, and never rejects', async (t) => {
  const root = realpathSync(t.testdir());
  const dir = createProcessStorage(root, 'GONE');
  mkdirSync(path.join(dir, 'location_data', 'web_cache'), { recursive: true });
  writeFileSync(path.join(dir, 'location_data', 'web_cache', 'entry'), 'x');
  await removeProcessStorage(dir);
  t.notOk(existsSync(dir));
  await removeProcessStorage(dir);
  t.pass('removing it again resolves');
});

t.test('sweepProcessStorage removes dead hosts’ folders and keeps live ones and other entries', async (t) => {
  const base = realpathSync(t.testdir());
  const root = path.join(base, 'processes');
  const dead = plantHostFolder(root, deadPid());
  const live = plantHostFolder(root, process.ppid);
  const own = plantHostFolder(root, process.pid);
  const other = plantHostFolder(root, 'not-a-host');
  const outside = path.join(base, 'outside');
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'kept'), 'outside the state folder');
  symlinkSync(outside, path.join(root, String(deadPid())));
  const removed = sweepProcessStorage(root);
  t.notOk(existsSync(dead), 'a dead host’s folder is removed');
  t.ok(existsSync(path.join(live, 'launch', 'location_data', 'local_storage')), 'a live host’s folder is untouched');
  t.ok(existsSync(path.join(own, 'launch')), 'this host’s own folder is untouched');
  t.ok(existsSync(other), 'an entry that is not a host folder is left alone');
  t.ok(existsSync(path.join(outside, 'kept')), 'a symlink is removed, never followed');
  t.equal(removed.length, 2);
  t.same(sweepProcessStorage(path.join(root, 'missing')), [], 'no folder, nothing to sweep');
});

t.test('prepareStateDir sweeps what a dead host left, keeps its checks, and makes no shared DENO_DIR', async (t) => {
  const base = realpathSync(t.testdir());
  const stateDir = path.join(base, 'state');
  const { processStorageDir } = prepareStateDir(stateDir);
  t.equal(processStorageDir, path.join(stateDir, 'processes'));
  t.equal(statSync(processStorageDir).mode & 0o777, 0o700);
  const dead = plantHostFolder(processStorageDir, deadPid());
  const live = plantHostFolder(processStorageDir, process.ppid);
  prepareStateDir(stateDir);
  t.notOk(existsSync(dead), 'the dead host’s stash is gone at the next start');
  t.ok(existsSync(live), 'a live host sharing the state folder keeps its folders');
  t.notOk(existsSync(path.join(stateDir, 'deno-dir')), 'no DENO_DIR shared between processes');
  const shared = path.join(base, 'shared');
  mkdirSync(shared, { mode: 0o755 });
  t.throws(() => prepareStateDir(shared), { code: 'config_invalid' }, 'a folder open to others is still refused');
});
