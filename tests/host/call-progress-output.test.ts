import t from 'tap';
import type { CallProgress } from '../../runtime/supervisor/call-ledger.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { rejection, waitFor } from '../helpers/wait-for.ts';

// One plugin whose tools report progress, return values for an output schema, write to
// stderr, and misuse ctx.progress: real Deno processes, through PluginHandle.call.
const SOURCE = `${SDK_IMPORT}
definePlugin({
  tools: {
    count: async ({ steps }, ctx) => {
      for (let i = 1; i <= steps; i++) {
        ctx.progress(i, steps, 'step ' + i);
        // Paced under the host's rate, so every report is forwarded.
        await new Promise((resolve) => setTimeout(resolve, 60));
      }
      return { counted: steps };
    },
    falling: (_args, ctx) => {
      ctx.progress(2);
      try {
        ctx.progress(1);
      } catch (error) {
        return { refused: error instanceof RangeError, message: error.message };
      }
      return { refused: false };
    },
    shaped: ({ good }) => (good ? { n: 1 } : { n: 'one' }),
    chatty: ({ text }) => {
      console.error('chatty says ' + text);
      return null;
    },
  },
});
`;

const host = testRuntime(t);
const dir = t.testdir({});
const manifestPath = writeInlinePlugin(dir, {
  name: 'progressive',
  source: SOURCE,
  tools: {
    count: { input: { type: 'object', properties: { steps: { type: 'integer', minimum: 1, maximum: 20 } }, required: ['steps'] } },
    falling: {},
    shaped: {
      input: { type: 'object', properties: { good: { type: 'boolean' } } },
      output: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
    },
    chatty: { input: { type: 'object', properties: { text: { type: 'string' } } } },
  },
});
const plugin = await host.load(manifestPath);

t.test('PluginHandle.call hands the tool progress reports to onProgress, in order, before the value', async (t) => {
  const seen: CallProgress[] = [];
  const value = await plugin.call('count', { steps: 5 }, { onProgress: (progress) => seen.push(progress) });
  t.same(value, { counted: 5 });
  t.same(seen.map(({ done }) => done), [1, 2, 3, 4, 5]);
  t.same(seen[4], { done: 5, total: 5, message: 'step 5' });
});

t.test('the SDK refuses a falling progress report in the plugin, so the process keeps its channel', async (t) => {
  const value = (await plugin.call('falling', {})) as { refused: boolean; message: string };
  t.ok(value.refused, 'ctx.progress threw a RangeError');
  t.notOk(host.audit.find({ type: 'protocol_violation' }), 'no violation reached the host');
});

t.test('a value that matches the output schema is returned; one that does not is invalid_output, and the process lives on', async (t) => {
  t.same(await plugin.call('shaped', { good: true }), { n: 1 });
  const [pid] = plugin.pids('shaped');
  const error = await rejection(plugin.call('shaped', { good: false }));
  t.match(error, { code: 'invalid_output', details: { issues: [{ path: '/n' }] } });
  t.same(plugin.pids('shaped'), [pid], 'the same process still serves the tool');
  t.same(await plugin.call('shaped', { good: true }), { n: 1 });
});

t.test("PluginHandle emits each of its tools' stderr lines as a log event, besides the runtime's onLog", async (t) => {
  const lines: string[] = [];
  const listener = ({ tool, line }: { tool: string; line: string }) => lines.push(`${tool}: ${line}`);
  plugin.on('log', listener);
  await plugin.call('chatty', { text: 'hello' });
  await waitFor('the log event', () => lines.includes('chatty: chatty says hello'));
  await host.waitForLog('chatty says hello');
  plugin.off('log', listener);
  t.pass('both heard the line');
});

t.test('a refused load is on record as load_refused, with the manifest and the code', async (t) => {
  const refusedPath = writeInlinePlugin(dir, {
    name: 'greedy',
    source: `${SDK_IMPORT}\ndefinePlugin({ tools: { peek: () => null } });\n`,
    capabilities: { 'access-network': ['example.test'] },
    tools: { peek: { sandbox: { network: ['example.test'] } } },
  });
  const error = await rejection(host.runtime.load(refusedPath));
  t.match(error, { code: 'sandbox_exceeds_grants' });
  const record = await host.audit.waitFor({ type: 'load_refused', plugin: 'greedy' });
  t.match(record, { manifestPath: refusedPath, code: 'sandbox_exceeds_grants' });
});

t.test('a load refused at bundling is on record with the plugin named, and its grant decisions', async (t) => {
  const refusedPath = writeInlinePlugin(dir, {
    name: 'climber',
    source: `${SDK_IMPORT}\nimport '../../../package.json';\ndefinePlugin({ tools: { peek: () => null } });\n`,
    tools: { peek: {} },
  });
  const error = await rejection(host.runtime.load(refusedPath));
  t.match(error, { code: 'import_refused' });
  t.match(await host.audit.waitFor({ type: 'load_refused', plugin: 'climber' }), { manifestPath: refusedPath, code: 'import_refused' });
  t.ok(host.audit.find({ type: 'grant_decision', plugin: 'climber' }), 'its decisions are on record too');
});
