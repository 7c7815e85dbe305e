import t from 'tap';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { writePermissiveDeno } from '../helpers/permissive-deno.ts';
import { expectExit, jsonOut, runCli } from './cli-process.ts';

interface DoctorReport {
  ok: boolean;
  required: string[];
  missing: string[];
  layers: { layer: string; status: string; reason?: string; evidence: string }[];
  escapes: Record<string, { escape: string; layer: string; escaped: boolean }[]>;
}

const sandbox = detectOsLayers().sandbox;
const statusOf = (report: DoctorReport, layer: string) => report.layers.find((entry) => entry.layer === layer)?.status;

t.test('doctor --json proves every layer on this host and exits 0', async (t) => {
  const result = await runCli(['doctor', '--json']);
  expectExit(t, result, 0);
  const report = jsonOut(result) as DoctorReport;
  t.equal(report.ok, true);
  t.same(
    report.layers.map((entry) => entry.layer),
    ['hostChecks', 'denoPermissions', 'osLimits', 'dieWithHost', 'networkNamespace', 'mountNamespace', 'egressGateway'],
  );
  t.equal(statusOf(report, 'denoPermissions'), 'active');
  const layers = detectOsLayers();
  if (layers.sandbox.available || layers.setpriv) {
    t.equal(statusOf(report, 'dieWithHost'), 'active', 'a busy tool dies with its host, killed with SIGKILL');
    t.match(report.layers.find((entry) => entry.layer === 'dieWithHost')?.evidence, /processes were gone \d+ ms later/);
  }
  t.ok(report.escapes['deno']!.every((entry) => !entry.escaped), "with Deno's flags in force nothing gets through");
  t.ok(report.escapes['control']!.every((entry) => entry.escaped), 'with every layer gone everything gets through: the probe can tell');
  if (sandbox.available) {
    t.equal(statusOf(report, 'mountNamespace'), 'active');
    t.ok(report.escapes['os']!.every((entry) => !entry.escaped), "with Deno's flags stripped the OS layers contain every escape");
  } else {
    t.equal(statusOf(report, 'mountNamespace'), 'unavailable', `unavailable here: ${sandbox.reason}`);
  }
});

t.test('doctor prints a line per layer with its status', async (t) => {
  const result = await runCli(['doctor']);
  expectExit(t, result, 0);
  for (const layer of ['hostChecks', 'denoPermissions', 'osLimits', 'dieWithHost', 'networkNamespace', 'mountNamespace']) {
    t.match(result.stdout, new RegExp(`^  ${layer}\\s+(ACTIVE|UNAVAILABLE)\\s`, 'm'), layer);
  }
  t.match(result.stdout, /the positive control\), (\d+)\/\1 got through/);
});

t.test('a Deno that ignores its permission flags fails doctor, and a required layer it cannot give is named', async (t) => {
  // A "deno" script dropping every permission flag: Deno's layer is gone, and a script
  // cannot run inside the sandbox, so only what needs no Deno flags is left.
  const permissive = writePermissiveDeno(t.testdir());
  const result = await runCli(['doctor', '--json', '--require', 'mountNamespace'], { env: { MANASVI_DENO: permissive } });
  expectExit(t, result, 1);
  const report = jsonOut(result) as DoctorReport;
  t.equal(report.ok, false);
  t.equal(statusOf(report, 'denoPermissions'), 'failed', "Deno's flags did not hold, and doctor says so");
  t.equal(statusOf(report, 'mountNamespace'), 'unavailable');
  t.match(report.layers.find((entry) => entry.layer === 'mountNamespace')?.reason, /not an ELF executable/);
  t.same(report.missing, ['mountNamespace'], 'the required layer is named as missing');
});

t.test('doctor refuses an unknown layer name and stray arguments as usage errors', async (t) => {
  const unknown = await runCli(['doctor', '--require', 'mountNamespaces']);
  expectExit(t, unknown, 2);
  t.match(unknown.stderr, /unknown layer "mountNamespaces"/);
  expectExit(t, await runCli(['doctor', 'extra']), 2);
});
