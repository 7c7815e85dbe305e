import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startLoopbackServer } from '../helpers/loopback-server.ts';
import { exampleManifest, fixturePath, stage } from '../helpers/fixtures.ts';
import { expectExit, jsonOut, runCli } from './cli-process.ts';

t.test('call --json prints exactly {"ok":true,"value":…} and exits 0', async (t) => {
  const result = await runCli(['call', exampleManifest('echo'), 'echo', '--args', '{"text":"hi"}', '--json']);
  expectExit(t, result, 0);
  t.equal(result.stdout, '{"ok":true,"value":{"text":"hi"}}\n');
});

t.test('call without --json prints the value readably', async (t) => {
  const result = await runCli(['call', exampleManifest('echo'), 'echo', '--args', '{"text":"hi"}']);
  expectExit(t, result, 0);
  t.same(JSON.parse(result.stdout), { text: 'hi' });
  t.match(result.stdout, /\n {2}"text": "hi"\n/, 'indented, one field a line');
});

t.test('call --json with invalid arguments prints {"ok":false,"error":{code,message}} and exits 1', async (t) => {
  const result = await runCli(['call', exampleManifest('echo'), 'echo', '--args', '{"text":42}', '--json']);
  expectExit(t, result, 1);
  const out = jsonOut(result) as { ok: boolean; error: Record<string, unknown> };
  t.same(Object.keys(out), ['ok', 'error']);
  t.same(Object.keys(out.error), ['code', 'message']);
  t.equal(out.ok, false);
  t.equal(out.error['code'], 'invalid_arguments');
});

t.test('call prints each manifest issue on one line, once, and --json keeps them in the message', async (t) => {
  const dir = t.testdir({});
  stage(path.dirname(exampleManifest('echo')), dir);
  const manifest = path.join(dir, 'manifest.json');
  const parsed = JSON.parse(readFileSync(manifest, 'utf8'));
  writeFileSync(manifest, JSON.stringify({ ...parsed, name: 'Not A Name', colour: 'red' }));

  const text = await runCli(['call', manifest, 'echo']);
  expectExit(t, text, 1);
  const lines = text.stderr.trimEnd().split('\n');
  t.match(lines[0], /^error \[manifest_invalid\]: manifest .*manifest\.json has 2 problems:$/);
  t.same(lines.slice(1).map((line) => line.split(':')[0]).sort(), ['  colour', '  name'], 'one line per issue');

  const json = jsonOut(await runCli(['call', manifest, 'echo', '--json'])) as { error: { code: string; message: string } };
  t.equal(json.error.code, 'manifest_invalid');
  t.match(json.error.message, /\n {2}colour: unknown key "colour"\. Valid keys here: /);
  t.match(json.error.message, /\n {2}name: /);
});

t.test('call exits 1 with tool_failed when Deno refuses what a tool tries', async (t) => {
  const server = await startLoopbackServer(t);
  // The fetcher is granted only its placeholder port; the test server's port is another.
  const args = JSON.stringify({ url: server.url });
  const result = await runCli(['call', exampleManifest('fetcher'), 'fetch_url', '--args', args, '--allow-declared', '--json']);
  expectExit(t, result, 1);
  t.match(jsonOut(result), { ok: false, error: { code: 'tool_failed' } });
  t.same(server.requests, [], 'nothing reached the server');
});

t.test('call exits 1 with unknown_tool for a tool the manifest does not list', async (t) => {
  const result = await runCli(['call', exampleManifest('echo'), 'shout', '--json']);
  expectExit(t, result, 1);
  t.match(jsonOut(result), { ok: false, error: { code: 'unknown_tool' } });
});

t.test('call exits 1 with import_refused for a plugin whose bundle would escape its folder', async (t) => {
  const result = await runCli(['call', exampleManifest('rogue-import'), 'leak', '--json']);
  expectExit(t, result, 1);
  t.match(jsonOut(result), { ok: false, error: { code: 'import_refused', message: /\.\.\/\.\.\/\.\.\/package\.json/ } });
});

t.test('a rogue tool reports its attempt blocked, and the call itself succeeds', async (t) => {
  const result = await runCli(['call', exampleManifest('rogue'), 'read_passwd', '--json']);
  expectExit(t, result, 0);
  const out = jsonOut(result) as { ok: true; value: { blocked: boolean; leaked?: string } };
  t.equal(out.value.blocked, true);
  t.notOk(out.value.leaked);
  t.notMatch(result.stdout, /root:/);
});

t.test('usage errors exit 2', async (t) => {
  const cases: [string, string[]][] = [
    ['missing tool', ['call', exampleManifest('echo')]],
    ['unknown flag', ['call', exampleManifest('echo'), 'echo', '--frobnicate']],
    ['bad JSON in --args', ['call', exampleManifest('echo'), 'echo', '--args', '{text:']],
    ['non-numeric --timeout', ['call', exampleManifest('echo'), 'echo', '--timeout', 'soon']],
    ['--args without a value', ['call', exampleManifest('echo'), 'echo', '--args']],
    ['unknown command', ['frobnicate']],
    ['no command', []],
  ];
  for (const [name, args] of cases) {
    const result = await runCli(args);
    t.equal(result.exitCode, 2, name);
    t.not(result.stderr, '', `${name}: says why on stderr`);
  }
});

t.test('a usage error under --json still prints one JSON object', async (t) => {
  const result = await runCli(['call', exampleManifest('echo'), 'echo', '--args', '{text:', '--json']);
  expectExit(t, result, 2);
  t.match(jsonOut(result), { ok: false, error: { code: 'usage_error' } });
});

t.test('notes writes only with a grant: refused by default, allowed by a policy or --allow-declared', async (t) => {
  const dir = t.testdir({ data: {} });
  stage(path.dirname(exampleManifest('notes')), dir, { filter: (source) => !source.includes(`${path.sep}data${path.sep}`) });
  const manifest = path.join(dir, 'manifest.json');
  const write = (name: string, ...flags: string[]) =>
    runCli(['call', manifest, 'write_note', '--args', JSON.stringify({ name, text: `note ${name}` }), '--json', ...flags]);

  const refused = await write('a');
  expectExit(t, refused, 1);
  t.match(jsonOut(refused), { ok: false, error: { code: 'sandbox_exceeds_grants' } });
  t.notOk(existsSync(path.join(dir, 'data', 'a.txt')));

  // Relative policy paths resolve against the policy file's folder: here, the plugin's.
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ plugins: { notes: { 'access-filesystem': { read: ['./data'], write: ['./data'] } } } }));
  const byPolicy = await write('b', '--policy', policy);
  expectExit(t, byPolicy, 0);
  t.equal(readFileSync(path.join(dir, 'data', 'b.txt'), 'utf8'), 'note b');
  t.notMatch(byPolicy.stderr, /allow-declared/);

  const declared = await write('c', '--allow-declared');
  expectExit(t, declared, 0);
  t.match(declared.stderr, /WARNING: --allow-declared is for development only/);
  const read = await runCli(['call', manifest, 'read_note', '--args', '{"name":"c"}', '--allow-declared', '--json']);
  t.same(jsonOut(read), { ok: true, value: { name: 'c', text: 'note c' } });
});

t.test('notes refuses a note name with a slash before the plugin ever sees it', async (t) => {
  const result = await runCli(['call', exampleManifest('notes'), 'read_note', '--args', '{"name":"../manifest"}', '--allow-declared', '--json']);
  expectExit(t, result, 1);
  t.match(jsonOut(result), { ok: false, error: { code: 'invalid_arguments' } });
});

t.test('a refused sandbox without a policy says so and prints the policy that grants it', async (t) => {
  const result = await runCli(['call', exampleManifest('notes'), 'list_notes']);
  expectExit(t, result, 1);
  t.match(result.stderr, /error \[sandbox_exceeds_grants\]: tool "write_note".*tools\.write_note\.sandbox\.filesystem\.write\.0/);
  t.match(result.stderr, /no policy was given; only provide-tools is granted by default/);
  t.match(result.stderr, /--policy FILE/);
  const snippet = result.stderr.split('\n').find((line) => line.trim().startsWith('{'))!;
  const data = realpathSync(path.join(path.dirname(exampleManifest('notes')), 'data'));
  t.same(JSON.parse(snippet), { plugins: { notes: { 'access-filesystem': { read: [data], write: [data] } } } });

  // The snippet is a policy that works as it stands.
  const dir = t.testdir({});
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, snippet);
  const granted = await runCli(['call', exampleManifest('notes'), 'list_notes', '--policy', policy, '--json']);
  expectExit(t, granted, 0);
});

t.test('a refused sandbox under a policy names the policy file and the entry to add', async (t) => {
  const dir = t.testdir({});
  const policy = path.join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ plugins: {} }));
  const result = await runCli(['call', exampleManifest('notes'), 'list_notes', '--policy', policy]);
  expectExit(t, result, 1);
  t.match(result.stderr, `the policy (${policy}) does not grant it`);
  t.match(result.stderr, `add this entry to ${policy}:`);
  t.match(result.stderr, /"plugins":\{"notes":\{"access-filesystem"/);
});

t.test('--timeout reports the deadline asked for, not the time left after loading', async (t) => {
  const result = await runCli(['call', fixturePath('lifecycle', 'manifest.json'), 'sleep', '--args', '{"ms":60000}', '--timeout', '1000', '--json']);
  expectExit(t, result, 1);
  t.match(jsonOut(result), { ok: false, error: { code: 'timeout', message: /sleep did not finish within 1000 ms/ } });
});
