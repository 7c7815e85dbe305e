import { createRuntime, type Runtime } from '../../index.ts';
import { closeOnSignal } from '../close-on-signal.ts';
import { formatError, toWireError } from '../format-error.ts';
import { grantAdviceLines } from '../grant-advice-lines.ts';
import { printHelp } from '../help.ts';
import { RUNTIME_FLAGS, runtimeOptions } from '../runtime-options.ts';
import { expectPositionals, parseCommandArgs, UsageError } from '../usage-error.ts';

function parseJsonArgs(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--args is not valid JSON: ${(error as Error).message}`);
  }
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new UsageError(`--timeout must be a positive whole number of milliseconds, not "${text}"`);
  return Number(text);
}

function printValue(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
}

/** `call <manifest> <tool>`: one call, its result on stdout; exit 0 ok, 1 failed, 2 usage. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      args: { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...RUNTIME_FLAGS,
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('call');
  const [manifest, tool] = expectPositionals(positionals, ['manifest', 'tool']) as [string, string];
  const toolArgs = parseJsonArgs(values.args);
  const timeoutMs = parseTimeout(values.timeout);
  const options = runtimeOptions(values);

  let runtime: Runtime | undefined;
  const stopOnSignal = closeOnSignal(async () => runtime?.close());
  try {
    runtime = createRuntime(options);
    const plugin = await runtime.load(manifest);
    const value = await plugin.call(tool, toolArgs, timeoutMs === undefined ? {} : { timeoutMs });
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, value: value ?? null })}\n`);
    else printValue(value);
    return 0;
  } catch (error) {
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, error: toWireError(error) })}\n`);
    else process.stderr.write(`${[formatError(error).trimEnd(), ...grantAdviceLines(error)].join('\n')}\n`);
    return 1;
  } finally {
    await runtime?.close();
    stopOnSignal();
  }
}
