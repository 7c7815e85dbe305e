import { cpSync, existsSync, lstatSync, readdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import t, { type Test } from 'tap';
import { DEMO_SCENARIOS } from '../../runtime/cli/demo/scenario-list.ts';
import { SESSION_STEPS } from '../../runtime/cli/demo/session-step-list.ts';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { writePermissiveDeno } from '../helpers/permissive-deno.ts';
import { cleanEnvironment, expectExit, runCli } from './cli-process.ts';

t.test('demo exits 0 and shows every escape attempt blocked, by the layer that blocked it', async (t) => {
  const result = await runCli(['demo']);
  expectExit(t, result, 0);
  const rows = result.stdout.split('\n');
  const row = (attempt: string) => rows.find((line) => line.includes(attempt)) ?? `(no row for ${attempt})`;

  for (const attempt of ['read_passwd:', 'reach_host:', 'read_env:', 'spawn_process:', 'import_outside:']) {
    t.match(row(attempt), /\sblocked\s+Deno permission$/, attempt);
  }
  t.match(row('load (static import of ../../../package.json)'), /\sblocked\s+host bundler$/);
  t.match(row('echo {"text":42}'), /\sblocked\s+host argument validation$/);
  t.match(row('load under the policy (no entry for notes)'), /\sblocked\s+host grants\/policy$/);
  t.match(row('peek:'), /\sblocked\s+host capability gate$/);
  t.match(row('(other port)'), /\sblocked\s+Deno permission$/);
  t.match(row('requests that reached'), /\sblocked\s/);
  t.match(row('(granted)'), /\sallowed\s/);
  t.match(row('write_note "demo"'), /\sallowed\s/);
  t.notMatch(result.stdout, /NOT BLOCKED|ESCAPE|[A-Z]{6,}!/);
  t.match(result.stdout, /Everything behaved as expected/);
  const [, launched, exited] = /Tool processes: (\d+) launched, (\d+) exited/.exec(result.stdout) ?? [];
  t.ok(Number(launched) > 0, 'tool processes were launched');
  t.equal(exited, launched, 'every tool process it launched has exited');
  t.notMatch(result.stdout, /root:x:0:0/, '/etc/passwd never shows up');
});

t.test('demo takes no arguments', async (t) => {
  expectExit(t, await runCli(['demo', 'extra']), 2);
});

t.test('demo exits 1 and names each escape when Deno is made to let the rogue through', async (t) => {
  // A "deno" that drops every permission flag and allows everything: the demo's own
  // verdict must notice, not just print a table.
  const permissive = writePermissiveDeno(t.testdir());

  const result = await runCli(['demo'], { env: { MANASVI_DENO: permissive } });
  expectExit(t, result, 1);
  for (const attempt of ['read_passwd', 'read_env', 'spawn_process', 'import_outside']) {
    t.match(result.stdout, new RegExp(`^ESCAPE: rogue ${attempt}: .* was NOT blocked`, 'm'), attempt);
  }
  // Where the host can create namespaces, a tool with no network grant has no network
  // even when Deno lets it try: that layer still holds with Deno's flags gone.
  const namespaced = /network namespace on/.test(result.stdout);
  if (namespaced) t.notMatch(result.stdout, /^ESCAPE: rogue reach_host/m, 'reach_host stays blocked by the network namespace');
  else t.match(result.stdout, /^ESCAPE: rogue reach_host: .* was NOT blocked/m, 'reach_host');
  // The fetcher goes through the egress gateway, which holds with Deno's flags gone.
  t.match(result.stdout, /requests that reached \S+\s+blocked\s+Deno, egress gateway/);
  t.match(result.stdout, /fetch_url \S+ \(other port\)\s+\d+ms\s+blocked\s+egress gateway/);
  t.notMatch(result.stdout, /^ESCAPE: fetcher/m);
  t.notMatch(result.stdout, /Everything behaved as expected/);
  // The bridge runs under the same Deno, so its escape attempt is no longer refused by Deno either.
  t.equal(sessionSteps(result.stdout).get('escape attempt')?.status, 'FAILED!', 'the MCP session notices too');
  t.notMatch(result.stdout, /MCP session: all \d+ steps behaved as expected/);
});

/** One printed step of the MCP session: "ok" or "FAILED!", and its text with the wrapped lines joined. */
interface PrintedStep {
  status: string;
  text: string;
}

/** The MCP session's steps by label, as printed: a step line, then its lines indented by 6. */
function sessionSteps(stdout: string): Map<string, PrintedStep> {
  const lines = stdout.slice(stdout.indexOf('\nMCP session: ')).split('\n');
  const steps = new Map<string, PrintedStep>();
  lines.forEach((line, i) => {
    // A word too long for the line (a path) starts a line of its own, leaving the colon last.
    const step = /^ {2}(ok|FAILED!) (.+?) \((?:<1ms|\d+ms|\d+\.\d+s)\):(?: (.*))?$/.exec(line);
    if (!step) return;
    const text = step[3] === undefined ? [] : [step[3]];
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('      '); j += 1) text.push(lines[j]!.trim());
    steps.set(step[2]!, { status: step[1]!, text: text.join(' ') });
  });
  return steps;
}

/** Checks that every step of the session was printed, in order, and behaved as expected. */
function expectSessionPassed(t: Test, stdout: string): Map<string, PrintedStep> {
  const steps = sessionSteps(stdout);
  t.same([...steps.keys()], SESSION_STEPS.map(({ label }) => label), 'every step, in order');
  for (const [label, { status, text }] of steps) t.equal(status, 'ok', `${label}: ${text}`);
  t.match(stdout, new RegExp(`^MCP session: all ${SESSION_STEPS.length} steps behaved as expected\\.$`, 'm'));
  return steps;
}

t.test('demo then drives the real MCP bridge with the SDK client, every step as expected', async (t) => {
  const result = await runCli(['demo']);
  expectExit(t, result, 0);
  const table = result.stdout.indexOf('Everything behaved as expected');
  const session = result.stdout.indexOf('\nMCP session: manasvi-plugins mcp --policy policy.json');
  t.ok(table > 0 && session > table, 'the session follows the table and its verdict');
  t.match(result.stdout.split('\n').filter(Boolean).at(-1), /^Total elapsed time: /, 'the total time comes last');

  const steps = expectSessionPassed(t, result.stdout);
  const text = (label: string) => steps.get(label)?.text ?? '';
  t.match(text('initialize'), /^server manasvi-plugins \d+\.\d+\.\d+ /);
  t.match(text('refused at load'), /^notes, as notifications\/message \(warning\): .*sandbox_exceeds_grants/);
  t.match(text('tools/list'), /echo__echo, .*rogue__reach_host, .*counter__count; none of notes$/);
  t.match(text('escape attempt'), /→ blocked: .*Requires net access .*; requests that reached it: 0$/);
  t.match(text('bad arguments'), /JSON-RPC error -32602, data\.issues: \/text: /);
  t.match(text('progress'), /→ \{"counted":3\}; notifications\/progress: 1\/3 "counted 1", 2\/3 "counted 2"/);
  t.match(text('plugin log'), /from counter\/count: "counting to 3"$/);
  const [, pids = ''] = /Tool processes \(pids from its audit\): (.*?); \d+ alive before close, all gone after/.exec(text('close')) ?? [];
  t.match(pids, /^\w+ \d+(, \w+ \d+)*$/, 'it names the tool processes it checked');
  // The host's own check, independent of the demo's: none of those pids is alive now.
  for (const pid of pids.split(', ').map((entry) => Number(entry.split(' ')[1]))) {
    t.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `pid ${pid} is gone`);
  }
});

t.test('demo --mcp runs only the MCP session', async (t) => {
  const result = await runCli(['demo', '--mcp']);
  expectExit(t, result, 0);
  t.notMatch(result.stdout, /read_passwd:|attempts:|Everything behaved as expected/, 'no table');
  expectSessionPassed(t, result.stdout);
  t.match(result.stdout, /^Total elapsed time: /m);
});

t.test('demo run from source without dist/ runs the bridge from the same sources', async (t) => {
  // The package's sources and no dist/: the demo runs under tsx, and so must its bridge.
  const copy = t.testdir();
  for (const entry of ['bin', 'runtime', 'plugin-sdk', 'manifests', 'deno-launch.json', 'package.json', 'tsconfig.json']) {
    cpSync(path.join(REPO_ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(copy, 'node_modules'));
  const result = await execa('node', ['--import', 'tsx', path.join(copy, 'runtime', 'cli', 'main.ts'), 'demo', '--mcp', '--verbose'], {
    cwd: copy,
    env: cleanEnvironment(),
    extendEnv: false,
    reject: false,
    timeout: 90_000,
    stdin: 'ignore',
  });
  t.equal(result.exitCode, 0, 'exits 0');
  const stdout = String(result.stdout);
  expectSessionPassed(t, stdout);
  // --verbose prints the bridge's command one argument a line: join it back.
  const [, command = ''] = /^ {2}bridge command:\n((?: {4}.*\n)+)/m.exec(stdout) ?? [];
  const argv = command.split('\n').map((line) => line.trim().replace(/ \\$/, '')).filter(Boolean);
  t.same(argv.slice(0, 3), [process.execPath, '--import', 'tsx'], "this Node, with the demo's own loader");
  t.equal(argv[3], path.join(realpathSync(copy), 'runtime', 'cli', 'main.ts'), 'the same sources the demo runs');
  t.notOk(existsSync(path.join(copy, 'dist')), 'nothing was built');
});

/** The first line of the table row naming `attempt`, and the indented detail lines under it. */
function rowBlock(stdout: string, attempt: string): { row: string; detail: string } {
  const lines = stdout.split('\n');
  const at = lines.findIndex((line) => line.includes(attempt));
  if (at < 0) return { row: `(no row for ${attempt})`, detail: '' };
  const detailStart = lines.findIndex((line, i) => i > at && line.trimStart().startsWith('↳'));
  const detail: string[] = [];
  for (let i = detailStart; i >= 0 && i < lines.length && lines[i]!.startsWith('    '); i += 1) detail.push(lines[i]!.trim());
  return { row: lines[at]!, detail: detail.join(' ') };
}

t.test('demo prints each row\'s time and the total elapsed time, and blocked reasons whole', async (t) => {
  const result = await runCli(['demo']);
  expectExit(t, result, 0);
  t.match(result.stdout, /^Total elapsed time: (<1ms|\d+ms|\d+\.\d+s)\.$/m);
  t.match(rowBlock(result.stdout, 'read_passwd:').row, /\s\d+ms\s+blocked\s+Deno permission$/, 'a call row has its time');
  t.notMatch(result.stdout, /…/, 'nothing is cut with an ellipsis');

  const [, forbidden] = /granted to nobody:\s+(127\.0\.0\.1:\d+)/.exec(result.stdout) ?? [];
  t.ok(forbidden, 'the header names the forbidden server');
  const reasons: [attempt: string, reason: string][] = [
    ['read_passwd:', 'Requires read access to "/etc/passwd"'],
    ['reach_host:', `Requires net access to "${forbidden}"`],
    ['(other port)', `fetch_url failed: Requires net access to "${forbidden}"`],
    ['spawn_process:', 'Requires run access to "/bin/sh"'],
    ['import_outside:', 'outside-every-plugin.js"'],
    ['peek:', 'secret API_KEY is not named by the sandbox of secrets/peek'],
    ['read_note "../', '/name: must match pattern "^[A-Za-z0-9_-]{1,64}$"'],
    ['load (static import', `rogue-import${path.sep}plugin.ts refused: it leaves the plugin folder`],
    ['load under the policy', 'not granted: the policy (policy option) does not grant it'],
  ];
  for (const [attempt, reason] of reasons) t.ok(rowBlock(result.stdout, attempt).detail.includes(reason), `${attempt} ${reason}`);
  t.notMatch(result.stdout, /deno run|rule:/, 'the plain run prints no launch commands or rules');
  t.match(result.stdout, /--verbose adds/, 'it says what --verbose adds');
});

t.test('demo --verbose adds each scenario\'s grant decisions, launch commands and audit records', async (t) => {
  const result = await runCli(['demo', '--verbose']);
  expectExit(t, result, 0);
  // A launch command is broken across lines as a shell would read it: join it back.
  const details = result.stdout.slice(result.stdout.indexOf('\nPer scenario:')).replace(/ \\\n\s+/g, ' ');
  t.ok(details.length > 1, 'a per-scenario section follows the table');
  for (const { name } of DEMO_SCENARIOS) t.match(details, new RegExp(`^${name} \\(`, 'm'), `a block for ${name}`);
  t.match(details, /^ {2}REFUSED access-filesystem read:\S+ \(rule:/m, 'the refused decision of notes under the policy');
  t.match(details, /^ {2}granted access-secret API_KEY \(rule: policy plugins\.secrets/m, 'the policy rule granting API_KEY');
  t.match(details, /^ {2}launch read_passwd \(pid \d+\)$/m);
  t.match(details, /^ {6}deno run .*--deny-read/m, "Deno's exact argv");
  t.match(details, /^ {2}capability_denied peek: access-secret API_KEY/m, 'the audit record of the refused secret');
  t.match(details, /^ {2}exit read_passwd: code/m);
  t.match(result.stdout, /^Total elapsed time: /m);
});

t.test('demo fits an 80-column terminal: only an unbreakable word runs past it', async (t) => {
  const result = await runCli(['demo', '--verbose'], { env: { COLUMNS: '80' } });
  expectExit(t, result, 0);
  const long = result.stdout.split('\n').filter((line) => line.length > 80);
  for (const line of long) t.match(line, /^\s*\S+( \\)?$/, `one word: ${line}`);
});

t.test('demo --help lists every scenario and every MCP session step the demo runs', async (t) => {
  const result = await runCli(['demo', '--help']);
  expectExit(t, result, 0);
  const names = DEMO_SCENARIOS.map(({ name }) => name);
  t.same([...names].sort(), ['echo', 'fetcher', 'notes', 'rogue', 'rogue-import', 'secrets']);
  for (const name of names) t.match(result.stdout, new RegExp(`^ {2}${name} {2,}\\S`, 'm'), name);
  for (const { label } of SESSION_STEPS) t.match(result.stdout, new RegExp(`^ {2}${escapeRegExp(label)} {2,}\\S`, 'm'), label);
  t.match(result.stdout, /--verbose {4}also print, per scenario/);
  t.match(result.stdout, /--mcp {8}run the MCP session only/);
});

/** Every file and folder under `dir` (node_modules left out), with its size and modification time. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !path.relative(dir, file).split(path.sep).includes('node_modules'))
    .map((file) => {
      const stat = lstatSync(file);
      return `${path.relative(dir, file)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

t.test('demo run from an installed package writes nothing inside the package folder', async (t) => {
  // The package as npm installs it: its "files" and package.json under node_modules, its
  // dependencies beside it.
  const root = t.testdir({ node_modules: { 'manasvi-plugins': {} } });
  const installed = path.join(root, 'node_modules', 'manasvi-plugins');
  const packageJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of [...packageJson.files, 'package.json']) {
    cpSync(path.join(REPO_ROOT, entry), path.join(installed, entry), { recursive: true });
  }
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(installed, 'node_modules'));
  const before = snapshot(installed);

  const result = await runCli(['demo'], { cwd: root, bin: path.join(installed, 'bin', 'manasvi-plugins.js') });
  expectExit(t, result, 0);
  t.match(rowBlock(result.stdout, 'write_note "demo"').row, /\sallowed\s/, 'the notes example wrote its note');
  t.match(result.stdout, new RegExp(`${escapeRegExp(installed)}.*rogue-import`), 'the examples came from the installed copy');
  t.same(snapshot(installed), before, 'the installed package is exactly as it was');
  t.same(readdirSync(root).sort(), ['node_modules'], 'nor anything beside it');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
