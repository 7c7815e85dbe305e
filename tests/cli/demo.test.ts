import { chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { expectExit, runCli } from './cli-process.ts';

/** The binary the deno npm package installed, found the way the package documents. */
function bundledDenoPath(): string {
  const require = createRequire(import.meta.url);
  return (require('deno/install_api.cjs') as { runInstall(): string }).runInstall();
}

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
  const realDeno = bundledDenoPath();
  const dir = t.testdir({
    'permissive-deno': [
      '#!/bin/sh',
      'for arg do',
      '  shift',
      '  case "$arg" in --allow-*|--deny-*) ;; *) set -- "$@" "$arg" ;; esac',
      'done',
      `if [ "$1" = run ]; then shift; exec "${realDeno}" run -A "$@"; fi`,
      `exec "${realDeno}" "$@"`,
      '',
    ].join('\n'),
  });
  const permissive = path.join(dir, 'permissive-deno');
  chmodSync(permissive, 0o755);

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
  t.match(result.stdout, /requests that reached .*ALLOWED!\s+NOT BLOCKED/);
  t.notMatch(result.stdout, /Everything behaved as expected/);
});
