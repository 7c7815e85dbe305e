import t from 'tap';
import { SDK_IMPORT, writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

t.test('a plugin looping on refused requests is answered every time but cannot flood the audit log', async (t) => {
  const manifest = writeInlinePlugin(t.testdir(), {
    name: 'hammer',
    source: [
      SDK_IMPORT,
      'definePlugin({ tools: { hammer: async (args: { times: number }, ctx: any) => {',
      '  let refused = 0;',
      '  for (let i = 0; i < args.times; i++) { try { await ctx.secret("NOT_MINE"); } catch { refused++; } }',
      '  return refused;',
      '} } });',
      '',
    ].join('\n'),
    tools: { hammer: { description: 'asks for a secret it lacks, again and again' } },
  });
  const { runtime, audit } = testRuntime(t, { config: { limits: { auditDenialsPerLaunch: 5 } } });
  const plugin = await runtime.load(manifest);
  t.equal(await plugin.call('hammer', { times: 40 }), 40, 'every request was answered, refused');
  await runtime.close();

  const denials = audit.records.filter((r) => r.type === 'capability_denied');
  t.equal(denials.length, 6, 'the budget, then one record saying the rest are counted');
  t.equal(denials.at(-1)?.['suppressingFurther'], true);
  const exit = audit.records.find((r) => r.type === 'exit' && r.tool === 'hammer');
  t.equal(exit?.['denialsUnrecorded'], 34, 'the rest are counted in the exit record');
});
