import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { functionSecretStore, loadLaunchConfig, type PluginHandle, type Runtime } from '../../runtime/index.ts';
import { NO_GRANTS } from '../../runtime/grants/grants.ts';
import { buildDenoArgv } from '../../runtime/launch/deno-argv.ts';
import { resolveDenoPath } from '../../runtime/launch/deno-binary.ts';
import { SANDBOX_LAUNCHER } from '../../runtime/launch/sandbox/sandbox-support.ts';
import { pluginEnvironment } from '../../runtime/launch/spawn-deno.ts';
import { AuditLog, type LaunchRecord } from '../helpers/audit-log.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { processEnvironment, waitForProcessGone } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

// Deno's localStorage and Cache API need no permission and persist under DENO_DIR, keyed by
// the main module only. A tool granted a secret stashes it in both; every other process —
// a grantless tool of the same plugin, a plugin with byte-identical code, the same tool
// launched again, a later host on the same state folder — must find nothing.

const SECRET = `stash-secret-${randomBytes(12).toString('hex')}`;
const CALL = { timeoutMs: 60_000 };

const STORAGE_PROBE = `
const CACHE = 'stash';
const KEY = 'https://stash.invalid/value';
async function look() {
  const cacheExists = await caches.has(CACHE);
  const hit = cacheExists ? await (await caches.open(CACHE)).match(KEY) : undefined;
  return { local: localStorage.getItem('stash'), localKeys: localStorage.length, cacheExists, cached: hit ? await hit.text() : null };
}
async function stash(value) {
  localStorage.setItem('stash', value);
  await (await caches.open(CACHE)).put(KEY, new Response(value));
}
`;
const SOURCE = `${SDK_IMPORT}
${STORAGE_PROBE}
definePlugin({
  tools: {
    // With { look: true } it only reads: the same tool, in a later launch.
    stash: async (args, context) => {
      if (args.look) return look();
      const value = await context.secret('STASH_SECRET');
      await stash(value);
      const seen = await look();
      return { storedLocal: seen.local === value, storedCache: seen.cached === value };
    },
    peek: () => look(),
  },
});
`;

const root = realpathSync(t.testdir());
const stateDir = path.join(root, 'state');
const processesDir = path.join(stateDir, 'processes');
const hostDir = path.join(processesDir, String(process.pid));
const stasherManifest = writeInlinePlugin(path.join(root, 'a'), {
  name: 'stasher',
  source: SOURCE,
  capabilities: { 'access-secret': ['STASH_SECRET'] },
  tools: { stash: { sandbox: { secrets: ['STASH_SECRET'] } }, peek: {} },
});
// Another plugin, the same code byte for byte (so the same content-addressed bundle), no grants.
const twinManifest = writeInlinePlugin(path.join(root, 'b'), { name: 'twin', source: SOURCE, tools: { stash: {}, peek: {} } });

const audit = new AuditLog();
/** A host on the shared state folder; several in turn stand for one host restarted, recording into one audit log. */
function startHost(t: Test): Runtime {
  return testRuntime(t, {
    stateDir,
    policy: { plugins: { stasher: { 'access-secret': ['STASH_SECRET'] } } },
    secrets: functionSecretStore((name) => (name === 'STASH_SECRET' ? SECRET : undefined)),
    audit,
  }).runtime;
}

interface Look {
  local: string | null;
  localKeys: number;
  cacheExists: boolean;
  cached: string | null;
}
const NOTHING: Look = { local: null, localKeys: 0, cacheExists: false, cached: null };

/** The launch record of the process that answered the latest call to `tool` of `plugin`. */
const lastLaunch = (plugin: string, tool: string) => audit.last({ type: 'launch', plugin, tool }) as LaunchRecord;
const storageOf = (launch: LaunchRecord) => path.join(hostDir, launch.launchId);
const inside = (child: string, parent: string) => child === parent || child.startsWith(`${parent}${path.sep}`);

const runtime = startHost(t);
let stasher: PluginHandle = await runtime.load(stasherManifest);
const twin = await runtime.load(twinManifest);
let stashLaunch: LaunchRecord;

t.test('within its own process the stash is stored and read back (storage works)', async (t) => {
  t.same(await stasher.call('stash', {}, CALL), { storedLocal: true, storedCache: true });
  stashLaunch = lastLaunch('stasher', 'stash');
  t.same(await stasher.call('stash', { look: true }, CALL), { local: SECRET, localKeys: 1, cacheExists: true, cached: SECRET }, 'a second call to the same process sees it');
});

t.test('the process runs with its own DENO_DIR under the state folder, mode 0700, holding the stash', async (t) => {
  const dir = storageOf(stashLaunch);
  t.equal(processEnvironment(stashLaunch.pid)['DENO_DIR'], dir, 'DENO_DIR is <stateDir>/processes/<host pid>/<launch id>');
  const stat = statSync(dir);
  t.ok(stat.isDirectory());
  t.equal(stat.mode & 0o777, 0o700, 'closed to everyone else');
  if (stashLaunch.wrapper.includes(SANDBOX_LAUNCHER)) {
    // In the sandbox the host's folder is only where the new root is mounted: Deno keeps
    // its storage on a tmpfs of that process's own, gone with it.
    t.notOk(existsSync(path.join(dir, 'location_data')), 'nothing of the stash reaches the host');
  } else {
    t.ok(existsSync(path.join(dir, 'location_data')), "Deno keeps the process's localStorage and caches there");
  }
  t.ok(inside(dir, stateDir), 'inside the state folder, which no grant may touch');
});

t.test('(a) a tool of the same plugin with no grants finds nothing, while the stasher still runs', async (t) => {
  t.same(await stasher.call('peek', {}, CALL), NOTHING);
  const peek = lastLaunch('stasher', 'peek');
  t.not(peek.pid, stashLaunch.pid, 'another process');
  t.equal(processEnvironment(peek.pid)['DENO_DIR'], storageOf(peek), 'with a DENO_DIR of its own');
  t.same(stasher.pids('stash'), [stashLaunch.pid], 'the stasher is still alive');
});

t.test('(b) another plugin with byte-identical code finds nothing', async (t) => {
  const bundleOf = (handle: PluginHandle, tool: string) => handle.tools.find((prepared) => prepared.name === tool)!.argv.at(-1);
  t.equal(bundleOf(twin, 'peek'), bundleOf(stasher, 'stash'), 'the same bundle file: a shared DENO_DIR would key both to one origin');
  t.same(await twin.call('peek', {}, CALL), NOTHING);
  t.same(await twin.call('stash', { look: true }, CALL), NOTHING, 'its own copy of the stashing tool too');
});

t.test('(c) the same tool launched again finds nothing, and the old storage is gone', async (t) => {
  const dir = storageOf(stashLaunch);
  await stasher.close();
  await waitForProcessGone(stashLaunch.pid);
  await waitFor(`${dir} to be removed`, () => !existsSync(dir));
  stasher = await runtime.load(stasherManifest);
  t.same(await stasher.call('stash', { look: true }, CALL), NOTHING);
  t.not(lastLaunch('stasher', 'stash').launchId, stashLaunch.launchId, 'a new launch');
});

t.test('a crashed process loses its storage too', async (t) => {
  t.same(await stasher.call('stash', {}, CALL), { storedLocal: true, storedCache: true });
  const launch = lastLaunch('stasher', 'stash');
  t.ok(existsSync(storageOf(launch)));
  process.kill(launch.pid, 'SIGKILL');
  await waitForProcessGone(launch.pid);
  await waitFor('the crashed process storage to be removed', () => !existsSync(storageOf(launch)));
  t.same(await stasher.call('stash', { look: true }, CALL), NOTHING, 'its restart starts empty');
});

t.test('a later host on the same state folder finds nothing', async (t) => {
  const later = startHost(t);
  const again = await later.load(stasherManifest);
  t.same(await again.call('stash', { look: true }, CALL), NOTHING);
  t.same(await again.call('peek', {}, CALL), NOTHING);
});

t.test('no process storage is ever inside a grant, and the storage folder cannot be granted', async (t) => {
  const launches = audit.all({ type: 'launch' }) as (LaunchRecord & { grants: { read: string[]; write: string[] } })[];
  t.ok(launches.length >= 6);
  for (const launch of launches) {
    const granted = [...launch.grants.read, ...launch.grants.write];
    t.notOk(granted.some((grant) => inside(storageOf(launch), grant)), `${launch.plugin}/${launch.tool}: not inside a grant`);
  }
  const grabber = writeInlinePlugin(path.join(root, 'c'), {
    name: 'grabber',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { noop: () => null } });\n`,
    capabilities: { 'access-filesystem': { read: [processesDir], write: [hostDir] } },
    tools: { noop: {} },
  });
  const prepared = await runtime.inspect(grabber, { allowDeclared: true });
  for (const scope of [`read:${processesDir}`, `write:${hostDir}`]) {
    const decision = prepared.decisions.find((d) => d.scope === scope);
    t.equal(decision?.granted, false, `${scope} refused even under allowDeclared`);
    t.match(decision?.rule, /runtime-protected/);
  }
});

t.test('once every process has stopped, no process storage is left', async (t) => {
  await runtime.close();
  t.same(readdirSync(hostDir), [], `${hostDir} is empty`);
});

// The attack this file closes, shown to work: two Deno processes with the same flags, the
// same main module and one DENO_DIR read each other's storage; with separate ones they do not.
t.test('control: processes sharing a DENO_DIR do see each other’s stash', async (t) => {
  const config = loadLaunchConfig();
  const denoPath = resolveDenoPath();
  const script = path.join(root, 'control', 'main.js');
  mkdirSync(path.dirname(script), { recursive: true });
  writeFileSync(
    script,
    `${STORAGE_PROBE}\nif (Deno.args[0]) await stash(Deno.args[0]);\nconsole.log(JSON.stringify(await look()));\n`,
  );
  const argv = buildDenoArgv({ config, grants: NO_GRANTS, bundlePath: script, heapMb: config.limits.heapMb });
  const run = (denoDir: string, ...args: string[]) =>
    new Promise<Look>((resolve, reject) => {
      const child = spawn(denoPath, [...argv, ...args], { env: pluginEnvironment('unused-token', denoDir), cwd: '/' });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as Look) : reject(new Error(`deno exited ${code}: ${err}`))));
    });
  const shared = path.join(root, 'control', 'shared-deno-dir');
  const value = `control-${randomBytes(8).toString('hex')}`;
  t.same((await run(shared, value)).cached, value, 'the writer stores it');
  t.same(await run(shared), { local: value, localKeys: 1, cacheExists: true, cached: value }, 'another process with the same DENO_DIR reads it back');
  t.same(await run(path.join(root, 'control', 'fresh-deno-dir')), NOTHING, 'a process with its own DENO_DIR does not');
});

t.test('a process that cannot be given its own storage is not started, and its call fails rather than hangs', async (t) => {
  const brokenState = path.join(root, 'broken-state');
  const { runtime: broken } = testRuntime(t, { stateDir: brokenState });
  const plugin = await broken.load(twinManifest);
  // Where this host's storage folder should be, a file: the folder cannot be made.
  rmSync(path.join(brokenState, 'processes'), { recursive: true, force: true });
  writeFileSync(path.join(brokenState, 'processes'), 'not a folder');
  await t.rejects(plugin.call('peek', {}, CALL), { code: 'plugin_crashed' });
  t.same(plugin.pids('peek'), [], 'no process was spawned');
});
