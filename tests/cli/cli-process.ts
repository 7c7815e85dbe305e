import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Test } from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';

const MAIN = fileURLToPath(new URL('../../runtime/cli/main.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/manasvi-plugins.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The test runner's own hooks must not leak into the CLI under test. */
function cleanEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('TAP') || key.startsWith('_TAPJS')) delete env[key];
  }
  return env;
}

/**
 * Runs `manasvi-plugins <args>` as a real subprocess: node + tsx, as `npm start` does, or
 * through the package's bin shim.
 */
export async function runCli(
  args: string[],
  options: { cwd?: string; viaBin?: boolean; env?: Record<string, string> } = {},
): Promise<CliResult> {
  const command = options.viaBin ? [BIN, ...args] : ['--import', 'tsx', MAIN, ...args];
  const result = await execa('node', command, {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...cleanEnvironment(), ...options.env },
    extendEnv: false,
    reject: false,
    timeout: 90_000,
    stdin: 'ignore',
    // Exact output is part of the contract: keep the final newline.
    stripFinalNewline: false,
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** stdout parsed as the one JSON document it must be. */
export function jsonOut(result: CliResult): unknown {
  return JSON.parse(result.stdout);
}

/** Asserts the exit status; on a mismatch the CLI's own output goes to the test log. */
export function expectExit(t: Test, result: CliResult, code: number): void {
  if (!t.equal(result.exitCode, code, `exits ${code}`)) {
    t.comment(`stdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}
