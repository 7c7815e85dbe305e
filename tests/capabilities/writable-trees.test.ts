import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { type LaunchConfig, loadLaunchConfig, type PluginHandle } from '../../runtime/index.ts';
import type { LayerOverrides } from '../../runtime/host/layer-overrides.ts';
import { auditOf } from '../helpers/audit-log.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, waitFor } from '../helpers/wait-for.ts';

// Issue 8, items 3 and 4: a granted tree that changes after the pre-launch walk, and
// set-uid/set-gid files planted through a write grant. Each op really tries the attack
// and reports how it ended: {ok: true, value} or {ok: false, error: <class name>, message}.
const SOURCE = `${SDK_IMPORT}
import * as nfs from 'node:fs';

type Op = { op: string; path?: string; target?: string; text?: string; mode?: number; afterMs?: number };
const modeOf = (file: string) => (Deno.lstatSync(file).mode ?? 0) & 0o7777;

const ops: Record<string, (args: Op) => unknown> = {
  read: ({ path }) => Deno.readTextFile(path!),
  write: async ({ path, text }) => {
    await Deno.writeTextFile(path!, text!);
    return 'written';
  },
  rename: async ({ target, path }) => {
    await Deno.rename(target!, path!);
    return 'renamed';
  },
  'rename-sync': ({ target, path }) => (Deno.renameSync(target!, path!), 'renamed'),
  'node-rename': ({ target, path }) => (nfs.renameSync(target!, path!), 'renamed'),
  'node-rename-promise': async ({ target, path }) => (await nfs.promises.rename(target!, path!), 'renamed'),
  link: async ({ target, path }) => (await Deno.link(target!, path!), 'linked'),
  'link-sync': ({ target, path }) => (Deno.linkSync(target!, path!), 'linked'),
  'node-link': ({ target, path }) => (nfs.linkSync(target!, path!), 'linked'),
  'node-link-promise': async ({ target, path }) => (await nfs.promises.link(target!, path!), 'linked'),
  symlink: async ({ target, path }) => (await Deno.symlink(target!, path!), 'linked'),
  'symlink-sync': ({ target, path }) => (Deno.symlinkSync(target!, path!), 'linked'),
  'symlink-dir': async ({ target, path }) => (await Deno.symlink(target!, path!, { type: 'dir' }), 'linked'),
  'node-symlink': ({ target, path }) => (nfs.symlinkSync(target!, path!), 'linked'),
  'node-symlink-promise': async ({ target, path }) => (await nfs.promises.symlink(target!, path!), 'linked'),
  'node-symlink-callback': ({ target, path }) =>
    new Promise((resolve, reject) => nfs.symlink(target!, path!, (error) => (error ? reject(error) : resolve('linked')))),
  // Each set-id op reports the mode it saw right after: the positive control that it took.
  chmod: async ({ path, mode }) => {
    await Deno.writeTextFile(path!, '#!/bin/sh\\nid\\n');
    await Deno.chmod(path!, mode!);
    return modeOf(path!);
  },
  'node-chmod': ({ path, mode }) => {
    nfs.writeFileSync(path!, '#!/bin/sh\\nid\\n');
    nfs.chmodSync(path!, mode!);
    return modeOf(path!);
  },
  // Created empty: under a user namespace (the no-network layer) the kernel itself drops
  // set-id on a write by a process without CAP_FSETID, which would hide the attempt.
  'create-with-mode': async ({ path, mode }) => {
    await Deno.writeTextFile(path!, '', { mode });
    return modeOf(path!);
  },
  'node-create-with-mode': ({ path, mode }) => {
    nfs.writeFileSync(path!, '', { mode });
    return modeOf(path!);
  },
  'chmod-and-exit': ({ path, mode }) => {
    Deno.writeTextFileSync(path!, '#!/bin/sh\\nid\\n');
    Deno.chmodSync(path!, mode!);
    console.error('chmod before exit took: ' + modeOf(path!).toString(8));
    Deno.exit(3);
  },
  'chmod-later': ({ path, mode, afterMs }) => {
    Deno.writeTextFileSync(path!, '#!/bin/sh\\nid\\n');
    setTimeout(() => {
      Deno.chmodSync(path!, mode!);
      console.error('late chmod took: ' + modeOf(path!).toString(8));
    }, afterMs);
    return 'scheduled';
  },
};

definePlugin({
  tools: {
    fs: async (args: Op) => {
      try {
        return { ok: true, value: await ops[args.op]!(args) };
      } catch (error) {
        const err = error as Error;
        return { ok: false, error: err?.constructor?.name, message: String(err?.message).split('\\n')[0] };
      }
    },
  },
});
`;

type FsResult = { ok: boolean; value?: unknown; error?: string; message?: string };

interface Layout {
  root: string;
  /** The plugin folder. */
  dir: string;
  manifestPath: string;
  at: (...parts: string[]) => string;
}

/**
 * A plugin in `root/plugin/` whose `fs` tool gets `read` and `write` (relative to the
 * plugin folder), granted by the policy as declared.
 */
function plant(t: Test, read: string[], write: string[]): Layout {
  const root = realpathSync(t.testdir());
  const filesystem = { read, write };
  const manifestPath = writeInlinePlugin(root, {
    name: 'tree-changer',
    source: SOURCE,
    capabilities: { 'access-filesystem': filesystem },
    tools: { fs: { sandbox: { filesystem } } },
  });
  const dir = path.dirname(manifestPath);
  return { root, dir, manifestPath, at: (...parts) => path.join(dir, ...parts) };
}

function runtimeFor(t: Test, layout: Layout, read: string[], write: string[], launchConfig?: LaunchConfig, layerOverrides?: LayerOverrides) {
  const absolute = (list: string[]) => list.map((entry) => layout.at(entry));
  return testRuntime(t, {
    policy: { plugins: { 'tree-changer': { 'access-filesystem': { read: absolute(read), write: absolute(write) } } } },
    ...(launchConfig ? { launchConfig } : {}),
    ...(layerOverrides ? { layerOverrides } : {}),
  });
}

const fsCall = (plugin: PluginHandle, args: Record<string, unknown>) =>
  plugin.call('fs', args, { timeoutMs: GENEROUS_MS }) as Promise<FsResult>;

function assertRefused(t: Test, result: FsResult, what: string) {
  t.equal(result.ok, false, `${what}: failed`);
  t.equal(result.error, 'NotCapable', `${what}: refused by Deno's permission check (${result.message})`);
}

/**
 * `out/` is writable; `out/x` is inside it and `x` two levels above `out/` is outside.
 * `out/a/b/link -> ../../x` leads to `out/x` where it stands and to the outside `x` once
 * moved to `out/link`.
 */
function renameAttack(t: Test) {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out', 'a', 'b'), { recursive: true });
  writeFileSync(layout.at('out', 'x'), 'inside');
  const outsideX = path.join(layout.root, 'x');
  writeFileSync(outsideX, 'outside secret');
  const link = layout.at('out', 'a', 'b', 'link');
  const moved = layout.at('out', 'link');
  return { layout, outsideX, link, moved, runtime: runtimeFor(t, layout, ['./out'], ['./out']) };
}

t.test('a shipped symlink that points inside a writable tree refuses the launch (the rename attack)', async (t) => {
  const { layout, outsideX, link, moved, runtime } = renameAttack(t);
  symlinkSync('../../x', link);
  t.equal(realpathSync(link), layout.at('out', 'x'), 'where it stands, the link leads inside the grant');
  const plugin = await runtime.runtime.load(layout.manifestPath);

  const outcome = await fsCall(plugin, { op: 'rename', target: link, path: moved }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: link, mode: 'read' } }, `refused: ${JSON.stringify(outcome)}`);
  t.match(auditOf(runtime.audit, 'grant_refused', 'fs')[0]?.reason, link, 'the audit names the link');
  t.equal(auditOf(runtime.audit, 'launch').length, 0, 'no process was started');
  t.ok(lstatSync(link).isSymbolicLink(), 'the link was not moved');
  t.equal(readFileSync(outsideX, 'utf8'), 'outside secret');
});

t.test('control: a symlink placed after the walk is renamed and read and written through, outside the grant', async (t) => {
  // Without the walk holding, Deno lets the plugin move the link and follow it out: this is
  // what the refusal above prevents. (The sandbox's file system holds nothing outside the
  // grants, so the link would lead nowhere there: this control is Deno's alone.)
  const { layout, outsideX, link, moved } = renameAttack(t);
  const runtime = runtimeFor(t, layout, ['./out'], ['./out'], undefined, { withoutNamespaces: true });
  const plugin = await runtime.runtime.load(layout.manifestPath);
  t.same(await fsCall(plugin, { op: 'read', path: layout.at('out', 'x') }), { ok: true, value: 'inside' }, 'launched past a clean walk');

  symlinkSync('../../x', link);
  t.same(await fsCall(plugin, { op: 'rename', target: link, path: moved }), { ok: true, value: 'renamed' });
  t.same(await fsCall(plugin, { op: 'read', path: moved }), { ok: true, value: 'outside secret' }, 'read outside the grant');
  t.same(await fsCall(plugin, { op: 'write', path: moved, text: 'written through the link' }), { ok: true, value: 'written' });
  t.equal(readFileSync(outsideX, 'utf8'), 'written through the link', 'wrote outside the grant');
});

t.test('a symlink in the part of a read grant that lies inside a write grant is refused too', async (t) => {
  const layout = plant(t, ['./out/ro'], ['./out']);
  mkdirSync(layout.at('out', 'ro'), { recursive: true });
  writeFileSync(layout.at('out', 'ro', 'file.txt'), 'ro');
  symlinkSync('file.txt', layout.at('out', 'ro', 'alias'));
  const { runtime } = runtimeFor(t, layout, ['./out/ro'], ['./out']);
  const plugin = await runtime.load(layout.manifestPath);
  const outcome = await fsCall(plugin, { op: 'read', path: layout.at('out', 'ro', 'file.txt') }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: layout.at('out', 'ro', 'alias') } });
});

t.test('Deno refuses every way of creating a symlink under path-scoped grants, even one pointing inside', async (t) => {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out', 'sub'), { recursive: true });
  writeFileSync(layout.at('out', 'x'), 'inside');
  const { runtime } = runtimeFor(t, layout, ['./out'], ['./out']);
  const plugin = await runtime.load(layout.manifestPath);
  const ops = ['symlink', 'symlink-sync', 'symlink-dir', 'node-symlink', 'node-symlink-promise', 'node-symlink-callback'];
  for (const op of ops) {
    for (const [index, target] of ['x', layout.at('out', 'x'), 'sub', '../../x'].entries()) {
      const where = layout.at('out', `${op}-${index}`);
      assertRefused(t, await fsCall(plugin, { op, target, path: where }), `${op} -> ${target}`);
      t.notOk(existsOrLink(where), `${op} -> ${target}: nothing was created`);
    }
  }
});

function existsOrLink(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

t.test('a file of a read-only grant cannot be linked or moved into a writable one and written there', async (t) => {
  // Two shapes: a read-only grant beside the writable one, and a read grant around it.
  for (const [read, write, ro] of [
    [['./ro', './out'], ['./out'], './ro'],
    [['./data'], ['./data/out'], './data'],
  ] as const) {
    await t.test(`read ${read.join(', ')}, write ${write.join(', ')}`, async (t) => {
      const layout = plant(t, [...read], [...write]);
      const out = layout.at(write[0]);
      mkdirSync(out, { recursive: true });
      mkdirSync(layout.at(ro, 'sub'), { recursive: true });
      const file = layout.at(ro, 'file.txt');
      writeFileSync(file, 'read-only original');
      writeFileSync(layout.at(ro, 'sub', 'inner.txt'), 'inner original');
      const { runtime } = runtimeFor(t, layout, [...read], [...write]);
      const plugin = await runtime.load(layout.manifestPath);

      const attempts = ['link', 'link-sync', 'node-link', 'node-link-promise', 'rename', 'rename-sync', 'node-rename', 'node-rename-promise'];
      for (const op of attempts) {
        const into = path.join(out, op);
        assertRefused(t, await fsCall(plugin, { op, target: file, path: into }), `${op} of a read-only file`);
        t.notOk(existsSync(into), `${op}: nothing appeared in the writable tree`);
        // Had anything appeared, this write would reach the read-only file through it.
        await fsCall(plugin, { op: 'write', path: into, text: 'pwned' });
      }
      assertRefused(t, await fsCall(plugin, { op: 'rename', target: layout.at(ro, 'sub'), path: path.join(out, 'sub') }), 'moving a read-only folder');
      assertRefused(t, await fsCall(plugin, { op: 'write', path: file, text: 'pwned' }), 'writing the read-only file directly');
      t.equal(readFileSync(file, 'utf8'), 'read-only original', 'the read-only file is unchanged');
      t.equal(statSync(file).nlink, 1, 'and has no second name');
      t.equal(readFileSync(layout.at(ro, 'sub', 'inner.txt'), 'utf8'), 'inner original');
    });
  }
});

t.test('set-uid and set-gid bits a plugin sets are stripped before its call returns, and audited', async (t) => {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out'));
  const { runtime, audit } = runtimeFor(t, layout, ['./out'], ['./out']);
  const plugin = await runtime.load(layout.manifestPath);
  const attempts: [string, number][] = [
    ['chmod', 0o4755],
    ['chmod', 0o2755],
    ['chmod', 0o6755],
    ['node-chmod', 0o4755],
    ['create-with-mode', 0o4755],
    ['create-with-mode', 0o6755],
    ['node-create-with-mode', 0o4755],
  ];
  for (const [op, mode] of attempts) {
    const file = layout.at('out', `${op}-${mode.toString(8)}`);
    const result = await fsCall(plugin, { op, path: file, mode });
    t.same(result, { ok: true, value: mode }, `${op} ${mode.toString(8)}: the plugin saw the bits take`);
    t.equal(statSync(file).mode & 0o7777, mode & 0o777, `${op} ${mode.toString(8)}: stripped by the time the call returned`);
    const record = auditOf(audit, 'setid_stripped', 'fs').find((entry) => entry['path'] === file);
    t.match(record, { plugin: 'tree-changer', oldMode: mode.toString(8).padStart(4, '0'), newMode: '0755' }, `${op}: audited`);
    t.ok(record?.launchId, 'the record names the launch');
  }
});

t.test('a set-uid bit set from a timer after the call returned is stripped by the periodic sweep', async (t) => {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out'));
  const { runtime, audit, logs } = runtimeFor(t, layout, ['./out'], ['./out']);
  const plugin = await runtime.load(layout.manifestPath);
  const file = layout.at('out', 'late');
  t.same(await fsCall(plugin, { op: 'chmod-later', path: file, mode: 0o4755, afterMs: 200 }), { ok: true, value: 'scheduled' });
  t.ok(await waitFor('the late chmod log line', () => logs.some((entry) => entry.line.includes('late chmod took: 4755')), 60_000), 'the late chmod took, inside the plugin');
  t.ok(
    await waitFor('the setid_stripped record', () => auditOf(audit, 'setid_stripped', 'fs').some((entry) => entry['path'] === file), 60_000),
    'a sweep stripped it while the process lived',
  );
  t.equal(statSync(file).mode & 0o7777, 0o755);
  t.equal(auditOf(audit, 'exit').length, 0, 'the process is still alive: it was the periodic sweep');
});

t.test('a set-uid bit set just before the process exits is stripped by the exit sweep', async (t) => {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out'));
  // No periodic sweep within the test: only the sweep after the exit can catch it.
  const config = structuredClone(loadLaunchConfig());
  config.toolProcess.setidSweepIntervalMs = 3_600_000;
  const { runtime, audit, logs } = runtimeFor(t, layout, ['./out'], ['./out'], config);
  const plugin = await runtime.load(layout.manifestPath);
  const file = layout.at('out', 'at-exit');
  await t.rejects(fsCall(plugin, { op: 'chmod-and-exit', path: file, mode: 0o4755 }), { code: 'plugin_crashed' });
  t.ok(await waitFor('the chmod-before-exit log line', () => logs.some((entry) => entry.line.includes('chmod before exit took: 4755')), 60_000), 'the chmod took, inside the plugin');
  t.equal(statSync(file).mode & 0o7777, 0o755, 'stripped once the process was gone');
  const records = auditOf(audit, 'setid_stripped', 'fs');
  t.match(records, [{ path: file, oldMode: '4755', newMode: '0755' }]);
  t.equal(records[0]?.launchId, auditOf(audit, 'exit')[0]?.launchId, 'audited under the launch that exited');
});

t.test('a set-uid file already in a writable tree refuses the launch', async (t) => {
  const layout = plant(t, ['./out'], ['./out']);
  mkdirSync(layout.at('out', 'bin'), { recursive: true });
  const planted = layout.at('out', 'bin', 'tool');
  writeFileSync(planted, '#!/bin/sh\nid\n');
  chmodSync(planted, 0o4755);
  const { runtime, audit } = runtimeFor(t, layout, ['./out'], ['./out']);
  const plugin = await runtime.load(layout.manifestPath);
  const outcome = await fsCall(plugin, { op: 'write', path: planted, text: 'payload' }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: planted } }, `refused: ${JSON.stringify(outcome)}`);
  t.equal(auditOf(audit, 'launch').length, 0);
  t.equal(readFileSync(planted, 'utf8'), '#!/bin/sh\nid\n', 'the set-uid file was not written');
});
