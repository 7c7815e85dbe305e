import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import t from 'tap';
import { REPO_ROOT, supervisorFixturePath } from '../helpers/fixtures.ts';
import { processExists, waitForProcessGone } from '../helpers/processes.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

t.test('a host killed with SIGKILL leaves no Deno process behind, busy or idle', async (t) => {
  const host = spawn(process.execPath, ['--import', 'tsx', supervisorFixturePath('host-script.ts')], {
    cwd: REPO_ROOT,
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
  t.ok(processExists(busy) && processExists(idle), `both plugin processes run (busy ${busy}, idle ${idle})`);

  host.kill('SIGKILL');
  await exited;
  // The idle one sees its stdin close; the busy one never reads stdin again and needs the
  // kernel's parent-death signal (setpriv --pdeathsig).
  await waitForProcessGone([idle]);
  t.pass('the idle plugin process exited');
  if (!dieWithHost) {
    t.pass('the busy plugin process', { skip: 'setpriv is not available: a plugin stuck in a synchronous loop outlives its host here' });
    if (processExists(busy)) process.kill(busy, 'SIGKILL');
    return;
  }
  await waitForProcessGone([busy]);
  t.pass('the busy plugin process exited');
});
