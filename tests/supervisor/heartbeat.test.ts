import t from 'tap';
import { startWatches } from '../../runtime/supervisor/process-watches.ts';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest, supervisorFixturePath } from '../helpers/fixtures.ts';
import { onlyPid, waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome, waitFor } from '../helpers/wait-for.ts';

t.test('a process that stops answering pings is marked unresponsive, killed, and its call fails with plugin_crashed', async (t) => {
  const h = testRuntime(t, { config: { heartbeat: { intervalMs: 200, missedLimit: 2 }, calls: { maxTimeoutMs: 300_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  // The call's own deadline is far away: only the heartbeat can end this.
  const call = outcome(plugin.call('block', { ms: 120_000 }, { timeoutMs: 240_000 }));
  const pid = await onlyPid(plugin, 'block');
  t.match(await call, { ok: false, code: 'plugin_crashed', details: { reason: 'unresponsive' } });
  matchOne(t, h.states.filter((e) => e.tool === 'block' && e.state === 'unresponsive'), { reason: /pings unanswered/ });
  matchOne(t, h.audit.records.filter((r) => r.type === 'state' && r.tool === 'block' && r.state === 'unresponsive'), {}, 'audited');
  matchOne(t, h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'block'), { reason: 'unresponsive', signal: 'SIGKILL' });
  await waitForProcessGone([pid]);

  const next = (await plugin.call('block', { ms: 1 }, { timeoutMs: GENEROUS_MS })) as { turns: number };
  t.type(next.turns, 'number', 'the next call is served by a fresh process');
  t.not(plugin.pids('block')[0], pid);
  await neighbourAnswers(t, h);
});

t.test('a process busy with awaiting calls keeps answering pings and is never marked unresponsive', async (t) => {
  const h = testRuntime(t, { config: { heartbeat: { intervalMs: 300, missedLimit: 8 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  // Calls that await for several heartbeat intervals.
  const results = await Promise.all([1, 2, 3].map(() => plugin.call('slow', { ms: 4000 }, { timeoutMs: GENEROUS_MS })));
  t.equal(new Set(results.map((r) => (r as { process: string }).process)).size, 1, 'one process served them all');
  t.notOk(h.states.some((e) => e.state === 'unresponsive'));
  t.notOk(h.audit.records.some((r) => r.type === 'kill'));
  await neighbourAnswers(t, h);
});

t.test('a process that never reads its stdin cannot stay alive by sending guessed pongs', async (t) => {
  const h = testRuntime(t, { config: { heartbeat: { intervalMs: 200, missedLimit: 3 } } });
  const plugin = await h.load(supervisorFixturePath('unread-stdin/manifest.json'));
  // Four guesses every 50 ms (seqs counting up, and huge ones) for up to an hour of rounds.
  const call = outcome(plugin.call('fake-pongs', { everyMs: 50, rounds: 72_000 }, { timeoutMs: 240_000 }));
  t.match(await call, { ok: false, code: 'plugin_crashed', details: { reason: 'unresponsive' } }, 'killed for missed pings all the same');
  t.ok(h.logs.some((line) => line.line.includes('faking pongs')), 'control: the plugin really was sending its guesses');
  matchOne(t, h.audit.records.filter((r) => r.type === 'kill' && r.tool === 'fake-pongs'), { reason: 'unresponsive', signal: 'SIGKILL' });
});

t.test('startWatches counts only a pong that echoes the outstanding ping', async (t) => {
  const sent: number[] = [];
  let unresponsive = 0;
  const watches = startWatches({
    rssPid: () => null,
    heartbeatIntervalMs: 20,
    missedLimit: 3,
    rssCheckIntervalMs: 60_000,
    rssMb: 1024,
    ping: (seq) => sent.push(seq),
    onUnresponsive: () => unresponsive++,
    onRssExceeded: () => {},
  });
  t.teardown(() => watches.stop());
  // Answer the first three pings correctly: never unresponsive meanwhile.
  for (let answered = 0; answered < 3; answered++) {
    await waitFor('a ping', () => sent.length > answered);
    watches.pong(sent[answered]!);
  }
  t.equal(unresponsive, 0, 'echoed pongs keep it alive');
  t.not(sent[1]! - sent[0]!, 1, 'seqs do not count up (they cannot be guessed)');
  // From now on only wrong pongs: a counting guess, and a huge one.
  const guesser = setInterval(() => {
    watches.pong((sent.at(-1) ?? 0) + 1);
    watches.pong(Number.MAX_SAFE_INTEGER);
  }, 5);
  t.teardown(() => clearInterval(guesser));
  await waitFor('the unresponsive report', () => unresponsive > 0);
  t.equal(unresponsive, 1, 'guessed pongs do not count');
});
