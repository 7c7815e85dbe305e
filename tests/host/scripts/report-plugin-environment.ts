// Runs outside the test runner's process instrumentation (which rewrites every child's
// environment): loads echo, makes one call, and prints the tool process's real
// environment and argv as read from /proc.
import { readFileSync } from 'node:fs';
import { createRuntime } from '../../../runtime/index.ts';
import { ECHO_MANIFEST } from '../../helpers/fixtures.ts';

const entries = (pid: number, file: string) => readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0').filter(Boolean);
const runtime = createRuntime({ onLog: () => {} });
try {
  const echo = await runtime.load(ECHO_MANIFEST);
  await echo.call('echo', { text: 'x' });
  const [pid] = echo.pids('echo');
  process.stdout.write(JSON.stringify({ environ: entries(pid!, 'environ'), cmdline: entries(pid!, 'cmdline') }));
} finally {
  await runtime.close();
}
