import { isPluginRuntimeError } from '../index.ts';
import { formatError } from './format-error.ts';
import { type CommandName, HELP } from './help.ts';
import { UsageError } from './usage-error.ts';

/** A subcommand module: parses its own arguments and returns the exit status. */
export interface Command {
  run(args: string[]): Promise<number>;
}

// Loaded on demand, so `validate` never pays for the demo's servers and so on.
const COMMANDS: Record<CommandName, () => Promise<Command>> = {
  call: () => import('./commands/call.ts'),
  validate: () => import('./commands/validate.ts'),
  inspect: () => import('./commands/inspect.ts'),
  init: () => import('./commands/init.ts'),
  mcp: () => import('./commands/mcp.ts'),
  demo: () => import('./commands/demo.ts'),
  doctor: () => import('./commands/doctor.ts'),
};

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/**
 * Runs the CLI and returns its exit status: 0 success, 1 a failed operation, 2 a usage error.
 * With `--json`, a usage error is also printed as `{"ok":false,"error":{"code":"usage_error",…}}`
 * so a caller parsing stdout always gets JSON.
 */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(HELP.main);
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP.main);
    return 0;
  }
  if (!isCommand(name)) {
    process.stderr.write(`manasvi-plugins: unknown command "${name}"\n\n${HELP.main}`);
    return 2;
  }
  const command = await COMMANDS[name]();
  try {
    return await command.run(rest);
  } catch (error) {
    if (isPluginRuntimeError(error)) {
      // e.g. deno_not_found or config_invalid before any plugin is involved.
      process.stderr.write(formatError(error));
      return 1;
    }
    if (!(error instanceof UsageError)) throw error;
    if (rest.includes('--json')) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'usage_error', message: error.message } })}\n`);
    }
    process.stderr.write(`manasvi-plugins ${name}: ${error.message}\nRun "manasvi-plugins ${name} --help" for usage.\n`);
    return 2;
  }
}
