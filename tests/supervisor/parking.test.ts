import t from 'tap';
import { matchOne } from '../helpers/audit-log.ts';
import { misbehaveManifest } from '../helpers/fixtures.ts';
import { neighbourAnswers, testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, outcome } from '../helpers/wait-for.ts';

const CALL = { timeoutMs: GENEROUS_MS };

t.test('a crash-looping tool is restarted with backoff, then parked; reset() unparks it', async (t) => {
  const maxRestarts = 2;
  const h = testRuntime(t, { config: { restart: { initialBackoffMs: 20, maxRestarts, windowMs: 600_000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const codes: string[] = [];
  // Bounded: parking must come after maxRestarts + 1 crashes.
  for (let i = 0; i < 10 && codes.at(-1) !== 'plugin_parked'; i++) {
    const result = await outcome(plugin.call('crash', { exit: true }, CALL));
    codes.push(result.ok ? 'ok' : result.code);
  }
  t.same(codes, [...Array(maxRestarts + 1).fill('plugin_crashed'), 'plugin_parked'], 'crashes, then parked');
  t.equal(h.audit.records.filter((r) => r.type === 'launch' && r.tool === 'crash').length, maxRestarts + 1, 'no launch while parked');
  t.ok(h.states.some((e) => e.tool === 'crash' && e.state === 'restarting'), 'restarts were announced');
  matchOne(t, h.states.filter((e) => e.tool === 'crash' && e.state === 'parked'), { reason: /crashes/ }, 'parked once');
  t.ok(h.audit.records.some((r) => r.type === 'state' && r.state === 'parked'), 'parking is audited');

  await t.rejects(plugin.call('crash', { exit: false }, CALL), { code: 'plugin_parked' }, 'even a good call is refused while parked');
  t.ok(await plugin.call('ok', {}, CALL), "the plugin's other tools are not parked");
  await neighbourAnswers(t, h);

  plugin.reset('crash');
  t.ok(h.states.some((e) => e.tool === 'crash' && e.state === 'unparked'));
  const served = (await plugin.call('crash', { exit: false }, CALL)) as { pid: number };
  t.type(served.pid, 'number', 'after reset the next call starts a fresh process');
  t.equal(h.audit.records.filter((r) => r.type === 'launch' && r.tool === 'crash').length, maxRestarts + 2);
});

t.test('a parked tool starts again by itself once its crashes leave the window', async (t) => {
  const h = testRuntime(t, { config: { restart: { initialBackoffMs: 20, maxRestarts: 1, windowMs: 4000 } } });
  const plugin = await h.load(misbehaveManifest('misbehave'));
  const codes: string[] = [];
  for (let i = 0; i < 10 && codes.at(-1) !== 'plugin_parked'; i++) {
    const result = await outcome(plugin.call('crash', { exit: true }, CALL));
    codes.push(result.ok ? 'ok' : result.code);
  }
  t.equal(codes.at(-1), 'plugin_parked');
  const answer = await pollUntilServed(() => outcome(plugin.call('crash', { exit: false }, CALL)));
  t.type((answer as { pid: number }).pid, 'number', 'served once the window passed');
  t.ok(h.states.some((e) => e.tool === 'crash' && e.state === 'unparked'));
  await neighbourAnswers(t, h);
});

/** Retries a call refused with plugin_parked, every 250 ms, for up to a minute. */
async function pollUntilServed(call: () => ReturnType<typeof outcome>): Promise<unknown> {
  const deadline = Date.now() + GENEROUS_MS;
  for (;;) {
    const result = await call();
    if (result.ok) return result.value;
    if (result.code !== 'plugin_parked' || Date.now() > deadline) throw new Error(`call ended with ${result.code}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
