/**
 * The `manasvi-plugins` command. Run through tsx (`npm start`, the bin shim); all the work
 * is in {@link runCli}.
 */
import { runCli } from './run-cli.ts';

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
