import t from 'tap';
import { functionSecretStore, loadLaunchConfig } from '../../runtime/index.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS, waitFor } from '../helpers/wait-for.ts';

// A tool granted a secret floods ctx.secret() against a store that is slow to answer: each
// request would wait host-side for the store, with no reply yet for the channel to bound.
const FLOOD = 200;
const SLOTS = loadLaunchConfig().limits.secretReadsInFlight;

const source = `${SDK_IMPORT}
definePlugin({
  tools: {
    flood: async ({ n }: { n: number }, ctx) => {
      const outcomes = await Promise.allSettled(Array.from({ length: n }, () => ctx.secret('API_KEY')));
      const codes: Record<string, number> = {};
      for (const outcome of outcomes) {
        const code = outcome.status === 'fulfilled' ? 'value' : String((outcome.reason as { code?: string }).code);
        codes[code] = (codes[code] ?? 0) + 1;
      }
      return codes;
    },
  },
});
`;

t.test('a granted tool flooding secret.get against a slow store holds at most its read slots waiting in the host', async (t) => {
  const waiting: Array<() => void> = [];
  let asked = 0;
  const store = functionSecretStore(() => {
    asked++;
    return new Promise<string>((resolve) => waiting.push(() => resolve('slow-value')));
  });
  const host = testRuntime(t, { secrets: store, policy: { plugins: { flooder: { 'access-secret': ['API_KEY'] } } } });
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'flooder',
    source,
    capabilities: { 'access-secret': ['API_KEY'] },
    tools: { flood: { sandbox: { secrets: ['API_KEY'] } } },
  });
  const plugin = await host.runtime.load(manifest);
  const call = plugin.call('flood', { n: FLOOD }, { timeoutMs: GENEROUS_MS });

  await waitFor('the store to be asked up to its slots', () => asked >= SLOTS);
  // Every request past the slots is refused at once, so they all reach the plugin before the store answers any.
  await waitFor('the refusals to be recorded', () => host.audit.records.filter((r) => r.type === 'capability_denied' && r['reason'] === 'overloaded').length > 0);
  t.equal(asked, SLOTS, `the store was asked ${SLOTS} times, not ${FLOOD}: the rest never waited in the host`);
  for (const release of waiting.splice(0)) release();
  const codes = (await call) as Record<string, number>;
  t.equal(codes['value'], SLOTS, 'control: the requests that got a slot received the value');
  t.equal(codes['overloaded'], FLOOD - SLOTS, 'every other request was answered overloaded');
});
