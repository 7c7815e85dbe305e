/**
 * The package as users get it: packed, installed from the tarball into a project of its
 * own (no dev dependencies, no TypeScript loader), and used from there by a plain `.mjs`
 * host, a `.ts` host under `tsc --strict`, and a plugin written outside this repository.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import path from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { packageEnvironment, packRepository, readmeBlock, run } from './package-project.ts';

const TSC = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');

t.test('the tarball ships the compiled package and nothing of the repository besides', async (t) => {
  const { files } = packRepository(t.testdir());
  for (const shipped of ['dist/index.js', 'dist/mcp.js', 'dist/types/runtime/mcp/index.d.ts', 'dist/cli.js', 'dist/types/runtime/index.d.ts', 'dist/types/plugin-sdk/mod.d.ts', 'plugin-sdk/mod.ts', 'manifests/plugin-manifest.schema.json', 'bin/manasvi-plugins.js', 'cjs/require-error.cjs', 'deno-launch.json']) {
    t.ok(files.includes(shipped), `ships ${shipped}`);
  }
  for (const prefix of ['tests/', 'scripts/', '.ci/', 'runtime/', 'tsconfig']) {
    // The sandbox launcher is the one file of runtime/ shipped: a Perl script, run as it is.
    const shipped = files.filter((file) => file.startsWith(prefix) && file !== 'runtime/launch/sandbox/sandbox-launcher.pl');
    t.same(shipped, [], `ships nothing under ${prefix}`);
  }
  t.ok(files.includes('runtime/launch/sandbox/sandbox-launcher.pl'), 'ships the sandbox launcher');
  t.ok(files.includes('manifests/probes/escaper/plugin.ts'), "ships doctor's probe plugin");
});

t.test('installed from the tarball into a project with no dev dependencies', async (t) => {
  const base = t.testdir({
    project: { 'package.json': JSON.stringify({ name: 'host-app', private: true, type: 'module' }) },
    pack: {},
  });
  const project = path.join(base, 'project');
  const { tarball } = packRepository(path.join(base, 'pack'));
  run('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  const installed = path.join(project, 'node_modules/manasvi-plugins');
  t.ok(existsSync(path.join(installed, 'dist/index.js')), 'the package is installed with its dist/');
  t.notOk(existsSync(path.join(project, 'node_modules/tsx')), 'no TypeScript loader came with it');

  // A plugin written outside this repository, the way the README tells authors to start.
  run('node', [path.join(installed, 'bin/manasvi-plugins.js'), 'init', 'plugins/hello'], project);
  const pluginDir = path.join(project, 'plugins/hello');

  t.test('the README host quick start runs exactly as written, in plain JavaScript', async (t) => {
    writeFileSync(path.join(project, 'app.mjs'), readmeBlock('Quick start for hosts', 'js'));
    const output = run('node', ['app.mjs'], project);
    t.match(output, /Hello, world/, 'the tool answered through the runtime');
    t.ok(existsSync(path.join(project, 'audit.jsonl')), 'the audit file was written where the snippet says');
  });

  t.test('the README MCP library snippet and the mcp command serve the plugin to an MCP client', async (t) => {
    writeFileSync(path.join(project, 'server.mjs'), readmeBlock('MCP bridge', 'js'));
    const servers: Array<[string, string[]]> = [
      ['the snippet', ['server.mjs']],
      ['the command', [path.join(installed, 'bin/manasvi-plugins.js'), 'mcp', 'plugins/hello']],
    ];
    for (const [what, args] of servers) {
      const client = new Client({ name: 'package-test', version: '1.0.0' });
      await client.connect(new StdioClientTransport({ command: process.execPath, args, cwd: project, env: packageEnvironment() as Record<string, string>, stderr: 'pipe' }));
      const { tools } = await client.listTools();
      t.same(tools.map(({ name }) => name), ['hello__hello'], `${what} lists the tool`);
      const result = await client.callTool({ name: 'hello__hello', arguments: { name: 'mcp' } });
      t.match(JSON.stringify(result.content), /Hello, mcp/, `${what} runs it`);
      await client.close();
    }
  });

  t.test('require() gets one clear line saying how to import instead', async (t) => {
    writeFileSync(path.join(project, 'app.cjs'), "require('manasvi-plugins');\n");
    let stderr = '';
    try {
      run('node', ['app.cjs'], project);
    } catch (error) {
      stderr = String((error as { stderr?: unknown }).stderr);
    }
    t.match(stderr, /manasvi-plugins is an ES module and cannot be require\(\)d: use `import \{ createRuntime \} from 'manasvi-plugins'`/);
  });

  t.test('a .ts host type-checks with tsc --strict against the shipped declarations', async (t) => {
    writeFileSync(
      path.join(project, 'host.ts'),
      [
        "import { createRuntime, isPluginRuntimeError, type PluginHandle, type Runtime, type ToolStateEvent } from 'manasvi-plugins';",
        '',
        "const runtime: Runtime = createRuntime({ auditFile: 'audit.jsonl' });",
        "const plugin: PluginHandle = await runtime.load('plugins/hello/manifest.json');",
        "plugin.on('state', (event: ToolStateEvent) => console.log(event.tool, event.state));",
        'try {',
        "  const value: unknown = await plugin.call('hello', { name: 'types' }, { timeoutMs: 5_000 });",
        '  console.log(value);',
        '} catch (error) {',
        '  if (isPluginRuntimeError(error)) {',
        "    const code: 'timeout' | string = error.code;",
        '    console.error(code, error.message);',
        '  }',
        '}',
        'await runtime.close();',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(REPO_ROOT, 'node_modules/@types')],
        },
        files: ['host.ts'],
      }),
    );
    t.doesNotThrow(() => run('node', [TSC, '-p', 'tsconfig.json'], project), 'tsc --strict passes');
    writeFileSync(path.join(project, 'host.ts'), "import { createRuntime } from 'manasvi-plugins';\ncreateRuntime({ policy: 42 });\n");
    let output = '';
    try {
      run('node', [TSC, '-p', 'tsconfig.json'], project);
    } catch (error) {
      output = String((error as { stdout?: unknown }).stdout);
    }
    t.match(output, /host\.ts\(2,\d+\): error TS2322/, 'and the declarations are real: a wrong option type fails');
  });

  t.test('the plugin written outside the repository type-checks, validates and runs', async (t) => {
    const manifest = JSON.parse(readFileSync(path.join(pluginDir, 'manifest.json'), 'utf8')) as { $schema: string };
    t.ok(existsSync(path.resolve(pluginDir, manifest.$schema)), 'its $schema points at the schema inside the installed package');
    const deno = run('node', ['-e', "process.stdout.write(require('deno/install_api.cjs').runInstall())"], project);
    const denoEnv = { ...packageEnvironment(), DENO_DIR: path.join(project, '.deno'), DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' };
    t.doesNotThrow(() => run(deno, ['check', 'plugin.ts'], pluginDir, denoEnv), 'deno check passes');
    t.doesNotThrow(() => run('node', [TSC, '-p', pluginDir], project), 'tsc passes');
    const bin = path.join(project, 'node_modules/.bin/manasvi-plugins');
    t.match(run(bin, ['validate', 'plugins/hello'], project), /^valid +plugins\/hello /m, 'validate passes');
    t.match(run(bin, ['call', 'plugins/hello/manifest.json', 'hello', '--args', '{"name":"outside"}', '--json'], project), /"ok":true/);
  });

  t.test('doctor runs from the installed package: its probe plugin and the sandbox launcher are shipped', async (t) => {
    const bin = path.join(project, 'node_modules/.bin/manasvi-plugins');
    const report = JSON.parse(run(bin, ['doctor', '--json'], project)) as { ok: boolean; layers: { layer: string; status: string }[] };
    t.equal(report.ok, true);
    t.equal(report.layers.find((entry) => entry.layer === 'denoPermissions')?.status, 'active');
    t.notOk(report.layers.some((entry) => entry.status === 'failed'), 'no layer failed');
  });
});
