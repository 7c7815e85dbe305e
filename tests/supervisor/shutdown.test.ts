import t from 'tap';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { denoPidOf, onlyPid, processExists, waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };

t.test('a plugin that ignores SIGTERM is still stopped by close(): shutdown, ack, exit', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const first = (await plugin.call('ignore_sigterm', {}, CALL)) as { process: string };
  const pid = await onlyPid(plugin, 'ignore_sigterm');
  // To Deno itself: in the sandbox it is the launcher's grandchild.
  process.kill(await denoPidOf(pid), 'SIGTERM');
  await waitFor('the plugin to log the ignored SIGTERM', () => h.logs.some((l) => l.line.includes('SIGTERM ignored')));
  const again = (await plugin.call('ignore_sigterm', {}, CALL)) as { process: string };
  t.equal(again.process, first.process, 'SIGTERM really is ignored: the same process still answers');
  await neighbourAnswers(t, h);
  const echoPids = (await h.neighbour()).pids('echo');

  await h.runtime.close();
  t.notOk(processExists(pid), 'the SIGTERM-ignoring process is gone once close() resolves');
  t.ok(echoPids.every((p) => !processExists(p)), 'and so is the neighbour');
  t.ok(h.audit.records.some((r) => r.type === 'shutdown' && r.tool === 'ignore_sigterm'), 'shutdown was sent');
  t.notOk(h.audit.records.some((r) => r.type === 'kill' && r.tool === 'ignore_sigterm'), 'the SDK acked shutdown: no kill was needed');
  t.ok(h.states.some((e) => e.tool === 'ignore_sigterm' && e.state === 'stopped'));
  await t.rejects(plugin.call('ok', {}, CALL), { code: 'shutting_down' }, 'calls after close are refused');
  await t.rejects(h.runtime.load(misbehaveManifest('misbehave')), { code: 'runtime_closed' });
});

t.test('a plugin that ignores SIGTERM and blocks its event loop is killed after the shutdown grace', async (t) => {
  const h = testRuntime(t, { config: { shutdown: { graceMs: 1000 }, heartbeat: { intervalMs: 600_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  await plugin.call('ignore_sigterm', {}, CALL);
  const pid = await onlyPid(plugin, 'ignore_sigterm');
  const blocked = outcome(plugin.call('ignore_sigterm', { blockMs: 120_000 }, CALL));
  await h.waitForState('ignore_sigterm', 'busy', 0);
  process.kill(pid, 'SIGTERM');
  await neighbourAnswers(t, h);

  await h.runtime.close();
  t.match(await blocked, { ok: false, code: 'shutting_down' }, 'the in-flight call ends with shutting_down');
  await waitForProcessGone([pid]);
  matchOne(
    t,
    h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'ignore_sigterm'),
    { signal: 'SIGKILL', reason: /shutdown grace/ },
    'no ack within the grace period: SIGKILL',
  );
});

t.test('close() during a restart backoff ends at once: the waiting call ends with shutting_down', async (t) => {
  // A backoff far longer than any deadline here: close() must not wait it out.
  const h = testRuntime(t, { config: { restart: { initialBackoffMs: 600_000, maxBackoffMs: 600_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  await t.rejects(plugin.call('crash', { exit: true }, CALL), { code: 'plugin_crashed' });
  const waiting = outcome(plugin.call('crash', {}, CALL));
  await h.waitForState('crash', 'restarting');
  await neighbourAnswers(t, h);
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    h.runtime.close().then(() => 'closed'),
    new Promise((resolve) => (timer = setTimeout(() => resolve('still closing'), GENEROUS_MS))),
  ]);
  clearTimeout(timer);
  t.equal(closed, 'closed', 'close() resolved');
  t.match(await waiting, { ok: false, code: 'shutting_down' });
  t.equal(h.audit.records.filter((r) => r.type === 'launch' && r.tool === 'crash').length, 1, 'the replacement never launched');
});
