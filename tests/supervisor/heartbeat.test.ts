import t from 'tap';
import { fixture, GENEROUS_MS, harness, matchOne, neighbourAnswers, onlyPid, outcome, waitGone } from './harness.ts';

t.test('a process that stops answering pings is marked unresponsive, killed, and its call fails with plugin_crashed', async (t) => {
  const h = harness(t, { config: { heartbeat: { intervalMs: 200, missedLimit: 2 }, calls: { maxTimeoutMs: 300_000 } } });
  const plugin = await h.load(fixture('misbehave'));
  // The call's own deadline is far away: only the heartbeat can end this.
  const call = outcome(plugin.call('block', { ms: 120_000 }, { timeoutMs: 240_000 }));
  const pid = await onlyPid(plugin, 'block');
  t.match(await call, { ok: false, code: 'plugin_crashed', details: { reason: 'unresponsive' } });
  matchOne(t, h.states.filter((e) => e.tool === 'block' && e.state === 'unresponsive'), { reason: /pings unanswered/ });
  matchOne(t, h.audit.filter((r) => r.type === 'state' && r.tool === 'block' && r.state === 'unresponsive'), {}, 'audited');
  matchOne(t, h.audit.filter((r) => r.type === 'kill' && r.tool === 'block'), { reason: 'unresponsive', signal: 'SIGKILL' });
  await waitGone([pid]);

  const next = (await plugin.call('block', { ms: 1 }, { timeoutMs: GENEROUS_MS })) as { turns: number };
  t.type(next.turns, 'number', 'the next call is served by a fresh process');
  t.not(plugin.pids('block')[0], pid);
  await neighbourAnswers(t, h);
});

t.test('a process busy with awaiting calls keeps answering pings and is never marked unresponsive', async (t) => {
  const h = harness(t, { config: { heartbeat: { intervalMs: 300, missedLimit: 8 } } });
  const plugin = await h.load(fixture('misbehave'));
  // Calls that await for several heartbeat intervals.
  const results = await Promise.all([1, 2, 3].map(() => plugin.call('slow', { ms: 4000 }, { timeoutMs: GENEROUS_MS })));
  t.equal(new Set(results.map((r) => (r as { pid: number }).pid)).size, 1, 'one process served them all');
  t.notOk(h.states.some((e) => e.state === 'unresponsive'));
  t.notOk(h.audit.some((r) => r.type === 'kill'));
  await neighbourAnswers(t, h);
});
