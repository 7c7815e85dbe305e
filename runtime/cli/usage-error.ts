import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake in how the CLI was invoked (exit code 2), as opposed to a failed operation (1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `util.parseArgs` (strict by default), with its errors turned into {@link UsageError}s. */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    if (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS')) {
      throw new UsageError((error as Error).message);
    }
    throw error;
  }
}

/** Exactly `count` positionals, named for the error message. */
export function expectPositionals(positionals: string[], names: readonly string[]): string[] {
  if (positionals.length < names.length) throw new UsageError(`missing <${names[positionals.length]}>`);
  if (positionals.length > names.length) throw new UsageError(`unexpected argument "${positionals[names.length]}"`);
  return positionals;
}
