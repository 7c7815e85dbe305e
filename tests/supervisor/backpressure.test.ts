import t from 'tap';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const MB = 1024 * 1024;

t.test('1,000 concurrent calls against 16 slots and a small queue: every call ends, with a result or overloaded', async (t) => {
  const maxConcurrent = 16;
  const maxQueued = 32;
  const h = testRuntime(t, { policy: { plugins: { crowd: { limits: { maxConcurrent, maxQueued, maxProcesses: 1 } } } } });
  const plugin = await h.load(misbehaveManifest('crowd'));
  await plugin.call('ok', {}, { timeoutMs: GENEROUS_MS });
  // Warm, so the burst meets a ready process rather than one still starting.
  await plugin.call('slow', { ms: 1 }, { timeoutMs: GENEROUS_MS });

  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  t.teardown(() => clearInterval(sampler));
  const calls = Array.from({ length: 1000 }, () => outcome(plugin.call('slow', { ms: 100 }, { timeoutMs: GENEROUS_MS })));
  const outcomes = await Promise.all(calls);
  clearInterval(sampler);

  const served = outcomes.filter((o) => o.ok).length;
  const overloaded = outcomes.filter((o) => !o.ok && o.code === 'overloaded').length;
  const other = outcomes.filter((o) => !o.ok && o.code !== 'overloaded');
  t.comment(`served ${served}, overloaded ${overloaded}; host rss ${Math.round(rssBefore / MB)} MB → peak ${Math.round(peakRss / MB)} MB`);
  t.same(other, [], 'no call ended any other way');
  t.equal(served + overloaded, 1000, 'every call ended');
  t.equal(served, maxConcurrent + maxQueued, 'exactly the slots plus the queue were accepted');
  t.ok(overloaded > 0);
  t.ok(peakRss - rssBefore < 256 * MB, 'host memory stays bounded');
  t.equal(plugin.pids('slow').length, 1, 'maxProcesses 1: no scale-out');

  // The tool is not stuck: a call after the burst is served.
  t.ok(await plugin.call('slow', { ms: 1 }, { timeoutMs: GENEROUS_MS }));
  await neighbourAnswers(t, h);
});

t.test('a cold burst is bounded too: the queue covers the starting process, the rest is overloaded at once', async (t) => {
  const h = testRuntime(t, { policy: { plugins: { crowd: { limits: { maxConcurrent: 16, maxQueued: 8, maxProcesses: 1 } } } } });
  const plugin = await h.load(misbehaveManifest('crowd'));
  const outcomes = await Promise.all(
    Array.from({ length: 1000 }, () => outcome(plugin.call('slow', { ms: 50 }, { timeoutMs: GENEROUS_MS }))),
  );
  const served = outcomes.filter((o) => o.ok).length;
  const overloaded = outcomes.filter((o) => !o.ok && o.code === 'overloaded').length;
  t.comment(`cold: served ${served}, overloaded ${overloaded}`);
  t.equal(served + overloaded, 1000, 'every call ended with a result or overloaded');
  t.ok(served >= 16 && served <= 16 + 8 + 16, `accepted ${served}: the slots of the starting process plus the queue`);
  t.equal(h.audit.records.filter((r) => r.type === 'launch').length, 1, 'one process, however many calls');
  await neighbourAnswers(t, h);
});

t.test('scale-out: a tool allowed three processes spreads slow calls over more than one', async (t) => {
  const h = testRuntime(t, { policy: { plugins: { fleet: { limits: { maxProcesses: 3, maxConcurrent: 1, maxQueued: 16 } } } } });
  const plugin = await h.load(misbehaveManifest('fleet'));
  const results = (await Promise.all(
    Array.from({ length: 9 }, () => plugin.call('slow', { ms: 1000 }, { timeoutMs: GENEROUS_MS })),
  )) as { process: string }[];
  const pids = new Set(results.map((r) => r.process));
  t.comment(`served by ${pids.size} processes`);
  t.ok(pids.size > 1, 'more than one process served');
  t.ok(pids.size <= 3, 'never more than maxProcesses');
  t.equal(h.audit.records.filter((r) => r.type === 'launch').length, 3, 'queued calls started the other two processes');
  await neighbourAnswers(t, h);
});

t.test('a queued call still ends at its deadline, or when its signal aborts', async (t) => {
  const h = testRuntime(t, { policy: { plugins: { crowd: { limits: { maxConcurrent: 1, maxQueued: 4, maxProcesses: 1 } } } } });
  const plugin = await h.load(misbehaveManifest('crowd'));
  await plugin.call('slow', { ms: 1 }, { timeoutMs: GENEROUS_MS });
  const hog = outcome(plugin.call('slow', { ms: 600_000 }, { timeoutMs: GENEROUS_MS }));
  t.match(await outcome(plugin.call('slow', { ms: 1 }, { timeoutMs: 500 })), { ok: false, code: 'timeout' }, 'timed out in the queue');
  const controller = new AbortController();
  const queued = outcome(plugin.call('slow', { ms: 1 }, { timeoutMs: GENEROUS_MS, signal: controller.signal }));
  controller.abort();
  t.match(await queued, { ok: false, code: 'cancelled' }, 'cancelled in the queue');
  await neighbourAnswers(t, h);
  await h.runtime.close();
  t.match(await hog, { ok: false, code: 'shutting_down' });
});
