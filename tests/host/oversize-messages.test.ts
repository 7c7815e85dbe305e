import t from 'tap';
import { functionSecretStore } from '../../runtime/index.ts';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

function writePlugin(dir: string): string {
  return writeInlinePlugin(dir, {
    name: 'sizes',
    source: [
      SDK_IMPORT,
      'definePlugin({ tools: {',
      '  size: (args: { blob?: string }) => (args.blob ?? "").length,',
      '  key: async (_args: unknown, ctx: any) => {',
      "    try { return (await ctx.secret('BIG')).length; } catch (error) { return { code: (error as any).code }; }",
      '  },',
      '} });',
      '',
    ].join('\n'),
    capabilities: { 'access-secret': ['BIG'] },
    tools: { size: {}, key: { sandbox: { secrets: ['BIG'] } } },
  });
}

t.test('call arguments too large for one frame end with invalid_arguments and the process lives on', async (t) => {
  const { runtime } = testRuntime(t);
  const plugin = await runtime.load(writePlugin(t.testdir()), { allowDeclared: true });
  t.equal(await plugin.call('size', { blob: 'abc' }), 3);
  const [pid] = plugin.pids('size');
  const tooBig = 'x'.repeat(runtime.config.channel.maxFrameBytes + 1);
  await t.rejects(plugin.call('size', { blob: tooBig }), { code: 'invalid_arguments' });
  t.equal(await plugin.call('size', { blob: 'abcd' }), 4, 'the same tool still answers');
  t.same(plugin.pids('size'), [pid], 'in the same process');
});

t.test('a secret value too large for one frame is refused as secret_unavailable without harming the host', async (t) => {
  const big = 'k'.repeat(2 * 1024 * 1024);
  const { runtime } = testRuntime(t, { secrets: functionSecretStore(() => big) });
  const plugin = await runtime.load(writePlugin(t.testdir()), { allowDeclared: true });
  t.same(await plugin.call('key', {}), { code: 'secret_unavailable' });
  t.equal(await plugin.call('size', { blob: 'ok' }), 2, 'the host carries on');
});
