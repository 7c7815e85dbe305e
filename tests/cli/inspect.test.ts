import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { createRuntime } from '../../runtime/index.ts';
import { exampleManifest } from '../helpers/fixtures.ts';
import { expectExit, jsonOut, runCli } from './cli-process.ts';

interface InspectOutput {
  decisions: { capability: string; scope: string; granted: boolean; rule: string }[];
  tools: { name: string; argv: string[] }[];
}

const NOTES_DATA = realpathSync(path.join(path.dirname(exampleManifest('notes')), 'data'));

t.test('inspect --json prints the exact argv the runtime would launch each tool with', async (t) => {
  const result = await runCli(['inspect', exampleManifest('notes'), '--allow-declared', '--json']);
  expectExit(t, result, 0);
  const out = jsonOut(result) as InspectOutput;

  const runtime = createRuntime();
  t.teardown(() => runtime.close());
  const prepared = await runtime.inspect(exampleManifest('notes'), { allowDeclared: true });
  t.same(
    out.tools.map((tool) => [tool.name, tool.argv]),
    prepared.tools.map((tool) => [tool.name, tool.argv]),
  );

  const argv = Object.fromEntries(out.tools.map((tool) => [tool.name, tool.argv]));
  // Each tool gets its own sandbox only: write_note may write but not read, and neither may use the network.
  t.match(argv['write_note'], ['run', '--no-prompt']);
  t.ok(argv['write_note']!.includes(`--allow-write=${NOTES_DATA}`));
  t.ok(argv['write_note']!.includes('--deny-read'));
  t.ok(argv['read_note']!.includes(`--allow-read=${NOTES_DATA}`));
  t.ok(argv['read_note']!.includes('--deny-write'));
  for (const tool of out.tools) {
    t.ok(tool.argv.includes('--deny-net'), `${tool.name} has --deny-net`);
    t.ok(tool.argv.includes('--allow-env=MANASVI_LAUNCH_TOKEN'), `${tool.name} may read the token variable only`);
    t.notOk(tool.argv.some((arg) => arg.startsWith('--allow-run') || arg === '--allow-all' || arg === '-A'));
  }
});

t.test('inspect prints grants, each decision with its rule, and each tool\'s command one argument a line', async (t) => {
  const result = await runCli(['inspect', exampleManifest('echo')]);
  expectExit(t, result, 0);
  t.match(result.stdout, /granted {2}provide-tools \*\n\s+rule: default: provide-tools is granted when declared/);
  t.match(
    result.stdout,
    /\/deno \\\n\s+run \\\n\s+--no-prompt \\\n[^]*--allow-env=MANASVI_LAUNCH_TOKEN \\\n\s+--deny-net \\\n\s+--deny-read \\\n\s+--deny-write \\\n[^]*\.js\n/,
  );
  t.equal(result.stderr, '', 'no development warning without --allow-declared');
});

t.test('inspect shows a declared scope the policy refused, with the rule that refused it', async (t) => {
  const dir = t.testdir({
    'plugin.ts': "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { t: () => 1 } });\n",
    'manifest.json': JSON.stringify({
      name: 'asks-for-net',
      version: '1.0.0',
      entry: 'plugin.ts',
      capabilities: { 'provide-tools': true, 'access-network': ['127.0.0.1:9'] },
      tools: { t: { description: 'x', input: { type: 'object' } } },
    }),
  });
  const result = await runCli(['inspect', path.join(dir, 'manifest.json'), '--json']);
  expectExit(t, result, 0);
  const out = jsonOut(result) as InspectOutput;
  t.match(out.decisions, [
    { capability: 'provide-tools', granted: true },
    { capability: 'access-network', scope: '127.0.0.1:9', granted: false, rule: String },
  ]);
  const text = await runCli(['inspect', path.join(dir, 'manifest.json')]);
  t.match(text.stdout, /REFUSED {2}access-network 127\.0\.0\.1:9\n\s+rule: \S/);
});

t.test('inspect without a grant for a tool sandbox fails and names the field', async (t) => {
  const result = await runCli(['inspect', exampleManifest('notes')]);
  expectExit(t, result, 1);
  t.match(result.stderr, /error \[sandbox_exceeds_grants\]/);
  t.match(result.stderr, /tools\.write_note\.sandbox\.filesystem\.write\.0/);
});

t.test('inspect --against lists every scope an update widens and exits 1', async (t) => {
  const dir = t.testdir({});
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ plugins: {} }));
  const result = await runCli(['inspect', exampleManifest('notes'), '--against', exampleManifest('echo'), '--allow-declared']);
  expectExit(t, result, 1);
  t.match(result.stdout, /WIDENS/);
  t.match(result.stdout, /\+ capabilities: access-filesystem write:\.\/data/);
  const same = await runCli(['inspect', exampleManifest('echo'), '--against', exampleManifest('echo'), '--policy', policy]);
  expectExit(t, same, 0);
  t.match(same.stdout, /nothing widened/);
});

t.test('inspect --allow-declared warns loudly on stderr', async (t) => {
  const result = await runCli(['inspect', exampleManifest('echo'), '--allow-declared']);
  expectExit(t, result, 0);
  t.match(result.stderr, /WARNING: --allow-declared is for development only/);
});

t.test('inspect --against prints what the update widens even when the policy refuses it', async (t) => {
  const result = await runCli(['inspect', exampleManifest('notes'), '--against', exampleManifest('echo')]);
  expectExit(t, result, 1);
  t.match(result.stdout, /compared with .*echo.*: the update WIDENS/);
  t.match(result.stdout, /\+ capabilities: access-filesystem write:\.\/data/);
  t.match(result.stderr, /error \[sandbox_exceeds_grants\]/, 'and then the refusal');
  const json = await runCli(['inspect', exampleManifest('notes'), '--against', exampleManifest('echo'), '--json']);
  expectExit(t, json, 1);
  t.match(jsonOut(json), { ok: false, error: { code: 'sandbox_exceeds_grants' }, widened: [{ capability: 'access-filesystem' }] });
});

t.test("inspect's command is exactly what the launch spawns: wrappers, the Deno binary, Deno's argv", async (t) => {
  const dir = t.testdir({});
  const auditFile = path.join(dir, 'audit.jsonl');
  const inspected = await runCli(['inspect', exampleManifest('echo'), '--json']);
  expectExit(t, inspected, 0);
  const command = (jsonOut(inspected) as { tools: { name: string; command: string[] }[] }).tools.find((tool) => tool.name === 'echo')!.command;
  const called = await runCli(['call', exampleManifest('echo'), 'echo', '--args', '{"text":"hi"}', '--audit', auditFile]);
  expectExit(t, called, 0);
  const launch = readFileSync(auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; wrapper: string[]; deno: string; argv: string[] })
    .find((record) => record.type === 'launch')!;
  t.same(command, [...launch.wrapper, launch.deno, ...launch.argv], 'the audit record spells the same command');
  if (launch.wrapper.length > 0) t.match(launch.wrapper[0], /\/(prlimit|unshare|setpriv)$/, 'the wrapper starts with its program');

  const text = await runCli(['inspect', exampleManifest('echo')]);
  expectExit(t, text, 0);
  t.match(text.stdout, /command \(exactly as spawned/);
  for (const arg of command) t.ok(text.stdout.includes(`        ${arg} \\\n`) || text.stdout.includes(`      ${arg} \\\n`) || text.stdout.includes(`        ${arg}\n`), `${arg} on a line of its own`);
});
