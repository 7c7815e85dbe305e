/**
 * `npm run bench`: the runtime against a raw Deno echo (the floor), side by side in one run.
 * Prints a table (or, with --json, one JSON document on stdout). It reports; it never fails
 * the build: the exit code is 0 unless the bench itself crashed.
 *
 * To add rows, write a section under scripts/bench/sections/ that returns BenchRows (a row
 * may have no floor, and an absolute target, as the fleet rows do), give its counts a place
 * in BenchPlan, and append it to SECTIONS. `--only <id>[,<id>]` runs just those sections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLaunchConfig } from '../runtime/index.ts';
import { checkDenoVersion, resolveDenoPath } from '../runtime/launch/deno-binary.ts';
import { type BenchContext, type BenchSection, defaultPlan } from './bench/bench-context.ts';
import { evaluateRow, type BenchRow } from './bench/bench-row.ts';
import { floorSide } from './bench/floor-side.ts';
import { formatTable } from './bench/report.ts';
import { runtimeSide } from './bench/runtime-side.ts';
import { callRttSection } from './bench/sections/call-rtt.ts';
import { coldStartSection } from './bench/sections/cold-start.ts';
import { idleRssSection } from './bench/sections/idle-rss.ts';
import { pipelinedSection } from './bench/sections/pipelined.ts';
import { fleetSection } from './bench/sections/fleet.ts';
import { cliSection } from './bench/sections/cli.ts';
import { mcpSection } from './bench/sections/mcp.ts';
import { osLayersSection } from './bench/sections/os-layers.ts';
import { egressSection } from './bench/sections/egress.ts';

// The fleet runs last: its hundred processes and their teardown would otherwise be the next section's background noise.
const SECTIONS: readonly BenchSection[] = [cliSection, coldStartSection, osLayersSection, egressSection, callRttSection, pipelinedSection, mcpSection, idleRssSection, fleetSection];
const SECTION_IDS = SECTIONS.map((section) => section.id);

// npm prints its own banner on stdout unless --silent, so machine readers use the second form.
const USAGE =
  'usage: npm run bench [-- --only <section>[,<section>…]] | npm run --silent bench -- --json [--only …]\n' +
  `sections: ${SECTION_IDS.join(', ')}`;

interface BenchArgs {
  json: boolean;
  sections: readonly BenchSection[];
}

/** Parses argv; a string is the usage error to print. */
function parseArgs(argv: readonly string[]): BenchArgs | string {
  let json = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) return '--only needs a section';
      only = [...(only ?? []), ...value.split(',').filter(Boolean)];
    } else return `unknown argument: ${arg}`;
  }
  if (only === null) return { json, sections: SECTIONS };
  const unknown = only.filter((id) => !SECTION_IDS.includes(id));
  if (unknown.length > 0) return `unknown section: ${unknown.join(', ')}`;
  return { json, sections: SECTIONS.filter((section) => only.includes(section.id)) };
}

/** Runtime calls have deadlines but floor calls do not: a wedged run ends here instead of hanging CI. */
const WATCHDOG_MS = 180_000;

async function main(argv: readonly string[]): Promise<void> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`${USAGE}\n${args}\n`);
    process.exitCode = 2;
    return;
  }
  const { json, sections } = args;
  const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

  // The same config object and the same binary for both sides, found the way the runtime finds it.
  const config = loadLaunchConfig();
  const denoPath = resolveDenoPath();
  const denoVersion = await checkDenoVersion(denoPath, config.deno.minVersion);
  const plan = defaultPlan(config);

  // Fresh caches for both sides, so neither inherits a warm Deno cache the other lacks.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'manasvi-bench-'));
  const runtime = runtimeSide({ denoPath, config, stateDir: path.join(scratch, 'runtime') });
  const floor = floorSide({ denoPath, config, denoDir: path.join(scratch, 'floor-deno-dir') });
  const context: BenchContext = { config, denoPath, scratchDir: scratch, plan, runtime, floor, progress };
  const rows: BenchRow[] = [];
  const loadAtStart = Math.round(os.loadavg()[0]! * 100) / 100;
  const started = performance.now();
  try {
    for (const section of sections) {
      progress(`${section.name}…`);
      rows.push(...(await section.run(context)));
    }
  } finally {
    await Promise.allSettled([runtime.close(), floor.close()]);
    rmSync(scratch, { recursive: true, force: true });
  }
  const evaluated = rows.map(evaluateRow);
  const environment = {
    node: process.version,
    deno: denoVersion,
    denoPath,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
    // Other work on the machine moves every number; the load says how much to trust a run.
    loadAverageAtStart: loadAtStart,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };

  if (json) {
    process.stdout.write(`${JSON.stringify({ environment, plan, rows: evaluated }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `Manasvi bench: runtime vs raw Deno echo (floor); Deno ${environment.deno}, Node ${environment.node}, ` +
      `${environment.cpus} × ${environment.cpuModel}, load ${environment.loadAverageAtStart} at start, ${environment.seconds} s\n\n` +
      `${formatTable(evaluated)}\n`,
  );
  const missed = evaluated.filter((row) => row.met === false);
  if (missed.length > 0) process.stdout.write(`\nTargets missed: ${missed.map((row) => row.id).join(', ')} (a benchmark reports; it does not fail).\n`);
}

setTimeout(() => {
  process.stderr.write(`bench crashed: no result within ${WATCHDOG_MS / 1000} s\n`);
  process.exit(1);
}, WATCHDOG_MS).unref();

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
