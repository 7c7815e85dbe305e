import { existsSync } from 'node:fs';
import { packagePath } from '../../package-root.ts';

/** How to start `manasvi-plugins mcp` as a child process, or why it cannot be started. */
export type BridgeCommand = { command: string; args: string[]; missing?: undefined } | { missing: string };

/**
 * The package's own bin under this Node, the way an MCP client configured with
 * `manasvi-plugins mcp` would start it. The bin runs the compiled CLI in dist/, which the
 * demo run from source (`npm start`) does not need: when it is missing, say so instead of
 * letting the bin's exit look like a failed session.
 */
export function bridgeCommand(mcpArgs: readonly string[]): BridgeCommand {
  const compiled = packagePath('dist', 'cli.js');
  if (!existsSync(compiled)) {
    return { missing: `${compiled} is missing: the bridge runs the compiled CLI; build it with \`npm run build\` (npm install and npm test do)` };
  }
  return { command: process.execPath, args: [packagePath('bin', 'manasvi-plugins.js'), 'mcp', ...mcpArgs] };
}
