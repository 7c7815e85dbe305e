import os from 'node:os';
import { loadLaunchConfig } from '../../config/launch-config.ts';
import { resolveDenoPath } from '../../launch/deno-binary.ts';
import { LAYER_NAMES, type LayerName } from '../../layer-names.ts';
import { findExecutable } from '../../launch/find-executable.ts';
import { detectOsLayers, type OsLayers } from '../../launch/os-limits.ts';
import { type HostDeathResult, probeHostDeath } from '../doctor/host-death-probe.ts';
import { type LayerReport, layerReports } from '../doctor/layer-report.ts';
import { createProbeWorkspace } from '../doctor/probe-workspace.ts';
import { type RoundName, type RoundResult, ROUNDS, runRound } from '../doctor/run-probes.ts';
import { printHelp } from '../help.ts';
import { parseCommandArgs, UsageError } from '../usage-error.ts';

function parseRequired(list: string | undefined): LayerName[] {
  if (list === undefined) return [];
  const names = list.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(LAYER_NAMES as readonly string[]).includes(name)) throw new UsageError(`--require: unknown layer "${name}" (one of ${LAYER_NAMES.join(', ')})`);
  }
  return names as LayerName[];
}

/** What was found on the host, in words. */
function found(layers: OsLayers): string[] {
  const tool = (name: string, at: string | null) => `${name} ${at ?? 'not found'}`;
  const sandbox = layers.sandbox.available
    ? `sandbox launcher via ${layers.sandbox.perl} (${layers.sandbox.arch}, ${layers.sandbox.libraries.length} libraries beside Deno)`
    : `sandbox unavailable: ${layers.sandbox.reason}`;
  // bwrap is reported, not used: the launcher builds the same root with what every Debian has.
  const bwrap = findExecutable(['/usr/bin/bwrap', '/bin/bwrap']);
  return [tool('prlimit', layers.prlimit), tool('setpriv', layers.setpriv), tool('unshare', layers.unshare), sandbox, `bwrap ${bwrap ? `${bwrap} (not used)` : 'not found (not needed)'}`];
}

function printText(reports: LayerReport[], rounds: Record<RoundName, RoundResult>, layers: OsLayers, denoPath: string, missing: LayerName[]): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('manasvi-plugins doctor: each enforcement layer, proven on this host');
  out(`  host: ${process.platform} ${process.arch}, kernel ${os.release()}, uid ${process.getuid?.() ?? '?'}; Deno ${denoPath}`);
  out(`  found: ${found(layers).join('; ')}`);
  out();
  const width = Math.max(...reports.map((report) => report.layer.length));
  for (const report of reports) {
    out(`  ${report.layer.padEnd(width)}  ${report.status.toUpperCase().padEnd(11)}  ${report.evidence}`);
    if (report.reason && report.status !== 'active') out(`  ${' '.repeat(width)}  ${' '.repeat(11)}  why: ${report.reason}`);
    if (report.remedy) out(`  ${' '.repeat(width)}  ${' '.repeat(11)}  to enable: ${report.remedy}`);
  }
  out();
  const tally = (round: RoundName) => {
    const through = rounds[round].results.filter((result) => result.escaped).length;
    return `${through}/${rounds[round].results.length} got through`;
  };
  out(`  escapes tried: Deno's flags in force without namespaces, ${tally('deno')}; flags stripped under the OS layers, ${tally('os')};`);
  out(`  flags stripped without the namespaces, the gateway alone, ${tally('gateway')}; flags stripped without the namespaces or the gateway (the positive control), ${tally('control')}.`);
  if (missing.length > 0) out(`  REQUIRED but not active: ${missing.join(', ')}`);
}

/** `doctor [--json] [--require <layers>]`: proves every layer here; exit 1 when one failed or a required one is missing. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: false,
    options: {
      json: { type: 'boolean', default: false },
      require: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return printHelp('doctor');
  if (positionals.length > 0) throw new UsageError('doctor takes no arguments');
  const config = loadLaunchConfig();
  const required = [...new Set([...config.layers.require, ...parseRequired(values.require)])];
  const denoPath = resolveDenoPath();
  const layers = detectOsLayers(denoPath);
  const workspace = await createProbeWorkspace();
  const rounds = {} as Record<RoundName, RoundResult>;
  let death: HostDeathResult;
  try {
    for (const round of Object.keys(ROUNDS) as RoundName[]) rounds[round] = await runRound(workspace, round);
    death = await probeHostDeath(workspace);
  } finally {
    await workspace.close();
  }
  const reports = layerReports(layers, rounds, config.limits.cpuSeconds, death);
  const missing = required.filter((layer) => reports.find((report) => report.layer === layer)?.status !== 'active');
  const failed = reports.filter((report) => report.status === 'failed');
  const ok = failed.length === 0 && missing.length === 0;
  if (values.json) {
    const escapes = Object.fromEntries(
      Object.entries(rounds).map(([round, result]) => [round, result.results.map(({ escape, escaped }) => ({ escape: escape.name, layer: escape.layer, escaped }))]),
    );
    process.stdout.write(`${JSON.stringify({ ok, required, missing, layers: reports, found: found(layers), escapes })}\n`);
  } else {
    printText(reports, rounds, layers, denoPath, missing);
  }
  return ok ? 0 : 1;
}
