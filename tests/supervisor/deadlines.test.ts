import t from 'tap';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { onlyPid, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

t.test('a tool that loops forever times out, cannot read cancel, and is killed after the grace period', async (t) => {
  // Heartbeats far apart: this test is about the deadline and cancel path alone.
  const h = testRuntime(t, { config: { calls: { cancelGraceMs: 1000 }, heartbeat: { intervalMs: 600_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const call = outcome(plugin.call('spin', {}, { timeoutMs: 1500 }));
  const pid = await onlyPid(plugin, 'spin');
  t.match(await call, { ok: false, code: 'timeout' }, 'the call ends at its deadline');
  await waitForProcessGone([pid]);
  matchOne(
    t,
    h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'spin'),
    { reason: 'ignored cancel', signal: 'SIGKILL' },
    'killed because it did not finish the cancelled call',
  );
  await h.waitForState('spin', 'crashed');
  await neighbourAnswers(t, h);
  t.ok((await plugin.call('ok', {}, { timeoutMs: GENEROUS_MS })) !== undefined, "the plugin's other tools still answer");
});

t.test('a tool that ignores cancel but keeps answering pings is busy, not wedged, until the cancel grace kills it', async (t) => {
  const h = testRuntime(t, {
    // About ten pings during the grace period, with room for a loaded machine: five in a
    // row would have to go unanswered to call it wedged.
    config: { calls: { cancelGraceMs: 5000 }, heartbeat: { intervalMs: 500, missedLimit: 5 } },
  });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const call = outcome(plugin.call('ignore_cancel', {}, { timeoutMs: 1000 }));
  const pid = await onlyPid(plugin, 'ignore_cancel');
  t.match(await call, { ok: false, code: 'timeout' });
  t.ok(processExists(pid), 'still running right after the deadline: it gets the grace period');
  await waitForProcessGone([pid]);
  matchOne(t, h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'ignore_cancel'), { reason: 'ignored cancel' });
  t.notOk(
    h.states.some((e) => e.tool === 'ignore_cancel' && e.state === 'unresponsive'),
    'its event loop answered every ping: never marked unresponsive',
  );
  await neighbourAnswers(t, h);
});

t.test('a tool that honours cancel times out and its process lives on', async (t) => {
  const h = testRuntime(t, { config: { calls: { cancelGraceMs: 1000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const call = outcome(plugin.call('slow', { ms: 600_000 }, { timeoutMs: 1000 }));
  const pid = await onlyPid(plugin, 'slow');
  t.match(await call, { ok: false, code: 'timeout' });
  // Well past the grace period: the process finished the cancelled call, so it is not killed.
  await plugin.call('slow', { ms: 3000 }, { timeoutMs: GENEROUS_MS });
  t.same(plugin.pids('slow'), [pid], 'the same process serves the next call');
  t.notOk(h.audit.records.some((r) => r.type === 'kill'), 'nothing was killed');
  await neighbourAnswers(t, h);
});

t.test("aborting the caller's signal ends the call with cancelled", async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const controller = new AbortController();
  const call = outcome(plugin.call('slow', { ms: 600_000 }, { timeoutMs: GENEROUS_MS, signal: controller.signal }));
  await h.waitForState('slow', 'busy');
  controller.abort();
  t.match(await call, { ok: false, code: 'cancelled' });
  await h.waitForState('slow', 'idle');
  t.ok(await plugin.call('slow', { ms: 1 }, { timeoutMs: GENEROUS_MS }));
  await neighbourAnswers(t, h);
});

t.test('no call outlives the absolute cap, whatever deadline the caller asks for', async (t) => {
  const h = testRuntime(t, { config: { calls: { defaultTimeoutMs: 1000, maxTimeoutMs: 1500 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  t.match(await outcome(plugin.call('slow', { ms: 600_000 }, { timeoutMs: 600_000 })), { ok: false, code: 'timeout' });
  t.match(await outcome(plugin.call('slow', { ms: 600_000 })), { ok: false, code: 'timeout' }, 'the default deadline applies too');
  await neighbourAnswers(t, h);
});
