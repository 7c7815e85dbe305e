import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import t from 'tap';
import { FIXTURES, GENEROUS_MS, isAlive, REPO, waitGone } from './harness.ts';

t.test('a host killed with SIGKILL leaves no Deno process behind, busy or idle', async (t) => {
  const host = spawn(process.execPath, ['--import', 'tsx', path.join(FIXTURES, 'host-script.ts')], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  host.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => host.on('exit', () => resolve()));
  t.teardown(() => {
    if (host.exitCode === null && host.signalCode === null) host.kill('SIGKILL');
  });

  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the host printed no pids in time; stderr: ${stderr}`)), GENEROUS_MS);
    createInterface({ input: host.stdout }).once('line', (first) => {
      clearTimeout(timer);
      resolve(first);
    });
    host.once('exit', (code) => reject(new Error(`the host exited (${code}) before printing pids; stderr: ${stderr}`)));
  });
  const { busy, idle, dieWithHost } = JSON.parse(line) as { busy: number; idle: number; dieWithHost: boolean };
  t.ok(isAlive(busy) && isAlive(idle), `both plugin processes run (busy ${busy}, idle ${idle})`);

  host.kill('SIGKILL');
  await exited;
  // The idle one sees its stdin close; the busy one never reads stdin again and needs the
  // kernel's parent-death signal (setpriv --pdeathsig).
  await waitGone([idle]);
  t.pass('the idle plugin process exited');
  if (!dieWithHost) {
    t.pass('the busy plugin process', { skip: 'setpriv is not available: a plugin stuck in a synchronous loop outlives its host here' });
    if (isAlive(busy)) process.kill(busy, 'SIGKILL');
    return;
  }
  await waitGone([busy]);
  t.pass('the busy plugin process exited');
});
