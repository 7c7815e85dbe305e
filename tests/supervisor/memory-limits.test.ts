import t from 'tap';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };

t.test('a tool that allocates past the heap limit fails with resource_exhausted naming the heap', async (t) => {
  const h = testRuntime(t, { policy: { plugins: { 'heap-hog': { limits: { heapMb: 48 } } } } });
  const plugin = await h.load(misbehaveManifest('heap-hog'));
  t.ok(
    plugin.tools.every((tool) => tool.argv.includes('--v8-flags=--max-old-space-size=48')),
    "the policy's heap limit reaches Deno's argv",
  );
  const result = await outcome(plugin.call('heap_hog', {}, CALL));
  t.match(result, { ok: false, code: 'resource_exhausted', details: { limit: 'heap' } });
  const pid = h.audit.records.find((r) => r.type === 'launch' && r.tool === 'heap_hog')?.pid as number;
  await waitForProcessGone([pid]);
  t.ok(await plugin.call('ok', {}, CALL), "the plugin's other tool still answers");
  await neighbourAnswers(t, h);
});

t.test('a tool that fills ArrayBuffers past the RSS limit is killed by the host with resource_exhausted naming rss', async (t) => {
  const h = testRuntime(t, {
    config: { limits: { rssCheckIntervalMs: 100 } },
    policy: { plugins: { 'buffer-hog': { limits: { rssMb: 200, heapMb: 64 } } } },
  });
  const plugin = await h.load(misbehaveManifest('buffer-hog'));
  // Far past both limits if nothing stops it: the heap flag does not count ArrayBuffers.
  const result = await outcome(plugin.call('buffer_hog', { maxMb: 2048, stepMb: 16 }, CALL));
  t.match(result, { ok: false, code: 'resource_exhausted', details: { limit: 'rss', limitMb: 200 } });
  if (!result.ok) t.ok((result.details.rssMb as number) > 200, `seen at ${result.details.rssMb} MB`);
  matchOne(t, h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'buffer_hog'), { reason: 'rss limit', signal: 'SIGKILL' });
  const pid = h.audit.records.find((r) => r.type === 'launch' && r.tool === 'buffer_hog')?.pid as number;
  await waitForProcessGone([pid]);
  t.ok(await plugin.call('ok', {}, CALL), "the plugin's other tool still answers");
  await neighbourAnswers(t, h);
});
