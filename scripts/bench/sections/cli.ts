import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from '../bench-row.ts';
import type { BenchContext, BenchSection } from '../bench-context.ts';
import { median, nowMs, summarise } from '../stats.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'manasvi-plugins.js');
const ECHO = path.join(REPO, 'manifests', 'examples', 'echo', 'manifest.json');

/** Wall time of one command run to completion, in ms. */
function timed(file: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const start = nowMs();
  execFileSync(file, args, { env, cwd, stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  return nowMs() - start;
}

/**
 * Whole commands, as a CI job or a shell runs them: the CLI's `call` against starting Node
 * and Deno on empty scripts, and importing the library against starting Node. Alternated
 * within each round; the first round warms the bundle and validator caches and is dropped.
 */
export const cliSection: BenchSection = {
  id: 'cli',
  name: 'CLI and import',
  async run(context: BenchContext): Promise<BenchRow[]> {
    const rounds = context.plan.cli.rounds;
    const dir = path.join(context.scratchDir, 'cli');
    mkdirSync(dir, { recursive: true });
    const emptyJs = path.join(dir, 'empty.mjs');
    writeFileSync(emptyJs, '');
    // The CLI's state folder (bundles, validators) lives under TMPDIR: a fresh one for this run.
    const env = { ...process.env, TMPDIR: dir, NODE_OPTIONS: '' };
    const deno = context.denoPath;
    const samples = { call: [] as number[], emptyPair: [] as number[], importLib: [] as number[], nodeEmpty: [] as number[] };
    for (let round = 0; round <= rounds; round++) {
      const steps: [keyof typeof samples, () => number][] = [
        ['call', () => timed(process.execPath, [BIN, 'call', ECHO, 'echo', '--args', '{"text":"hi"}'], env, dir)],
        ['emptyPair', () => timed(process.execPath, [emptyJs], env, dir) + timed(deno, ['run', '--no-prompt', emptyJs], { ...env, DENO_DIR: path.join(dir, 'deno') }, dir)],
        // By name, resolved through the package's own exports (self-reference from inside it).
        ['importLib', () => timed(process.execPath, ['--input-type=module', '-e', "await import('manasvi-plugins')"], env, REPO)],
        ['nodeEmpty', () => timed(process.execPath, ['-e', '0'], env, dir)],
      ];
      if (round % 2 === 1) steps.reverse();
      for (const [key, step] of steps) {
        const ms = step();
        if (round > 0) samples[key].push(ms);
      }
    }
    return [
      {
        id: 'cli_call_ms',
        metric: `CLI call of the echo example, median of ${rounds}`,
        unit: 'ms',
        digits: 0,
        runtime: median(samples.call),
        floor: median(samples.emptyPair),
        target: { kind: 'ratio', bound: 'max', value: 1.5 },
        detail: { runtime: summarise(samples.call), floor: summarise(samples.emptyPair) },
        includes:
          'runtime: `node bin/manasvi-plugins.js call echo.json echo --args …` to exit, bundle and validator caches warm: Node start, ' +
          'the CLI, createRuntime, load (manifest, grants, tree walk, caches), one tool process spawned, handshake, the call, shutdown. ' +
          'floor: `node empty.mjs` then `deno run empty.mjs`, back to back.',
      },
      {
        id: 'import_ms',
        metric: `import('manasvi-plugins'), median of ${rounds}`,
        unit: 'ms',
        digits: 0,
        runtime: median(samples.importLib),
        floor: median(samples.nodeEmpty),
        target: { kind: 'ratio', bound: 'max', value: 2 },
        detail: { runtime: summarise(samples.importLib), floor: summarise(samples.nodeEmpty) },
        includes: "runtime: `node -e \"await import('manasvi-plugins')\"` to exit; floor: `node -e 0`.",
      },
    ];
  },
};
