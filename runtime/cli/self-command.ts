import { existsSync } from 'node:fs';
import { packagePath } from '../package-root.ts';

/** How to start this CLI as a child process, or why it cannot be started. */
export type SelfCommand = { command: string; args: string[]; missing?: undefined } | { missing: string };

/** Compiled, this module is a chunk in dist/; from source (npm start, under tsx) it is this .ts file. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A debugger flag would make the child fight this process for the inspector's port. */
const isDebuggerFlag = (flag: string) => /^--(inspect|debug)/.test(flag);

/**
 * This same CLI under this Node (the demo's MCP bridge, doctor's host that dies), so the
 * child is the very code this process runs. Compiled (the bin, an installed package):
 * dist/cli.js, the file the bin runs. From source (`npm start`): runtime/cli/main.ts with
 * this process's own loader flags (`process.execArgv`: tsx's hooks), never a dist/ that
 * may be stale or not built yet.
 */
export function selfCommand(cliArgs: readonly string[]): SelfCommand {
  const entry = RUNNING_FROM_SOURCE ? packagePath('runtime', 'cli', 'main.ts') : packagePath('dist', 'cli.js');
  if (!existsSync(entry)) return { missing: `${entry} is missing: it is this CLI's own entry point` };
  const loader = RUNNING_FROM_SOURCE ? process.execArgv.filter((flag) => !isDebuggerFlag(flag)) : [];
  return { command: process.execPath, args: [...loader, entry, ...cliArgs] };
}
