import path from 'node:path';
import t from 'tap';
import { startLoopbackServer } from '../helpers/loopback-server.ts';
import { stageFixture } from '../helpers/fixtures.ts';
import { probeManifest } from '../helpers/probe-manifest.ts';
import { processArgv } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

// One plugin, three tools, three sandboxes: each tool process must get exactly its own.
const server = await startLoopbackServer(t);
const dir = stageFixture('probe', t.testdir(), {
  'dir-a/a.txt': 'only alpha reads this',
  'dir-b/b.txt': 'only beta reads this',
  'manifest.json': probeManifest(
    'two-sandboxes',
    { 'access-network': [server.hostPort], 'access-filesystem': { read: ['dir-a', 'dir-b'] } },
    {
      alpha: { network: [server.hostPort], filesystem: { read: ['dir-a'] } },
      beta: { filesystem: { read: ['dir-b'] } },
      bare: null,
    },
  ),
});
const dirA = path.join(dir, 'dir-a');
const dirB = path.join(dir, 'dir-b');
const manifest = path.join(dir, 'manifest.json');

const host = testRuntime(t);
const plugin = await host.runtime.load(manifest, { allowDeclared: true });

const isPermissionFlag = (arg: string) => /^--(allow|deny)-/.test(arg);
const basePermissions = host.runtime.config.deno.baseFlags.filter(isPermissionFlag);
const permissionsOf = (argv: readonly string[]) => argv.filter(isPermissionFlag).sort();
const argvOf = (tool: string) => plugin.tools.find((prepared) => prepared.name === tool)!.argv;

const gateway = plugin.tools.find((prepared) => prepared.name === 'alpha')!.network.gateway!.replace('http://', '');
const alphaDenied = argvOf('alpha').find((arg) => arg.startsWith('--deny-net='))!;
const EXPECTED: Record<string, string[]> = {
  // A networked tool also names the egress gateway, and denies every special range but it and its grants.
  alpha: [`--allow-net=${server.hostPort},${gateway}`, alphaDenied, `--allow-read=${dirA}`, '--deny-write'],
  beta: ['--deny-net', `--allow-read=${dirB}`, '--deny-write'],
  bare: ['--deny-net', '--deny-read', '--deny-write'],
};

interface AttemptResult {
  allowed: boolean;
  value?: unknown;
  error?: string;
}
const attempt = (tool: string, args: Record<string, string>) => plugin.call(tool, args) as Promise<AttemptResult>;
const NOT_CAPABLE = { allowed: false, error: 'NotCapable' };

t.test("each tool's argv grants exactly its own sandbox", async (t) => {
  const inspected = await host.runtime.inspect(manifest, { allowDeclared: true });
  for (const [tool, own] of Object.entries(EXPECTED)) {
    const argv = argvOf(tool);
    t.same(argv, inspected.tools.find((prepared) => prepared.name === tool)!.argv, `${tool}: load and inspect agree`);
    t.same(
      permissionsOf(argv),
      [...basePermissions, '--allow-env=MANASVI_LAUNCH_TOKEN', ...own].sort(),
      `${tool}: every permission flag is its own or the deny-everything base`,
    );
    t.notOk(argv.includes('-A') || argv.includes('--allow-all'), `${tool}: never allow-all`);
  }
  t.notOk(argvOf('alpha').some((arg) => arg.includes(dirB)), "alpha's argv never names beta's folder");
  t.notOk(argvOf('beta').some((arg) => arg.includes(dirA)), "beta's argv never names alpha's folder");
});

t.test('each tool runs in its own process, started with exactly that argv', async (t) => {
  const pids = new Set<number>();
  for (const tool of Object.keys(EXPECTED)) {
    await attempt(tool, { action: 'env', target: 'MANASVI_LAUNCH_TOKEN' });
    const { launchId } = host.audit.last({ type: 'launch', plugin: 'two-sandboxes', tool })!;
    const launch = host.audit.launch(launchId!);
    t.same(launch.argv, argvOf(tool), `${tool}: the launch record holds its argv`);
    const live = processArgv(launch.pid);
    t.same(live.slice(-launch.argv.length), argvOf(tool), `${tool}: the live process runs with it`);
    pids.add(launch.pid);
  }
  t.equal(pids.size, 3, 'three tools, three processes');
});

t.test("alpha reads its folder and reaches the server, and cannot read beta's folder", async (t) => {
  t.same(await attempt('alpha', { action: 'read', target: path.join(dirA, 'a.txt') }), { allowed: true, value: 'only alpha reads this' });
  t.match(await attempt('alpha', { action: 'read', target: path.join(dirB, 'b.txt') }), NOT_CAPABLE, "beta's file");
  const before = server.requests.length;
  t.match(await attempt('alpha', { action: 'fetch', target: server.url }), { allowed: true }, 'the granted server');
  t.equal(server.requests.length, before + 1, 'the server received the request');
});

t.test("beta reads its folder, and cannot read alpha's folder or reach the server", async (t) => {
  t.same(await attempt('beta', { action: 'read', target: path.join(dirB, 'b.txt') }), { allowed: true, value: 'only beta reads this' });
  t.match(await attempt('beta', { action: 'read', target: path.join(dirA, 'a.txt') }), NOT_CAPABLE, "alpha's file");
  const before = server.requests.length;
  t.match(await attempt('beta', { action: 'fetch', target: server.url }), NOT_CAPABLE, 'the server the plugin may reach');
  t.equal(server.requests.length, before, 'the server received nothing');
});

t.test('a tool that declares no sandbox gets nothing, though its plugin holds grants', async (t) => {
  t.match(await attempt('bare', { action: 'read', target: path.join(dirA, 'a.txt') }), NOT_CAPABLE, 'read dir A');
  t.match(await attempt('bare', { action: 'read', target: path.join(dirB, 'b.txt') }), NOT_CAPABLE, 'read dir B');
  t.match(await attempt('bare', { action: 'write', target: path.join(dirA, 'new.txt'), text: 'x' }), NOT_CAPABLE, 'write');
  const before = server.requests.length;
  t.match(await attempt('bare', { action: 'fetch', target: server.url }), NOT_CAPABLE, 'network');
  t.equal(server.requests.length, before, 'the server received nothing');
});
