import { accessSync, constants } from 'node:fs';
import t from 'tap';
import { detectOsLayers, toolCommand, wrapCommand, wrapperOf } from '../../runtime/launch/os-limits.ts';

const DENO = '/opt/deno/bin/deno';
const ARGV = ['run', '--no-prompt', '/bundles/abc.js'];
const LIMITS = { cpuSeconds: 30, fileSizeMb: 2 };
const NO_SANDBOX = { available: false as const, reason: 'not on this test host' };
const NO_FILES = { network: [], read: [], write: [] };

t.test('without OS layers Deno runs directly with its argv unchanged', async (t) => {
  t.same(wrapCommand({ prlimit: null, setpriv: null, unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, ARGV), [DENO, ARGV]);
});

t.test('prlimit sets a CPU soft limit under the hard one, the file-size limit in bytes, and no core files', async (t) => {
  const [file, args] = wrapCommand({ prlimit: '/usr/bin/prlimit', setpriv: null, unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, ARGV);
  t.equal(file, '/usr/bin/prlimit');
  t.same(args, ['--cpu=30:31', `--fsize=${2 * 1024 * 1024}`, '--core=0', '--', DENO, ...ARGV]);
});

t.test('setpriv ties the process to its parent with --pdeathsig KILL', async (t) => {
  const [file, args] = wrapCommand({ prlimit: null, setpriv: '/usr/bin/setpriv', unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, ARGV);
  t.equal(file, '/usr/bin/setpriv');
  t.same(args, ['--pdeathsig', 'KILL', '--', DENO, ...ARGV]);
});

t.test('both layers chain: prlimit, then setpriv, then Deno with its argv last and unchanged', async (t) => {
  const [file, args] = wrapCommand({ prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, ARGV);
  t.equal(file, '/usr/bin/prlimit');
  t.same(args.slice(args.indexOf('/usr/bin/setpriv')), ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', DENO, ...ARGV]);
  t.same(args.slice(-ARGV.length - 1), [DENO, ...ARGV]);
});

t.test('an argv that looks like options stays after the separators, never read as a wrapper option', async (t) => {
  const tricky = ['run', '--cpu=unlimited', '--pdeathsig', '0'];
  const [, args] = wrapCommand({ prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, tricky);
  t.same(args.slice(args.lastIndexOf('--') + 1), [DENO, ...tricky]);
  t.equal(args.filter((a) => a.startsWith('--cpu=')).length, 2, 'only the argv copy follows the wrapper’s own');
  t.equal(args.indexOf('--cpu=30:31'), 0);
});

t.test('detection finds executables that exist, and nothing off Linux', async (t) => {
  const layers = detectOsLayers();
  if (process.platform !== 'linux') {
    t.match(layers, { prlimit: null, setpriv: null, unshare: null, sandbox: { available: false } });
    return;
  }
  for (const found of [layers.prlimit, layers.setpriv, layers.unshare]) {
    if (found !== null) t.doesNotThrow(() => accessSync(found, constants.X_OK), `${found} is executable`);
  }
});

t.test('a tool with no network grant gets an empty network namespace, set up before setpriv and Deno', async (t) => {
  const layers = { prlimit: null, setpriv: '/usr/bin/setpriv', unshare: '/usr/bin/unshare', sandbox: NO_SANDBOX };
  const [file, args] = wrapCommand(layers, { ...LIMITS, isolateNetwork: true }, DENO, ARGV);
  t.equal(file, '/usr/bin/unshare');
  t.same(args, ['--user', '--map-current-user', '--net', '--', '/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', DENO, ...ARGV]);
  const [plainFile] = wrapCommand(layers, { ...LIMITS, isolateNetwork: false }, DENO, ARGV);
  t.equal(plainFile, '/usr/bin/setpriv', 'a tool with a network grant keeps the host network');
});

t.test('wrapperOf gives every wrapper program with its arguments, up to the Deno binary', async (t) => {
  const layers = { prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', unshare: '/usr/bin/unshare', sandbox: NO_SANDBOX };
  const command = toolCommand(layers, LIMITS, DENO, NO_FILES, ARGV);
  const wrapper = wrapperOf(command, ARGV);
  t.equal(wrapper[0], '/usr/bin/prlimit', 'the first program is in the record');
  t.ok(wrapper.includes('/usr/bin/unshare') && wrapper.includes('/usr/bin/setpriv'));
  t.same([...wrapper, DENO, ...ARGV], [command[0], ...command[1]], 'wrapper, binary and argv are the whole command');
  t.same(wrapperOf(toolCommand({ prlimit: null, setpriv: null, unshare: null, sandbox: NO_SANDBOX }, LIMITS, DENO, NO_FILES, ARGV), ARGV), []);
  t.notOk(wrapperOf(toolCommand(layers, LIMITS, DENO, { ...NO_FILES, network: ['example.com'] }, ARGV), ARGV).includes('/usr/bin/unshare'));
});
