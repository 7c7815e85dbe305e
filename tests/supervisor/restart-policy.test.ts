import t from 'tap';
import { loadLaunchConfig } from '../../runtime/index.ts';
import { type CrashHistory, EMPTY_HISTORY, recordCrash, restartDecision } from '../../runtime/supervisor/restart-policy.ts';

const restart = { initialBackoffMs: 100, maxBackoffMs: 1000, maxRestarts: 3, windowMs: 10_000, healthyUptimeMs: 5000 };
const T0 = 1_000_000;

function crashes(times: number[], uptimeMs = 0): CrashHistory {
  return times.reduce((history, at) => recordCrash(history, at, uptimeMs, restart), EMPTY_HISTORY);
}

t.test('with no crash history a process starts at once', async (t) => {
  t.same(restartDecision(EMPTY_HISTORY, T0, restart), { kind: 'start', notBefore: T0 });
});

t.test('restarts back off exponentially from the last crash, up to the cap', async (t) => {
  const delays = [1, 2, 3].map((n) => {
    const history = crashes(Array.from({ length: n }, (_, i) => T0 + i));
    const decision = restartDecision(history, history.lastCrashAt, restart);
    return decision.kind === 'start' ? decision.notBefore - history.lastCrashAt : -1;
  });
  t.same(delays, [100, 200, 400]);
  // Many crashes spread out so they never park: the backoff stops at maxBackoffMs.
  let history = EMPTY_HISTORY;
  for (let i = 0; i < 12; i++) history = recordCrash(history, T0 + i * restart.windowMs, 0, restart);
  t.equal(history.consecutive, 12);
  t.same(restartDecision(history, history.lastCrashAt, restart), { kind: 'start', notBefore: history.lastCrashAt + 1000 });
});

t.test('more than maxRestarts crashes inside the window park the tool until the oldest leaves the window', async (t) => {
  const atCap = crashes([T0, T0 + 1, T0 + 2]);
  t.equal(restartDecision(atCap, T0 + 3, restart).kind, 'start', 'maxRestarts crashes: still restarted');
  const over = crashes([T0, T0 + 1, T0 + 2, T0 + 3]);
  t.same(restartDecision(over, T0 + 4, restart), { kind: 'parked', until: T0 + restart.windowMs });
  t.equal(restartDecision(over, T0 + restart.windowMs - 1, restart).kind, 'parked', 'still parked just before');
  t.equal(restartDecision(over, T0 + restart.windowMs, restart).kind, 'start', 'free once the oldest crash leaves the window');
});

t.test('crashes older than the window are forgotten', async (t) => {
  const history = crashes([T0, T0 + 1, T0 + 2, T0 + 3 + restart.windowMs]);
  t.same(history.crashes, [T0 + 3 + restart.windowMs], 'only crashes inside the window are kept');
  t.equal(restartDecision(history, T0 + 4 + restart.windowMs, restart).kind, 'start');
});

t.test('the backoff resets only after a sustained healthy run', async (t) => {
  const crashLoop = crashes([T0, T0 + 1]);
  t.equal(crashLoop.consecutive, 2);
  const shortRun = recordCrash(crashLoop, T0 + 100, restart.healthyUptimeMs - 1, restart);
  t.equal(shortRun.consecutive, 3, 'a short run does not reset the backoff');
  const healthy = recordCrash(crashLoop, T0 + 100, restart.healthyUptimeMs, restart);
  t.equal(healthy.consecutive, 1, 'a healthy run resets it: this crash counts as the first');
  t.same(restartDecision(healthy, T0 + 100, restart), { kind: 'start', notBefore: T0 + 100 + restart.initialBackoffMs });
  t.equal(healthy.crashes.length, 3, 'but the crash still counts towards parking');
});

t.test('the functions are pure: the history passed in is not changed', async (t) => {
  const history = crashes([T0]);
  const copy = structuredClone(history);
  recordCrash(history, T0 + 5, 0, restart);
  restartDecision(history, T0 + 5, restart);
  t.same(history, copy);
});

t.test("deno-launch.json's restart numbers park a crash loop, not a few crashes", async (t) => {
  const config = loadLaunchConfig().restart;
  let history = EMPTY_HISTORY;
  for (let i = 0; i < config.maxRestarts; i++) history = recordCrash(history, T0 + i, 0, config);
  t.equal(restartDecision(history, T0 + config.maxRestarts, config).kind, 'start');
  history = recordCrash(history, T0 + config.maxRestarts, 0, config);
  t.equal(restartDecision(history, T0 + config.maxRestarts + 1, config).kind, 'parked');
});
