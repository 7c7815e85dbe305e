import fc from 'fast-check';
import t from 'tap';
import { ConnectionBudget, type EgressLimitName, type EgressLimits } from '../../runtime/egress/connection-budget.ts';

/** A budget over a process whose calls in flight the test sets, recording every `exhausted`. */
function budgetOf(limits: Partial<EgressLimits> = {}) {
  const state = { inFlight: 0, exhausted: [] as { limit: EgressLimitName; message: string }[] };
  const budget = new ConnectionBudget(
    { connectionsPerCall: 100, bytesPerCall: 1_000_000, concurrentConnections: 100, ...limits },
    { inFlight: () => state.inFlight, exhausted: (limit, message) => state.exhausted.push({ limit, message }) },
  );
  /** A call is sent: counted in flight first, as the supervisor does. */
  const start = () => {
    state.inFlight++;
    budget.callStarted();
  };
  const end = () => state.inFlight--;
  return { budget, state, start, end };
}

t.test('no connection is admitted while no call is in flight', async (t) => {
  const { budget, state, start, end } = budgetOf();
  t.match(budget.admit(), /no call in flight/);
  start();
  t.equal(budget.admit(), null);
  end();
  t.match(budget.admit(), /no call in flight/, 'nor after the call ended');
  t.same(state.exhausted, [], 'being idle is no limit passed');
});

t.test('connectionsPerCall: one more connection in the call is refused, naming the limit', async (t) => {
  const { budget, state, start } = budgetOf({ connectionsPerCall: 3 });
  start();
  for (let i = 0; i < 3; i++) {
    t.equal(budget.admit(), null, `connection ${i + 1}`);
    budget.closed();
  }
  t.equal(budget.admit(), 'more than 3 connections in one call');
  t.same(state.exhausted, [{ limit: 'egress_connections_per_call', message: 'more than 3 connections in one call' }]);
  t.equal(budget.admit(), 'more than 3 connections in one call', 'still refused');
});

t.test('concurrentConnections: one more open at once is refused; a closed one frees its place', async (t) => {
  const { budget, state, start } = budgetOf({ concurrentConnections: 2 });
  start();
  t.equal(budget.admit(), null);
  t.equal(budget.admit(), null);
  t.equal(budget.admit(), 'more than 2 connections open at once');
  t.same(state.exhausted.map((e) => e.limit), ['egress_concurrent_connections']);
  budget.closed();
  t.equal(budget.admit(), null, 'a place came free');
  budget.closed();
  budget.closed();
  budget.closed();
  budget.closed();
  t.equal(budget.admit(), null);
  t.equal(budget.admit(), null);
  t.equal(budget.admit(), 'more than 2 connections open at once', 'extra closes never make room beyond the limit');
});

t.test('bytesPerCall: moved is true up to the allowance and false past it, naming the limit', async (t) => {
  const { budget, state, start } = budgetOf({ bytesPerCall: 100 });
  start();
  t.equal(budget.admit(), null);
  t.equal(budget.moved(60), true);
  t.equal(budget.moved(40), true, 'exactly the allowance');
  t.same(state.exhausted, []);
  t.equal(budget.moved(1), false);
  t.same(state.exhausted, [{ limit: 'egress_bytes_per_call', message: 'more than 100 bytes through the gateway in one call' }]);
});

t.test('bytes count over every connection of the call', async (t) => {
  const { budget, state, start } = budgetOf({ bytesPerCall: 100 });
  start();
  budget.admit();
  budget.admit();
  t.equal(budget.moved(50), true);
  t.equal(budget.moved(50), true);
  t.equal(budget.moved(50), false);
  t.equal(state.exhausted.length, 1);
});

t.test('each concurrent call adds one call’s allowance', async (t) => {
  const { budget, state, start } = budgetOf({ connectionsPerCall: 2, bytesPerCall: 100 });
  start();
  start();
  for (let i = 0; i < 4; i++) t.equal(budget.admit(), null, `connection ${i + 1} of two calls' four`);
  t.match(budget.admit(), /more than 2 connections in one call/);
  t.equal(budget.moved(200), true, 'two calls move 200 bytes');
  t.equal(budget.moved(1), false);
  start();
  t.equal(budget.admit(), null, 'a third call joining the window adds two more connections');
  t.equal(budget.moved(99), true, 'and 100 more bytes (the refused one was counted too)');
  t.equal(budget.moved(1), false);
  t.same(state.exhausted.map((e) => e.limit), ['egress_connections_per_call', 'egress_bytes_per_call', 'egress_bytes_per_call']);
});

t.test('a call on an idle process opens a new window; one joining a busy process does not', async (t) => {
  const { budget, start, end } = budgetOf({ connectionsPerCall: 1, bytesPerCall: 10 });
  start();
  t.equal(budget.admit(), null);
  budget.closed();
  t.equal(budget.moved(10), true);
  t.not(budget.admit(), null, 'the first call used its connection');
  end();
  start();
  t.equal(budget.admit(), null, 'the next call, on an idle process, has its own connection');
  budget.closed();
  t.equal(budget.moved(10), true, 'and its own bytes');
  t.equal(budget.moved(1), false);
  start();
  t.equal(budget.admit(), null, 'a call joining adds its allowance to the window');
  t.not(budget.admit(), null);
  end();
  end();
  start();
  t.equal(budget.admit(), null, 'idle again: reset');
});

t.test('open connections stay counted across windows', async (t) => {
  const { budget, start, end } = budgetOf({ concurrentConnections: 1 });
  start();
  t.equal(budget.admit(), null);
  end();
  start();
  t.match(budget.admit(), /more than 1 connections open at once/, 'the connection of the last call is still open');
  budget.closed();
  t.equal(budget.admit(), null);
});

t.test('property: within one window, admitted connections never exceed either limit', async (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 5 }),
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.constantFrom('admit', 'close'), { maxLength: 60 }),
      (perCall, concurrent, calls, steps) => {
        const { budget, state, start } = budgetOf({ connectionsPerCall: perCall, concurrentConnections: concurrent });
        for (let i = 0; i < calls; i++) start();
        let open = 0;
        let admitted = 0;
        for (const step of steps) {
          if (step === 'close') {
            if (open > 0) {
              open--;
              budget.closed();
            }
            continue;
          }
          const refused = budget.admit();
          if (refused === null) {
            open++;
            admitted++;
          } else if (open < concurrent && admitted < perCall * calls) {
            return false; // refused with room left
          }
          if (open > concurrent || admitted > perCall * calls) return false;
        }
        return state.exhausted.every((e) => e.limit === 'egress_concurrent_connections' || e.limit === 'egress_connections_per_call');
      },
    ),
    { numRuns: 500 },
  );
  t.pass('no counterexample');
});
