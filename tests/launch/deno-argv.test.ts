import t from 'tap';
import { LAUNCH_TOKEN_ENV } from '../../plugin-sdk/protocol/constants.ts';
import { loadLaunchConfig } from '../../runtime/config/launch-config.ts';
import { NO_GRANTS, type Grants } from '../../runtime/grants/grants.ts';
import { buildDenoArgv } from '../../runtime/launch/deno-argv.ts';

const config = loadLaunchConfig();
const bundlePath = '/state/bundles/0123abcd.js';
const grants = (partial: Partial<Grants>): Grants => ({ ...NO_GRANTS, ...partial });

t.test('buildDenoArgv with nothing granted denies net, read and write explicitly', async (t) => {
  const argv = buildDenoArgv({ config, grants: NO_GRANTS, bundlePath, heapMb: 128 });
  t.same(argv, [
    ...config.deno.baseFlags,
    `--allow-env=${LAUNCH_TOKEN_ENV}`,
    '--deny-net',
    '--deny-read',
    '--deny-write',
    '--v8-flags=--max-old-space-size=128',
    bundlePath,
  ]);
});

t.test('buildDenoArgv starts with the base flags from deno-launch.json', async (t) => {
  const custom = { ...config, deno: { ...config.deno, baseFlags: ['run', '--no-prompt', '--custom-flag'] } };
  const argv = buildDenoArgv({ config: custom, grants: NO_GRANTS, bundlePath, heapMb: 64 });
  t.same(argv.slice(0, 3), ['run', '--no-prompt', '--custom-flag']);
});

t.test('the shipped base flags forbid prompts, remote and npm imports, config files, subprocesses, FFI and sys info', async (t) => {
  for (const flag of ['run', '--no-prompt', '--no-remote', '--no-npm', '--no-config', '--no-lock', '--cached-only', '--deny-run', '--deny-ffi', '--deny-sys']) {
    t.ok(config.deno.baseFlags.includes(flag), flag);
  }
  t.notOk(config.deno.baseFlags.some((flag) => flag.startsWith('--allow') || flag === '-A'), 'no allow flag in the base');
});

t.test('buildDenoArgv lists exactly the granted hosts and paths', async (t) => {
  const argv = buildDenoArgv({
    config,
    grants: grants({ network: ['127.0.0.1:8080', 'api.example.test'], read: ['/srv/a', '/srv/b'], write: ['/srv/b/out'] }),
    bundlePath,
    heapMb: 256,
  });
  const permissions = argv.filter((arg) => /^--(allow|deny)-/.test(arg) && !config.deno.baseFlags.includes(arg));
  t.same(permissions, [
    `--allow-env=${LAUNCH_TOKEN_ENV}`,
    '--allow-net=127.0.0.1:8080,api.example.test',
    '--allow-read=/srv/a,/srv/b',
    '--allow-write=/srv/b/out',
  ]);
  t.ok(argv.includes('--v8-flags=--max-old-space-size=256'));
});

t.test('buildDenoArgv allows the environment for the token variable only', async (t) => {
  const argv = buildDenoArgv({ config, grants: grants({ secrets: ['API_KEY'] }), bundlePath, heapMb: 128 });
  const envFlags = argv.filter((arg) => arg.startsWith('--allow-env'));
  t.same(envFlags, [`--allow-env=${LAUNCH_TOKEN_ENV}`]);
  t.notOk(argv.some((arg) => arg.includes('API_KEY')), 'secrets never become flags');
  t.notOk(argv.some((arg) => /^--allow-(all|run|ffi|sys|import)|^-A$/.test(arg)));
});

t.test('buildDenoArgv puts the bundle last', async (t) => {
  const argv = buildDenoArgv({ config, grants: grants({ read: ['/x'] }), bundlePath, heapMb: 128 });
  t.equal(argv.at(-1), bundlePath);
  t.equal(argv.indexOf(bundlePath), argv.length - 1);
});

t.test('buildDenoArgv takes no token, so none can reach argv', async (t) => {
  // The token travels only in the environment; argv is built from config, grants and the bundle.
  const argv = buildDenoArgv({ config, grants: NO_GRANTS, bundlePath, heapMb: 128 });
  t.notOk(argv.some((arg) => arg.includes(`${LAUNCH_TOKEN_ENV}=`)));
});

t.test('buildDenoArgv refuses a path or host with a comma, which Deno would split into two grants', async (t) => {
  t.throws(() => buildDenoArgv({ config, grants: grants({ read: ['/srv/a,/etc'] }), bundlePath, heapMb: 128 }), {
    code: 'config_invalid',
  });
  t.throws(() => buildDenoArgv({ config, grants: grants({ write: ['/tmp/x,/home'] }), bundlePath, heapMb: 128 }), {
    code: 'config_invalid',
  });
  t.throws(() => buildDenoArgv({ config, grants: grants({ network: ['a.test,b.test'] }), bundlePath, heapMb: 128 }), {
    code: 'config_invalid',
  });
});
