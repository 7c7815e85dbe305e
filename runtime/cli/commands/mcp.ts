import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createRuntime, type Runtime } from '../../index.ts';
import { loadMcpPlugins, type McpBridge, type RefusedLoad, serveMcp } from '../../mcp/index.ts';
import { closeOnSignal } from '../close-on-signal.ts';
import { formatError } from '../format-error.ts';
import { grantAdviceLines } from '../grant-advice-lines.ts';
import { printHelp } from '../help.ts';
import { RUNTIME_FLAGS, runtimeOptions } from '../runtime-options.ts';
import { parseCommandArgs, UsageError } from '../usage-error.ts';

const say = (line: string) => process.stderr.write(`manasvi-plugins mcp: ${line}\n`);

/** stdout is the MCP channel: anything a library prints with console.log goes to stderr instead. */
function keepStdoutForMcp(): void {
  const toStderr = (...args: unknown[]) => console.error(...args);
  console.log = toStderr;
  console.info = toStderr;
  console.debug = toStderr;
}

function refusalNotice({ manifestPath, error }: RefusedLoad): string {
  return [`${manifestPath} was not loaded, so its tools are not served: ${formatError(error).trimEnd()}`, ...grantAdviceLines(error)].join('\n');
}

/**
 * `mcp <manifest>...`: the granted tools of the listed plugins as one MCP server on
 * stdin/stdout, until the client closes stdin or SIGINT/SIGTERM. Exit 0 when the session
 * ends, 1 when it could not start (every plugin refused, a name collision), 2 usage.
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: { ...RUNTIME_FLAGS, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) return printHelp('mcp');
  if (positionals.length === 0) throw new UsageError('missing <manifest>: name at least one plugin to serve');
  keepStdoutForMcp();
  const options = runtimeOptions(values);

  let runtime: Runtime | undefined;
  let bridge: McpBridge | undefined;
  const stopOnSignal = closeOnSignal(async () => (bridge ? bridge.close() : runtime?.close()));
  try {
    runtime = createRuntime(options);
    const { plugins, refused } = await loadMcpPlugins(runtime, positionals);
    const notices = refused.map(refusalNotice);
    for (const notice of notices) say(notice);
    if (plugins.length === 0) {
      // A server with no tools looks healthy to a client; failing at start is what its logs show.
      say('nothing to serve: every plugin listed was refused');
      return 1;
    }
    bridge = await serveMcp(runtime, plugins, new StdioServerTransport(), { notices });
    for (const { name, why } of bridge.skipped) say(`${name} is not served: ${why}`);
    for (const { name, note } of bridge.notes) say(`${name}: ${note}`);
    const layers = Object.entries(runtime.layers).filter(([, on]) => on).map(([layer]) => layer);
    say(`serving ${bridge.tools.size} tool(s) from ${plugins.length} plugin(s) over stdio: ${[...bridge.tools.keys()].join(', ') || 'none'}`);
    say(`enforcement layers active: ${layers.join(', ')}`);
    // The SDK's stdio transport does not notice the client going away: stdin's end, or a
    // broken stdout, ends the session.
    const end = () => void bridge?.close();
    process.stdin.once('end', end);
    process.stdin.once('close', end);
    process.stdout.once('error', end);
    await bridge.closed;
    return 0;
  } catch (error) {
    process.stderr.write(`${[formatError(error).trimEnd(), ...grantAdviceLines(error)].join('\n')}\n`);
    return 1;
  } finally {
    await runtime?.close();
    stopOnSignal();
  }
}
