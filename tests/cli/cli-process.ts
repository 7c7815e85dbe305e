import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Test } from 'tap';
import { REPO_ROOT } from '../helpers/fixtures.ts';

const BIN = fileURLToPath(new URL('../../bin/manasvi-plugins.js', import.meta.url));

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The test runner's own hooks must not leak into the CLI under test. */
export function cleanEnvironment(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('TAP') || key.startsWith('_TAPJS')) delete env[key];
  }
  return env;
}

/** Path of the package's bin: it runs the compiled CLI in dist/ (`npm test` builds it first). */
export const CLI_BIN = BIN;

/**
 * Runs `manasvi-plugins <args>` as a real subprocess, through the package's bin, as users do
 * (`bin`: another copy's bin, such as a package installed under a node_modules folder).
 */
export async function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; bin?: string } = {},
): Promise<CliResult> {
  const result = await execa('node', [options.bin ?? BIN, ...args], {
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
