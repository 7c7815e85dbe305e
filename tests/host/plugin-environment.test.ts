import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

const SCRIPT = new URL('./scripts/report-plugin-environment.ts', import.meta.url).pathname;

t.test('a tool process environment holds only the launch token and the variables that steer Deno', async (t) => {
  // `env -i` gives the host a clean environment of our choosing, free of the test
  // runner's injected variables, plus the things an attacker would hope leak through.
  const { stdout } = await promisify(execFile)(
    '/usr/bin/env',
    [
      '-i',
      `PATH=${process.env['PATH']}`,
      `HOME=${process.env['HOME'] ?? '/tmp'}`,
      'HTTP_PROXY=http://127.0.0.1:9',
      'https_proxy=http://127.0.0.1:9',
      'DENO_V8_FLAGS=--allow-natives-syntax',
      'DENO_AUTH_TOKENS=planted-auth-token@example.invalid',
      'MANASVI_SECRET_PLANTED=planted-secret-value',
      process.execPath,
      '--import',
      'tsx',
      SCRIPT,
    ],
    { cwd: REPO_ROOT, timeout: 120_000 },
  );
  const { environ, cmdline } = JSON.parse(stdout) as { environ: string[]; cmdline: string[] };
  const keys = environ.map((entry) => entry.slice(0, entry.indexOf('='))).sort();
  t.same(keys, ['DENO_DIR', 'DENO_NO_UPDATE_CHECK', 'MANASVI_LAUNCH_TOKEN', 'NO_COLOR']);
  t.notOk(environ.some((entry) => /planted|127\.0\.0\.1:9/.test(entry)), 'nothing planted on the host reaches the plugin');
  const token = environ.find((entry) => entry.startsWith('MANASVI_LAUNCH_TOKEN='))!.split('=')[1]!;
  t.ok(token.length >= 43, 'a 32-byte token');
  t.notOk(cmdline.some((arg) => arg.includes(token)), 'the token is not in argv');
  t.ok(cmdline.includes('--no-prompt') && cmdline.includes('--deny-net'), 'argv is the computed Deno argv');
});

t.test('the runtime reports which enforcement layers are active', async (t) => {
  const { runtime } = testRuntime(t);
  t.equal(runtime.layers.hostChecks, true);
  t.equal(runtime.layers.denoPermissions, true);
  t.type(runtime.layers.osLimits, 'boolean');
  t.type(runtime.layers.dieWithHost, 'boolean');
});
