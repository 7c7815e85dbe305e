import path from 'node:path';
import t from 'tap';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

t.test('with no policy, a plugin gets nothing but provide-tools, and Deno denies the rest', async (t) => {
  const prober = plantPlugin(t.testdir(), 'fs-prober', (manifest) => {
    manifest.capabilities = {
      'provide-tools': true,
      'access-network': ['example.com:443'],
      'access-secret': ['API_KEY'],
      'access-filesystem': { read: ['.'], write: ['./out'] },
    };
    delete manifest.tools.fs.sandbox;
  });
  const { runtime, audit } = testRuntime(t);
  const plugin = await runtime.load(prober.manifestPath);
  t.same(plugin.grants, { provideTools: true, network: [], secrets: [], read: [], write: [] });
  t.same(
    plugin.refused.map((d) => [d.capability, d.rule]),
    [
      ['access-network', 'default: nothing but provide-tools without a policy'],
      ['access-secret', 'default: nothing but provide-tools without a policy'],
      ['access-filesystem', 'default: nothing but provide-tools without a policy'],
      ['access-filesystem', 'default: nothing but provide-tools without a policy'],
    ],
  );
  t.equal(audit.records.filter((r) => r.type === 'grant_decision').length, 5, 'each decision is audited');
  const argv = plugin.tools[0]!.argv;
  for (const flag of ['--deny-net', '--deny-read', '--deny-write']) t.ok(argv.includes(flag), flag);

  // It really tries to read its own manifest: nothing was granted, so Deno refuses.
  const result = (await plugin.call('fs', { op: 'read', path: prober.manifestPath }, { timeoutMs: GENEROUS_MS })) as { ok: boolean; error?: string };
  t.same([result.ok, result.error], [false, 'NotCapable']);
  const write = (await plugin.call('fs', { op: 'write', path: path.join(prober.dir, 'out') }, { timeoutMs: GENEROUS_MS })) as { ok: boolean; error?: string };
  t.same([write.ok, write.error], [false, 'NotCapable']);
});

t.test('with no policy, a tool sandbox naming a declared scope makes the load fail, naming the field', async (t) => {
  const prober = plantPlugin(t.testdir(), 'fs-prober', (manifest) => {
    manifest.capabilities['access-filesystem'] = { read: ['.'] };
    manifest.tools.fs.sandbox.filesystem = { read: ['.'] };
  });
  const { runtime } = testRuntime(t);
  await t.rejects(runtime.load(prober.manifestPath), {
    code: 'sandbox_exceeds_grants',
    details: { tool: 'fs', refused: [{ field: 'filesystem.read.0' }] },
  });
});
