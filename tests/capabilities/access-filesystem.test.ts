import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { isPluginRuntimeError, PluginHandle } from '../../runtime/index.ts';
import { auditOf } from '../helpers/audit-log.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime, type TestRuntimeOptions } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

type FsResult = { ok: boolean; value?: unknown; error?: string; message?: string };

interface Tree {
  root: string;
  plugin: { dir: string; manifestPath: string };
  data: string;
  /** A sibling of `data` whose name starts with "data". */
  data2: string;
  outside: string;
  secretFile: string;
}

/**
 * A plugin folder with `data/` (granted read and write to the `fs` tool) beside
 * `data2/` (not granted), and an `outside/` folder holding a file no grant covers.
 */
function plantTree(t: Test): Tree {
  const root = realpathSync(t.testdir());
  const plugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['./data'], write: ['./data'] };
    manifest.tools.fs.sandbox.filesystem = { read: ['./data'], write: ['./data'] };
  });
  const data = path.join(plugin.dir, 'data');
  const data2 = path.join(plugin.dir, 'data2');
  const outside = path.join(root, 'outside');
  for (const dir of [data, data2, outside]) mkdirSync(dir);
  writeFileSync(path.join(data, 'in.txt'), 'inside');
  writeFileSync(path.join(data2, 'sibling.txt'), 'sibling');
  const secretFile = path.join(outside, 'secret.txt');
  writeFileSync(secretFile, 'outside secret');
  return { root, plugin, data, data2, outside, secretFile };
}

function runtimeFor(t: Test, tree: Tree, options: TestRuntimeOptions = {}) {
  return testRuntime(t, {
    policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: [tree.data], write: [tree.data] } } } },
    ...options,
  });
}

const fsCall = (plugin: PluginHandle, args: Record<string, unknown>) =>
  plugin.call('fs', args, { timeoutMs: GENEROUS_MS }) as Promise<FsResult>;

function assertRefused(t: Test, result: FsResult, what: string) {
  t.equal(result.ok, false, `${what}: failed`);
  t.equal(result.error, 'NotCapable', `${what}: refused by Deno's permission check (${result.message})`);
}

t.test('a clean tree: the plugin reads and writes inside its grant and nowhere else', async (t) => {
  const tree = plantTree(t);
  const { runtime } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);
  t.same(
    plugin.tools[0]!.argv.filter((arg) => /^--allow-(read|write)/.test(arg)),
    [`--allow-read=${tree.data}`, `--allow-write=${tree.data}`],
  );

  t.same(await fsCall(plugin, { op: 'read', path: path.join(tree.data, 'in.txt') }), { ok: true, value: 'inside' });
  t.same(await fsCall(plugin, { op: 'write', path: path.join(tree.data, 'new.txt'), text: 'made inside' }), {
    ok: true,
    value: 'written',
  });
  t.equal(readFileSync(path.join(tree.data, 'new.txt'), 'utf8'), 'made inside');

  assertRefused(t, await fsCall(plugin, { op: 'read', path: tree.secretFile }), 'read outside');
  assertRefused(t, await fsCall(plugin, { op: 'read', path: `${tree.data}/../../outside/secret.txt` }), 'read through ..');
  assertRefused(t, await fsCall(plugin, { op: 'read', path: `${tree.data}/../data2/sibling.txt` }), 'read the sibling through ..');
  assertRefused(t, await fsCall(plugin, { op: 'read', path: path.join(tree.data2, 'sibling.txt') }), 'read data2 (same prefix)');
  assertRefused(t, await fsCall(plugin, { op: 'readdir', path: tree.data2 }), 'list data2 (same prefix)');
  assertRefused(t, await fsCall(plugin, { op: 'write', path: path.join(tree.data2, 'planted.txt') }), 'write data2 (same prefix)');
  assertRefused(t, await fsCall(plugin, { op: 'write', path: `${tree.data}/../../outside/planted.txt` }), 'write through ..');
  assertRefused(t, await fsCall(plugin, { op: 'write', path: tree.secretFile }), 'overwrite outside');
  t.notOk(existsSync(path.join(tree.data2, 'planted.txt')));
  t.notOk(existsSync(path.join(tree.outside, 'planted.txt')));
  t.equal(readFileSync(tree.secretFile, 'utf8'), 'outside secret');
});

t.test('with a write grant, creating a symlink or a hard link to outside is blocked', async (t) => {
  const tree = plantTree(t);
  const { runtime } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);
  const attempts: [string, Record<string, unknown>][] = [
    ['Deno.symlink', { op: 'symlink', target: tree.secretFile, path: path.join(tree.data, 'sym') }],
    ['Deno.symlink, relative target', { op: 'symlink', target: '../../outside/secret.txt', path: path.join(tree.data, 'sym-rel') }],
    ['Deno.symlink to a folder', { op: 'symlink', target: tree.outside, path: path.join(tree.data, 'sym-dir') }],
    ['node:fs symlinkSync', { op: 'node-symlink', target: tree.secretFile, path: path.join(tree.data, 'node-sym') }],
    ['Deno.link', { op: 'link', target: tree.secretFile, path: path.join(tree.data, 'hard') }],
    ['node:fs linkSync', { op: 'node-link', target: tree.secretFile, path: path.join(tree.data, 'node-hard') }],
  ];
  for (const [what, args] of attempts) {
    assertRefused(t, await fsCall(plugin, args), what);
    t.notOk(existsSync(args['path'] as string) || isLink(args['path'] as string), `${what}: nothing was created`);
  }
});

function isLink(file: string): boolean {
  try {
    return realpathSync(file) !== file;
  } catch {
    return false;
  }
}

t.test('a symlink leading out of a granted tree refuses the launch with grant_refused naming it', async (t) => {
  const tree = plantTree(t);
  const escape = path.join(tree.data, 'nested', 'escape');
  mkdirSync(path.dirname(escape));
  symlinkSync(tree.secretFile, escape);
  const { runtime, audit } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);

  // Deno follows a symlink inside a granted tree; only the host's walk stands in the way.
  const outcome = await fsCall(plugin, { op: 'read', path: escape }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: escape, mode: 'read', root: tree.data } }, `refused: ${JSON.stringify(outcome)}`);
  t.notMatch(JSON.stringify(outcome), /outside secret/);
  const refusals = auditOf(audit, 'grant_refused', 'fs');
  t.equal(refusals.length, 1);
  t.match(refusals[0]?.reason, escape);
  t.equal(auditOf(audit, 'launch').length, 0, 'no process was started');
});

t.test('a hard-linked file in a granted tree refuses the launch with grant_refused naming it', async (t) => {
  const tree = plantTree(t);
  const target = path.join(tree.outside, 'target.txt');
  writeFileSync(target, 'original');
  const hard = path.join(tree.data, 'hard');
  linkSync(target, hard);
  const { runtime, audit } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);

  const outcome = await fsCall(plugin, { op: 'write', path: hard, text: 'pwned' }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: hard } }, `refused: ${JSON.stringify(outcome)}`);
  t.equal(readFileSync(target, 'utf8'), 'original', 'the file outside was not written through the link');
  t.match(auditOf(audit, 'grant_refused', 'fs')[0]?.reason, hard);
});

t.test('the granted trees are checked again before every launch, not only at load', async (t) => {
  const tree = plantTree(t);
  const { runtime, audit } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);
  t.same(await fsCall(plugin, { op: 'read', path: path.join(tree.data, 'in.txt') }), { ok: true, value: 'inside' });

  const escape = path.join(tree.data, 'late-escape');
  symlinkSync(tree.secretFile, escape);
  await t.rejects(fsCall(plugin, { op: 'exit' }), { code: 'plugin_crashed' }, 'the first process ends');
  const outcome = await fsCall(plugin, { op: 'read', path: escape }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused', details: { path: escape } });
  t.equal(auditOf(audit, 'launch').length, 1, 'only the first, clean launch happened');
});

t.test('a hard link the plugin makes inside its own grant refuses its next launch', async (t) => {
  const tree = plantTree(t);
  const { runtime } = runtimeFor(t, tree);
  const plugin = await runtime.load(tree.plugin.manifestPath);
  const inside = path.join(tree.data, 'in.txt');
  const twin = path.join(tree.data, 'twin');
  // Deno allows this (both ends are granted); the host sees the link before the next launch.
  t.same(await fsCall(plugin, { op: 'link', target: inside, path: twin }), { ok: true, value: 'linked' });
  await t.rejects(fsCall(plugin, { op: 'exit' }), { code: 'plugin_crashed' });
  const outcome = await fsCall(plugin, { op: 'read', path: inside }).catch((error: unknown) => error);
  t.match(outcome, { code: 'grant_refused' });
  t.ok([inside, twin].includes((outcome as { details?: { path?: string } }).details?.path ?? ''), 'names one of the linked files');
});

t.test('a grant given through a symlink grants the real path', async (t) => {
  const root = realpathSync(t.testdir());
  const realData = path.join(root, 'real-data');
  mkdirSync(realData);
  writeFileSync(path.join(realData, 'file.txt'), 'real');
  const plugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['./link-data'] };
    manifest.tools.fs.sandbox.filesystem = { read: ['./link-data'] };
  });
  symlinkSync(realData, path.join(plugin.dir, 'link-data'));
  const { runtime } = testRuntime(t, {
    policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: [realData] } } } },
  });
  const handle = await runtime.load(plugin.manifestPath);
  const argv = handle.tools[0]!.argv;
  t.ok(argv.includes(`--allow-read=${realData}`), 'argv names the real path');
  t.notOk(argv.some((arg) => arg.includes('link-data')), 'argv never names the link');
  t.same(handle.decisions.find((d) => d.capability === 'access-filesystem')?.scope, `read:${realData}`);
  t.same(await fsCall(handle, { op: 'read', path: path.join(realData, 'file.txt') }), { ok: true, value: 'real' });
});

t.test('a symlink in the plugin folder cannot smuggle a system folder past the policy', async (t) => {
  const root = realpathSync(t.testdir());
  const plugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['./innocent'] };
    delete manifest.tools.fs.sandbox;
  });
  symlinkSync('/etc', path.join(plugin.dir, 'innocent'));
  const { runtime } = testRuntime(t, {
    policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: [root] } } } },
  });
  const prepared = await runtime.inspect(plugin.manifestPath);
  t.same(prepared.decisions.find((d) => d.capability === 'access-filesystem'), {
    capability: 'access-filesystem',
    scope: 'read:/etc',
    granted: false,
    rule: 'not inside policy plugins.cap-fs-prober.access-filesystem.read',
  });
  t.same(prepared.grants.read, []);
});

t.test('sensitive paths are refused unless the policy names them', async (t) => {
  const root = realpathSync(t.testdir());
  const sensitive = ['/etc', '/proc', '/sys', '/dev', '/home/alice/.ssh', path.join(os.homedir(), '.config')];
  const plugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: sensitive };
    delete manifest.tools.fs.sandbox;
  });
  const broad = testRuntime(t, { policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: ['/'] } } } } });
  const prepared = await broad.runtime.inspect(plugin.manifestPath);
  for (const entry of sensitive) {
    const decision = prepared.decisions.find((d) => d.scope === `read:${entry}`);
    t.equal(decision?.granted, false, `${entry} refused under a policy allowing "/"`);
    t.match(decision?.rule, entry === '/proc' ? /^never granted: / : /^sensitive path: /, `${entry}: ${decision?.rule}`);
  }
  t.same(prepared.grants.read, []);

  const named = testRuntime(t, {
    policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: ['/etc', '/home/alice/.ssh'] } } } },
  });
  const namedPrepared = await named.runtime.inspect(plugin.manifestPath);
  t.same(namedPrepared.grants.read, ['/etc', '/home/alice/.ssh'], 'granted when the policy names them');

  // "/" itself is sensitive too: a policy allowing "/home" does not grant "/".
  const rootPlugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['/'] };
    delete manifest.tools.fs.sandbox;
  }, 'wants-root');
  const home = testRuntime(t, { policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: ['/home'] } } } } });
  t.same((await home.runtime.inspect(rootPlugin.manifestPath)).grants.read, []);
});

t.test('a plugin whose tool really tries to read /etc under a policy allowing "/" never gets to', async (t) => {
  const root = realpathSync(t.testdir());
  const plugin = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['/etc'] };
    manifest.tools.fs.sandbox.filesystem = { read: ['/etc'] };
  });
  const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: ['/'] } } } } });
  const loaded = await runtime.load(plugin.manifestPath).catch((error: unknown) => error);
  if (loaded instanceof PluginHandle) {
    t.fail(`granted; the plugin read: ${JSON.stringify(await fsCall(loaded, { op: 'read', path: '/etc/hostname' }))}`);
  } else {
    t.ok(isPluginRuntimeError(loaded, 'sandbox_exceeds_grants'), `load refused: ${(loaded as Error).message}`);
  }
});

t.test("the runtime's own state folder is never granted, whatever the policy or allowDeclared say", async (t) => {
  const parent = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'manasvi-cap-state-')));
  t.teardown(() => rmSync(parent, { recursive: true, force: true }));
  const stateDir = path.join(parent, 'state');
  const root = realpathSync(t.testdir());
  const wanted = [stateDir, path.join(stateDir, 'bundles'), parent];
  const inspectOnly = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: wanted, write: wanted };
    delete manifest.tools.fs.sandbox;
  }, 'inspect-only');
  const policy = { plugins: { 'cap-fs-prober': { 'access-filesystem': { read: [parent], write: [parent] } } } };

  for (const allowDeclared of [false, true]) {
    const { runtime } = testRuntime(t, { stateDir, policy, allowDeclared });
    const prepared = await runtime.inspect(inspectOnly.manifestPath);
    for (const decision of prepared.decisions.filter((d) => d.capability === 'access-filesystem')) {
      t.equal(decision.granted, false, `${decision.scope} refused (allowDeclared ${allowDeclared})`);
      t.match(decision.rule, /^runtime-protected path /);
    }
    t.same([...prepared.grants.read, ...prepared.grants.write], []);
  }

  // A tool that really tries to plant a file among the bundles Deno runs.
  const bundles = path.join(stateDir, 'bundles');
  const planter = plantPlugin(root, 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { write: [bundles] };
    manifest.tools.fs.sandbox.filesystem = { write: [bundles] };
  }, 'planter');
  const { runtime } = testRuntime(t, { stateDir, policy, allowDeclared: true });
  const loaded = await runtime.load(planter.manifestPath).catch((error: unknown) => error);
  if (loaded instanceof PluginHandle) {
    await fsCall(loaded, { op: 'write', path: path.join(bundles, 'planted.js'), text: 'evil' });
  } else {
    t.ok(isPluginRuntimeError(loaded, 'sandbox_exceeds_grants'));
  }
  t.notOk(existsSync(path.join(bundles, 'planted.js')));
});
