/**
 * The `manasvi-plugins` command. Run through tsx (`npm start`, the bin shim); all the work
 * is in {@link runCli}.
 */
import { runCli } from './run-cli.ts';

// A reader that went away (`manasvi-plugins demo | head`) is a SIGPIPE in spirit: stop the
// way SIGTERM stops a command (its plugin processes closed first), not with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.kill(process.pid, 'SIGTERM');
});

let status: number;
try {
  status = await runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`manasvi-plugins: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  status = 1;
}
process.exitCode = status;
// Every command closes what it opened; should anything still hold the event loop, do not hang.
setTimeout(() => process.exit(status), 2000).unref();
