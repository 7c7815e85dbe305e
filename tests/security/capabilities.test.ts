import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import type { PluginHandle } from '../../runtime/index.ts';
import { resolveDenoPath } from '../../runtime/launch/deno-binary.ts';
import { fixturePath, stageFixture } from '../helpers/fixtures.ts';
import { startLoopbackServer } from '../helpers/loopback-server.ts';
import { probeManifest } from '../helpers/probe-manifest.ts';
import { processEnvironment } from '../helpers/processes.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection } from '../helpers/wait-for.ts';

// Every attempt below is made by real plugin code in a real Deno process
// (tests/fixtures/plugins/probe); the assertions are about what Deno let it do.

const granted = await startLoopbackServer(t, 'granted server says hi');
const ungranted = await startLoopbackServer(t, 'ungranted server says hi');
const proxy = await startLoopbackServer(t, 'proxy says hi');

// The host's own environment holds a proxy and a secret. None of it may reach a plugin.
const HOST_ENV: Record<string, string> = {
  HTTP_PROXY: proxy.url,
  HTTPS_PROXY: proxy.url,
  http_proxy: proxy.url,
  ALL_PROXY: proxy.url,
  HOST_ONLY_SECRET: 'the-host-keeps-this',
};
const saved = Object.fromEntries(Object.keys(HOST_ENV).map((key) => [key, process.env[key]]));
Object.assign(process.env, HOST_ENV);
t.teardown(() => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

const root = t.testdir();
const outside = path.join(root, 'outside');
mkdirSync(outside);
writeFileSync(path.join(outside, 'secret.txt'), 'outside the grants');
writeFileSync(path.join(outside, 'module.js'), 'export const fromOutside = 1;\n');
const dir = stageFixture('probe', path.join(root, 'plugin'), {
  'data/hello.txt': 'hello from the grant',
  'data/module.js': 'export const fromGrant = 1;\n',
  'manifest-undeclared.json': probeManifest('probe-undeclared', {}, { attempt: null }),
  'manifest-granted.json': probeManifest(
    'probe-granted',
    { 'access-network': [granted.hostPort], 'access-filesystem': { read: ['data'], write: ['data'] } },
    { attempt: { network: [granted.hostPort], filesystem: { read: ['data'], write: ['data'] } } },
  ),
});

const host = testRuntime(t);
const undeclared = await host.runtime.load(path.join(dir, 'manifest-undeclared.json'));
const allowed = await host.runtime.load(path.join(dir, 'manifest-granted.json'), { allowDeclared: true });

interface AttemptResult {
  allowed: boolean;
  value?: unknown;
  error?: string;
  message?: string;
}
const attempt = (plugin: PluginHandle, args: Record<string, string>) => plugin.call('attempt', args) as Promise<AttemptResult>;
const NOT_CAPABLE = { allowed: false, error: 'NotCapable' };

t.test('undeclared capabilities are blocked by Deno', async (t) => {
  t.test('file read outside the grants', async (t) => {
    t.match(await attempt(undeclared, { action: 'read', target: '/etc/passwd' }), NOT_CAPABLE, '/etc/passwd');
    t.match(await attempt(undeclared, { action: 'read', target: path.join(outside, 'secret.txt') }), NOT_CAPABLE, 'a file the test wrote');
  });

  t.test('file write', async (t) => {
    const target = path.join(outside, 'written-by-plugin.txt');
    t.match(await attempt(undeclared, { action: 'write', target, text: 'pwned' }), NOT_CAPABLE);
    t.notOk(existsSync(target), 'nothing was written');
  });

  t.test('network to a loopback server on an ungranted port', async (t) => {
    t.match(await attempt(undeclared, { action: 'fetch', target: ungranted.url }), NOT_CAPABLE);
    t.equal(ungranted.requests.length, 0, 'the server received nothing');
  });

  t.test('environment', async (t) => {
    t.match(await attempt(undeclared, { action: 'env', target: 'HOME' }), NOT_CAPABLE, 'HOME');
    t.match(await attempt(undeclared, { action: 'env', target: 'HOST_ONLY_SECRET' }), NOT_CAPABLE, 'a host variable');
    t.match(await attempt(undeclared, { action: 'env-all' }), NOT_CAPABLE, 'the whole environment');
  });

  t.test('the launch token variable is gone once the SDK has started', async (t) => {
    // Reading it is permitted (the SDK needs it once), so this is the SDK's delete at work.
    t.same(await attempt(undeclared, { action: 'env', target: 'MANASVI_LAUNCH_TOKEN' }), { allowed: true, value: null });
  });

  t.test('subprocess', async (t) => {
    t.match(await attempt(undeclared, { action: 'run' }), NOT_CAPABLE);
  });

  t.test('FFI', async (t) => {
    t.match(await attempt(undeclared, { action: 'ffi' }), NOT_CAPABLE);
  });

  t.test('sys info', async (t) => {
    t.match(await attempt(undeclared, { action: 'sys' }), NOT_CAPABLE);
  });

  t.test('listening on a loopback port', async (t) => {
    t.match(await attempt(undeclared, { action: 'listen' }), NOT_CAPABLE);
  });

  t.test('reading a file: URL through fetch', async (t) => {
    t.match(await attempt(undeclared, { action: 'fetch-file', target: 'file:///etc/passwd' }), NOT_CAPABLE);
  });

  t.test('node: built-ins, which the bundler leaves external, are under the same permissions', async (t) => {
    t.match(await attempt(undeclared, { action: 'node-read', target: '/etc/passwd' }), NOT_CAPABLE, 'node:fs');
    t.match(await attempt(undeclared, { action: 'node-run' }), NOT_CAPABLE, 'node:child_process');
    t.match(await attempt(undeclared, { action: 'node-sys' }), NOT_CAPABLE, 'node:os');
    t.match(await attempt(undeclared, { action: 'node-env', target: 'HOME' }), NOT_CAPABLE, 'node:process env');
  });

  t.test('a computed dynamic import of a file outside the folder', async (t) => {
    const target = pathToFileURL(path.join(outside, 'module.js')).href;
    t.match(await attempt(undeclared, { action: 'import', target }), { allowed: false, message: /Requires read access/ });
  });
});

t.test('a static import outside the plugin folder fails to load, naming the import', async (t) => {
  const relative = await rejection(host.runtime.load(fixturePath('import-escape', 'manifest.json')));
  t.match(relative, { code: 'import_refused', details: { specifier: '../../../../package.json' } }, 'a relative path out of the folder');
  t.match(relative.message, '../../../../package.json', 'the message names the import');
  const absolute = await rejection(host.runtime.load(fixturePath('import-escape', 'manifest-absolute.json')));
  t.match(absolute, { code: 'import_refused', details: { specifier: '/etc/passwd' } }, 'an absolute path');
  t.match(absolute.message, '/etc/passwd', 'the message names the import');
});

t.test('granted capabilities work, and only as granted', async (t) => {
  t.test('read inside the read grant', async (t) => {
    t.same(await attempt(allowed, { action: 'read', target: path.join(dir, 'data', 'hello.txt') }), {
      allowed: true,
      value: 'hello from the grant',
    });
  });

  t.test('write inside the write grant', async (t) => {
    const target = path.join(dir, 'data', 'written.txt');
    t.same(await attempt(allowed, { action: 'write', target, text: 'from the plugin' }), { allowed: true, value: 'written' });
    t.equal(readFileSync(target, 'utf8'), 'from the plugin', 'the file is on disk');
  });

  t.test('network to the granted loopback host:port', async (t) => {
    const before = granted.requests.length;
    t.same(await attempt(allowed, { action: 'fetch', target: `${granted.url}hello` }), { allowed: true, value: 'granted server says hi' });
    t.same(granted.requests.slice(before), ['GET /hello'], 'the server received the request');
  });

  t.test('a dynamic import from inside the read grant', async (t) => {
    const target = pathToFileURL(path.join(dir, 'data', 'module.js')).href;
    t.same(await attempt(allowed, { action: 'import', target }), { allowed: true, value: ['fromGrant'] });
  });

  t.test('everything beyond the grants is still blocked', async (t) => {
    t.match(await attempt(allowed, { action: 'read', target: '/etc/passwd' }), NOT_CAPABLE, 'read /etc/passwd');
    t.match(await attempt(allowed, { action: 'read', target: path.join(outside, 'secret.txt') }), NOT_CAPABLE, 'read outside');
    const target = path.join(outside, 'written-by-granted.txt');
    t.match(await attempt(allowed, { action: 'write', target, text: 'x' }), NOT_CAPABLE, 'write outside');
    t.notOk(existsSync(target), 'nothing was written outside');
    t.match(await attempt(allowed, { action: 'fetch', target: ungranted.url }), NOT_CAPABLE, 'another loopback port');
    t.equal(ungranted.requests.length, 0, 'the ungranted server received nothing');
    t.match(await attempt(allowed, { action: 'run' }), NOT_CAPABLE, 'subprocess');
  });

  t.test('a symlink planted inside the grants cannot lead out of them', async (t) => {
    const link = path.join(dir, 'data', 'passwd-link');
    t.match(await attempt(allowed, { action: 'symlink', target: '/etc/passwd', link }), NOT_CAPABLE);
    t.notOk(existsSync(link), 'no link was created');
  });
});

t.test('HTTP_PROXY in the host environment does not reach the plugin', async (t) => {
  const before = granted.requests.length;
  t.same(await attempt(allowed, { action: 'fetch', target: `${granted.url}direct` }), { allowed: true, value: 'granted server says hi' });
  t.same(granted.requests.slice(before), ['GET /direct'], "the granted server was reached (through the runtime's own egress gateway, not the host's proxy)");
  t.equal(proxy.requests.length, 0, 'the proxy received nothing');
  t.match(await attempt(allowed, { action: 'env', target: 'HTTP_PROXY' }), NOT_CAPABLE, 'the plugin cannot read HTTP_PROXY');

  const { launchId } = host.audit.last({ type: 'launch', plugin: 'probe-granted', tool: 'attempt' })!;
  const environment = processEnvironment(host.audit.launch(launchId!).pid);
  for (const [key, value] of Object.entries(HOST_ENV)) t.not(environment[key], value, `the host's ${key} is not in the process environment`);
  // A networked tool's proxy is the runtime's gateway, with a credential of this launch.
  t.match(environment['HTTP_PROXY'], new RegExp(`^http://${launchId}:[A-Za-z0-9_-]{43}@127\\.`), 'HTTP_PROXY is the egress gateway, with this launch’s credential');
  t.equal(environment['HTTPS_PROXY'], environment['HTTP_PROXY']);
  // Under tap, its process-info hook wraps child_process.spawn in this test process and adds
  // its own variables to every child: they come from the harness, not the runtime (run this
  // file with plain `npx tsx` and the set is exact without the filter).
  const harness = (key: string) => key === 'NODE_OPTIONS' || key.startsWith('_TAPJS_PROCESSINFO_');
  t.same(
    Object.keys(environment).filter((key) => !harness(key)).sort(),
    ['DENO_DIR', 'DENO_NO_UPDATE_CHECK', 'HTTPS_PROXY', 'HTTP_PROXY', 'MANASVI_LAUNCH_TOKEN', 'NODE_USE_ENV_PROXY', 'NO_COLOR'],
    'the process started with the scrubbed environment and the gateway’s proxy variables only',
  );
});

t.test('control: Deno itself would send that fetch through HTTP_PROXY if the variable reached it', async (t) => {
  // Without this, "the proxy received nothing" could pass merely because Deno ignores the variable.
  const before = proxy.requests.length;
  const result = await execa(
    resolveDenoPath(),
    ['run', '--no-prompt', `--allow-net=${granted.hostPort}`, '-'],
    {
      input: `console.log(await (await fetch(${JSON.stringify(`${granted.url}control`)})).text());`,
      env: { HTTP_PROXY: proxy.url, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', DENO_DIR: path.join(root, 'deno-dir') },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    },
  );
  t.equal(result.stdout, 'proxy says hi', 'the fetch was answered by the proxy');
  t.equal(proxy.requests.length, before + 1, 'the proxy received it');
  proxy.requests.length = before;
});
