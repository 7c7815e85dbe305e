import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { detectOsLayers } from '../../runtime/launch/os-limits.ts';
import { misbehaveManifest, stage } from '../helpers/fixtures.ts';
import { waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };
const NO_PRLIMIT = detectOsLayers().prlimit ? false : 'prlimit is not available on this host: no OS limit to test (deadlines still bound calls)';

t.test('a tool that burns CPU past the CPU-seconds limit fails with resource_exhausted naming cpu', { skip: NO_PRLIMIT }, async (t) => {
  const h = testRuntime(t, {
    // The busy loop blocks pings: keep the heartbeat out of the way so only the OS limit can act.
    config: { heartbeat: { intervalMs: 600_000 } },
    policy: { plugins: { 'cpu-burner': { limits: { cpuSeconds: 1 } } } },
  });
  t.ok(h.runtime.layers.osLimits, 'the runtime reports the OS limits layer');
  const plugin = await h.load(misbehaveManifest('cpu-burner'));
  const result = await outcome(plugin.call('burn_cpu', {}, CALL));
  t.match(result, { ok: false, code: 'resource_exhausted', details: { limit: 'cpu', signal: 'SIGXCPU' } });
  const pid = h.audit.records.find((r) => r.type === 'launch' && r.tool === 'burn_cpu')?.pid as number;
  await waitForProcessGone([pid]);
  t.ok(await plugin.call('ok', {}, CALL), "the plugin's other tool still answers");
  await neighbourAnswers(t, h);
});

t.test('a tool that writes past the file-size limit is stopped at the limit with resource_exhausted naming file_size', { skip: NO_PRLIMIT }, async (t) => {
  // A copy of the fixture folder, so the plugin writes into a scratch folder of this test.
  const dir = t.testdir();
  stage('supervisor/misbehave', dir);
  const out = path.join(dir, 'out');
  mkdirSync(out);
  const h = testRuntime(t, {
    // RLIMIT_FSIZE counts every file the process writes, Deno's own caches in DENO_DIR too:
    // a fresh state folder keeps those small, so the plugin's file is what meets the limit.
    stateDir: path.join(dir, 'state'),
    policy: { plugins: { 'big-writer': { 'access-filesystem': { write: [out] }, limits: { fileSizeMb: 1 } } } },
  });
  t.ok(h.runtime.layers.osLimits, 'the runtime reports the OS limits layer');
  const plugin = await h.load(path.join(dir, 'big-writer.json'));
  t.same(await plugin.call('write_big', { kb: 512, file: 'small.bin' }, CALL), { written: 512 * 1024 }, 'under the limit: written');

  const result = await outcome(plugin.call('write_big', { kb: 2048, file: 'big.bin' }, CALL));
  t.match(result, { ok: false, code: 'resource_exhausted', details: { limit: 'file_size', signal: 'SIGXFSZ' } });
  t.equal(statSync(path.join(out, 'big.bin')).size, 1024 * 1024, 'the file stops at exactly the limit');
  const pids = h.audit.records.filter((r) => r.type === 'launch' && r.tool === 'write_big').map((r) => r.pid as number);
  await waitForProcessGone(pids);
  t.ok(await plugin.call('ok', {}, CALL), "the plugin's other tool still answers");
  await neighbourAnswers(t, h);
});
