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
