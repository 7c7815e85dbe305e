import t from 'tap';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { waitForProcessGone } from '../helpers/processes.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };

t.test('a healthy tool reports starting, ready, busy, idle and, on close, stopped; each is audited', async (t) => {
  const h = testRuntime(t);
  const plugin = await h.load(misbehaveManifest('misbehave'));
  await plugin.call('slow', { ms: 10 }, CALL);
  await plugin.call('slow', { ms: 10 }, CALL);
  await neighbourAnswers(t, h);
  await h.runtime.close();
  const states = h.states.filter((e) => e.tool === 'slow').map((e) => e.state);
  t.same(states, ['starting', 'ready', 'busy', 'idle', 'busy', 'idle', 'stopped'], 'in order, once per change');
  const launchIds = new Set(h.states.filter((e) => e.tool === 'slow').map((e) => e.launchId));
  t.equal(launchIds.size, 1, 'every event names the one launch');
  const audited = h.audit.records.filter((r) => r.type === 'state' && r.tool === 'slow');
  t.same(audited.map((r) => r.state), states, 'each state change is an audit record of type state');
  t.ok(audited.every((r) => r.plugin === 'misbehave' && r.launchId === [...launchIds][0]));
});

t.test('a crashing tool reports crashed, restarting and parked; each is audited', async (t) => {
  const h = testRuntime(t, { config: { restart: { initialBackoffMs: 20, maxRestarts: 1, windowMs: 600_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const codes: string[] = [];
  for (let i = 0; i < 5 && codes.at(-1) !== 'plugin_parked'; i++) {
    const result = await outcome(plugin.call('crash', { exit: true }, CALL));
    codes.push(result.ok ? 'ok' : result.code);
  }
  t.same(codes, ['plugin_crashed', 'plugin_crashed', 'plugin_parked']);
  const states = h.states.filter((e) => e.tool === 'crash').map((e) => e.state);
  t.same(
    states,
    ['starting', 'ready', 'busy', 'crashed', 'restarting', 'starting', 'ready', 'busy', 'crashed', 'parked'],
    'a crash, a restart after backoff, a crash, then parked',
  );
  const crashed = h.states.filter((e) => e.tool === 'crash' && e.state === 'crashed');
  t.same(crashed.map((e) => e.reason), ['plugin_crashed', 'plugin_crashed'], 'crashed says why');
  t.not(crashed[0]!.launchId, crashed[1]!.launchId, 'two launches crashed');
  t.same(
    h.audit.records.filter((r) => r.type === 'state' && r.tool === 'crash').map((r) => r.state),
    states,
    'each is audited',
  );
  plugin.reset('crash');
  t.equal(h.states.at(-1)?.state, 'unparked');
  t.ok(h.audit.records.some((r) => r.type === 'state' && r.state === 'unparked'));
  await neighbourAnswers(t, h);
});

t.test('a process idle past idleMs is stopped (stopped, audited) and the next call starts a new one', async (t) => {
  const h = testRuntime(t, { policy: { plugins: { misbehave: { limits: { idleMs: 300 } } } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const first = (await plugin.call('slow', { ms: 1 }, CALL)) as { process: string };
  const [firstPid] = plugin.pids('slow');
  const stopped = await h.waitForState('slow', 'stopped');
  t.match(stopped, { reason: 'shutting_down' });
  await waitForProcessGone([firstPid!]);
  t.ok(h.audit.records.some((r) => r.type === 'shutdown' && r.tool === 'slow' && r.reason === 'idle'), 'reaped as idle');
  t.ok(h.audit.records.some((r) => r.type === 'state' && r.tool === 'slow' && r.state === 'stopped'));
  const second = (await plugin.call('slow', { ms: 1 }, CALL)) as { process: string };
  t.not(second.process, first.process);
  t.notOk(h.states.some((e) => e.tool === 'slow' && (e.state === 'crashed' || e.state === 'restarting')), 'an idle stop is not a crash');
  await neighbourAnswers(t, h);
});
