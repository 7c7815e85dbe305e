import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import t from 'tap';
import { bundledDenoPath } from '../../runtime/launch/deno-binary.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { expectExit, jsonOut, runCli } from './cli-process.ts';

const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

function runIn(cwd: string, file: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('TAP') && !key.startsWith('_TAPJS')));
  return execFileSync(file, args, { cwd, env: { ...clean, ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
}

t.test('init scaffolds a plugin that validates, runs, type-checks and tests as written', async (t) => {
  const base = t.testdir({});
  const result = await runCli(['init', 'plugins/greeter'], { cwd: base });
  expectExit(t, result, 0);
  const folder = path.join(base, 'plugins/greeter');
  t.same(readdirSync(folder).sort(), ['README.md', 'deno.json', 'manifest.json', 'plugin.test.mjs', 'plugin.ts', 'tsconfig.json']);
  t.match(result.stdout, /^Next:\n {2}npx manasvi-plugins validate plugins\/greeter\n {2}npx manasvi-plugins call plugins\/greeter hello --args '\{"name":"world"\}'\n {2}node --test plugins\/greeter\/plugin\.test\.mjs$/m);

  const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8'));
  t.equal(manifest.name, 'greeter', 'the name comes from the folder');
  t.ok(existsSync(path.resolve(folder, manifest.$schema)), '$schema points at the package schema');

  expectExit(t, await runCli(['validate', 'plugins/greeter'], { cwd: base }), 0);
  const call = await runCli(['call', 'plugins/greeter', 'hello', '--args', '{"name":"world"}', '--json'], { cwd: base });
  expectExit(t, call, 0);
  t.match(jsonOut(call), { ok: true, value: { text: 'Hello, world!' } });

  t.doesNotThrow(() => runIn(folder, 'node', [TSC, '-p', '.']), 'tsc passes');
  const deno = bundledDenoPath();
  t.doesNotThrow(
    () => runIn(folder, deno, ['check', 'plugin.ts'], { DENO_DIR: path.join(base, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }),
    'deno check passes',
  );
  t.match(runIn(folder, 'node', ['--test', 'plugin.test.mjs']), /# pass 1/, 'the example test passes');
});

t.test('init types handler arguments: a wrong use is a tsc error in the scaffold', async (t) => {
  const base = t.testdir({});
  expectExit(t, await runCli(['init', 'p', '--tool', 'greet'], { cwd: base }), 0);
  const folder = path.join(base, 'p');
  const source = readFileSync(path.join(folder, 'plugin.ts'), 'utf8').replace('ctx.callId }', 'ctx.callIdd }');
  writeFileSync(path.join(folder, 'plugin.ts'), source);
  let out = '';
  try {
    runIn(folder, 'node', [TSC, '-p', '.']);
  } catch (error) {
    out = String((error as { stdout?: unknown }).stdout);
  }
  t.match(out, /Property 'callIdd' does not exist on type 'ToolContext'/);
});

for (const capability of ['access-filesystem', 'access-network', 'access-secret']) {
  t.test(`init --capability ${capability} declares it, still validates and runs without a policy`, async (t) => {
    const base = t.testdir({});
    const result = await runCli(['init', 'cap', '--capability', capability], { cwd: base });
    expectExit(t, result, 0);
    const manifest = JSON.parse(readFileSync(path.join(base, 'cap/manifest.json'), 'utf8'));
    t.ok(manifest.capabilities[capability], 'declared');
    t.match(readFileSync(path.join(base, 'cap/README.md'), 'utf8'), capability, 'the README shows the policy that grants it');
    expectExit(t, await runCli(['validate', 'cap'], { cwd: base }), 0);
    expectExit(t, await runCli(['call', 'cap', 'hello', '--args', '{"name":"x"}'], { cwd: base }), 0);
  });
}

t.test('init never overwrites: a folder that is not empty, a file, a symlink', async (t) => {
  const base = t.testdir({ full: { 'manifest.json': 'mine' }, file: 'x' });
  mkdirSync(path.join(base, 'target'));
  symlinkSync(path.join(base, 'target'), path.join(base, 'link'));
  const full = await runCli(['init', 'full'], { cwd: base });
  expectExit(t, full, 2);
  t.match(full.stderr, /full is not empty \(it holds manifest\.json\); init never overwrites/);
  t.equal(readFileSync(path.join(base, 'full/manifest.json'), 'utf8'), 'mine', 'the file is untouched');
  t.same(readdirSync(path.join(base, 'full')), ['manifest.json'], 'nothing added');
  const file = await runCli(['init', 'file'], { cwd: base });
  expectExit(t, file, 2);
  t.match(file.stderr, /file exists and is not a folder/);
  const link = await runCli(['init', 'link'], { cwd: base });
  expectExit(t, link, 2);
  t.match(link.stderr, /link is a symlink/);
  t.same(readdirSync(path.join(base, 'target')), [], 'nothing written through the symlink');
});

t.test('init names a bad flag value and the valid choices', async (t) => {
  const base = t.testdir({});
  const name = await runCli(['init', 'a', '--name', 'Bad Name'], { cwd: base });
  expectExit(t, name, 2);
  t.match(name.stderr, /--name "Bad Name" is not a valid plugin name: use 1-64 of a-z, 0-9 and "-"/);
  const tool = await runCli(['init', 'a', '--tool', 'constructor'], { cwd: base });
  expectExit(t, tool, 2);
  t.match(tool.stderr, /--tool "constructor" is reserved/);
  const capability = await runCli(['init', 'a', '--capability', 'access-network-all'], { cwd: base });
  expectExit(t, capability, 2);
  t.match(capability.stderr, /--capability "access-network-all" is not one of access-filesystem, access-network, access-secret/);
  t.notOk(existsSync(path.join(base, 'a')), 'nothing was created');
});
