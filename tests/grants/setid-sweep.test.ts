import { chmodSync, lstatSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import {
  isSetIdFile,
  octalMode,
  outermostRoots,
  SetIdSweeper,
  type SetIdStrip,
  sweepSetId,
  withoutSetId,
} from '../../runtime/grants/setid-sweep.ts';
import { waitFor } from '../helpers/wait-for.ts';

const modeOf = (file: string) => lstatSync(file).mode & 0o7777;

function plant(t: Test) {
  const root = realpathSync(t.testdir({ out: { nested: {} }, outside: {} }));
  const at = (...parts: string[]) => path.join(root, ...parts);
  const file = (where: string, mode: number) => {
    writeFileSync(where, '#!/bin/sh\n');
    chmodSync(where, mode);
    return where;
  };
  return { root, at, file };
}

t.test('withoutSetId drops set-uid and set-gid and keeps the sticky and permission bits', async (t) => {
  t.equal(withoutSetId(0o104755), 0o755);
  t.equal(withoutSetId(0o102755), 0o755);
  t.equal(withoutSetId(0o107777), 0o1777);
  t.equal(withoutSetId(0o100644), 0o644);
});

t.test('isSetIdFile is true only for a regular file with set-uid or set-gid', async (t) => {
  const stat = (mode: number, file = true) => ({ mode, isFile: () => file });
  t.ok(isSetIdFile(stat(0o104755)));
  t.ok(isSetIdFile(stat(0o102711)));
  t.notOk(isSetIdFile(stat(0o101777)), 'sticky alone is not set-id');
  t.notOk(isSetIdFile(stat(0o100755)));
  t.notOk(isSetIdFile(stat(0o42775, false)), 'a set-gid folder is left to the operator');
});

t.test('octalMode prints the permission bits as chmod takes them', async (t) => {
  t.equal(octalMode(0o104755), '4755');
  t.equal(octalMode(0o100644), '0644');
});

t.test('outermostRoots walks each tree once', async (t) => {
  t.same(outermostRoots(['/a/out', '/a/out/sub', '/a/out', '/a/outer', '/b']), ['/a/out', '/a/outer', '/b']);
});

t.test('sweepSetId strips every set-id file in the trees and reports each', async (t) => {
  const { at, file } = plant(t);
  const suid = file(at('out', 'suid'), 0o4755);
  const sgid = file(at('out', 'nested', 'sgid'), 0o2711);
  const both = file(at('out', 'nested', 'both'), 0o6777);
  const plain = file(at('out', 'plain'), 0o755);
  const outside = file(at('outside', 'suid'), 0o4755);
  const outcome = sweepSetId([at('out')]);
  t.equal(outcome.complete, true);
  const byPath = new Map(outcome.stripped.map((strip) => [strip.path, strip]));
  t.same(byPath.get(suid), { path: suid, oldMode: 0o104755, newMode: 0o755 });
  t.same(byPath.get(sgid), { path: sgid, oldMode: 0o102711, newMode: 0o711 });
  t.same(byPath.get(both), { path: both, oldMode: 0o106777, newMode: 0o777 });
  t.equal(outcome.stripped.length, 3);
  t.equal(modeOf(suid), 0o755);
  t.equal(modeOf(sgid), 0o711);
  t.equal(modeOf(both), 0o777);
  t.equal(modeOf(plain), 0o755);
  t.equal(modeOf(outside), 0o4755, 'nothing outside the trees is touched');
  t.same(sweepSetId([at('out')]).stripped, [], 'a second sweep finds nothing');
});

t.test('sweepSetId never follows a symlink, and sweeps a granted single file', async (t) => {
  const { at, file } = plant(t);
  const outside = file(at('outside', 'suid'), 0o4755);
  symlinkSync(outside, at('out', 'to-outside'));
  symlinkSync(at('outside'), at('out', 'to-outside-dir'));
  t.same(sweepSetId([at('out')]).stripped, []);
  t.equal(modeOf(outside), 0o4755);

  const single = file(at('out', 'single'), 0o4755);
  t.same(sweepSetId([single]).stripped.map((strip) => strip.path), [single]);
  t.equal(statSync(single).mode & 0o7777, 0o755);
});

t.test('sweepSetId says when it stopped at its entry limit', async (t) => {
  const { at, file } = plant(t);
  for (let i = 0; i < 5; i++) file(at('out', `f${i}`), 0o644);
  t.equal(sweepSetId([at('out')], 3).complete, false);
  t.equal(sweepSetId([at('out')], 100).complete, true);
  t.same(sweepSetId([at('missing')]), { stripped: [], complete: true }, 'a tree not created yet holds nothing');
});

t.test('SetIdSweeper sweeps on demand and once more at stop, then never again', async (t) => {
  const { at, file } = plant(t);
  const strips: SetIdStrip[] = [];
  let incomplete = 0;
  const sweeper = new SetIdSweeper({
    roots: [at('out')],
    intervalMs: 60_000,
    onStrip: (strip) => strips.push(strip),
    onIncomplete: () => incomplete++,
  });
  sweeper.start();
  const first = file(at('out', 'first'), 0o4755);
  sweeper.sweep();
  t.same(strips.map((strip) => strip.path), [first]);
  const last = file(at('out', 'last'), 0o2755);
  sweeper.stop();
  t.same(strips.map((strip) => strip.path), [first, last], 'the exit sweep');
  file(at('out', 'after'), 0o4755);
  sweeper.sweep();
  sweeper.stop();
  t.equal(strips.length, 2, 'a stopped sweeper does nothing');
  t.equal(incomplete, 0);
});

t.test('SetIdSweeper sweeps periodically and reports an incomplete walk once', async (t) => {
  const { at, file } = plant(t);
  for (let i = 0; i < 5; i++) mkdirSync(at('out', `d${i}`));
  const strips: SetIdStrip[] = [];
  let incomplete = 0;
  const sweeper = new SetIdSweeper({
    roots: [at('out')],
    intervalMs: 10,
    maxEntries: 3,
    onStrip: (strip) => strips.push(strip),
    onIncomplete: () => incomplete++,
  });
  sweeper.start();
  t.teardown(() => sweeper.stop());
  await waitFor('an incomplete sweep to be reported', () => incomplete > 0, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(incomplete, 1, 'reported once, however many sweeps ran');
  sweeper.stop();

  const periodic = new SetIdSweeper({ roots: [at('out')], intervalMs: 10, onStrip: (strip) => strips.push(strip), onIncomplete: () => {} });
  periodic.start();
  t.teardown(() => periodic.stop());
  const late = file(at('out', 'late'), 0o4755);
  await waitFor('the timer to strip the late file', () => strips.some((strip) => strip.path === late), 30_000);
  t.equal(modeOf(late), 0o755, 'stripped by the timer');
});
