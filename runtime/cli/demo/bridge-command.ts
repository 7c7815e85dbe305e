import { existsSync } from 'node:fs';
import { packagePath } from '../../package-root.ts';

/** How to start `manasvi-plugins mcp` as a child process, or why it cannot be started. */
export type BridgeCommand = { command: string; args: string[]; missing?: undefined } | { missing: string };

/** Compiled, this module is a chunk in dist/; from source (npm start, under tsx) it is this .ts file. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** A debugger flag would make the child fight this process for the inspector's port. */
const isDebuggerFlag = (flag: string) => /^--(inspect|debug)/.test(flag);

/**
 * This same CLI's `mcp` command under this Node, so the bridge is the very code the demo
 * runs. Compiled (the bin, an installed package): dist/cli.js, the file the bin runs.
 * From source (`npm start`): runtime/cli/main.ts with this process's own loader flags
 * (`process.execArgv`: tsx's hooks), never a dist/ that may be stale or not built yet.
 */
export function bridgeCommand(mcpArgs: readonly string[]): BridgeCommand {
  const entry = RUNNING_FROM_SOURCE ? packagePath('runtime', 'cli', 'main.ts') : packagePath('dist', 'cli.js');
  if (!existsSync(entry)) return { missing: `${entry} is missing: the bridge is this CLI's own entry point` };
  const loader = RUNNING_FROM_SOURCE ? process.execArgv.filter((flag) => !isDebuggerFlag(flag)) : [];
  return { command: process.execPath, args: [...loader, entry, 'mcp', ...mcpArgs] };
}
