import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';
import { CLI_BIN } from './cli-process.ts';

t.test('a reader that goes away (demo | head) stops the command as SIGTERM would, with no stack trace', async (t) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('TAP')));
  const demo = spawn(process.execPath, [CLI_BIN, 'demo'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  // Like `head -1`: read the first chunk, then close the pipe.
  demo.stdout.once('data', () => demo.stdout.destroy());
  const [code] = (await once(demo, 'exit')) as [number | null, string | null];
  t.equal(code, 130, 'the exit status of an interrupted command');
  t.notMatch(stderr, /EPIPE|Unhandled|at .*\.js:\d+/, 'no stack trace');
});
