/** Packing the repository and running commands in a project that installed the tarball. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/fixtures.ts';

/** The environment of the test process minus what npm and tap set for their own children. */
export function packageEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => key !== 'NODE_OPTIONS' && !key.startsWith('npm_') && !key.startsWith('TAP') && !key.startsWith('_TAPJS'),
    ),
  );
}

/** Runs a command to completion and returns its stdout; throws (with stdout and stderr) on a non-zero exit. */
export function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = packageEnvironment()): string {
  return execFileSync(file, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/**
 * `npm pack` of the repository into `destination`, without running its scripts: `npm test`
 * has just built dist/, and the pack must ship exactly that build.
 */
export function packRepository(destination: string): { tarball: string; files: string[] } {
  if (!existsSync(path.join(REPO_ROOT, 'dist/index.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
  const report = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], REPO_ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const [packed] = report;
  if (!packed) throw new Error('npm pack reported nothing');
  return { tarball: path.join(destination, packed.filename), files: packed.files.map((file) => file.path) };
}

/** The first fenced block of `language` under the README heading `heading`. */
export function readmeBlock(heading: string, language: string): string {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith(heading));
  const block = section && new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'm').exec(section);
  if (!block) throw new Error(`README has no \`\`\`${language} block under "## ${heading}"`);
  return block[1]!;
}
