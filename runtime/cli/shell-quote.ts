const SAFE = /^[A-Za-z0-9_./=,:@%+-]+$/;

/** One argument as a POSIX shell would need it: unchanged when safe, else single-quoted. */
export function shellQuote(arg: string): string {
  if (SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** An argv as one copy-pasteable line that means exactly these arguments. */
export function shellLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * An argv as a copy-pasteable shell command wrapped for reading: the program on the first
 * line, then one argument per line, each line but the last ending in ` \`.
 */
export function shellLines(argv: readonly string[], indent = ''): string[] {
  return argv.map((arg, i) => `${indent}${i === 0 ? '' : '  '}${shellQuote(arg)}${i < argv.length - 1 ? ' \\' : ''}`);
}
