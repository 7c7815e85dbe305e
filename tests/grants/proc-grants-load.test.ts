import t from 'tap';
import { isPluginRuntimeError } from '../../runtime/errors.ts';
import { writeInlinePlugin } from '../helpers/inline-plugin.ts';
import { testRuntime } from '../helpers/test-runtime.ts';

t.test('createRuntime().load() never grants /proc/self, even under allowDeclared: the tool asking for it fails the load', async (t) => {
  const { runtime, audit } = testRuntime(t, { allowDeclared: true });
  const manifest = writeInlinePlugin(t.testdir({}), {
    name: 'proc-reader',
    source: "import { definePlugin } from 'manasvi-plugins/plugin-sdk';\ndefinePlugin({ tools: { peek: async () => Deno.readTextFile('/proc/self/environ') } });\n",
    capabilities: { 'access-filesystem': { read: ['/proc/self/environ', '/dev/fd'] } },
    tools: { peek: { sandbox: { filesystem: { read: ['/proc/self/environ'] } } } },
  });
  const error = await runtime.load(manifest).then(
    () => null,
    (caught: unknown) => caught,
  );
  t.ok(isPluginRuntimeError(error, 'sandbox_exceeds_grants'), `a typed error naming the tool (${(error as { code?: string }).code})`);
  t.match((error as Error).message, /tools\.peek\.sandbox\.filesystem\.read\.0/);
  const refused = audit.all({ type: 'grant_decision', plugin: 'proc-reader', capability: 'access-filesystem' });
  t.equal(refused.length, 2, 'both declared paths decided and audited');
  for (const record of refused) {
    t.match(record, { granted: false, scope: new RegExp(`^read:/proc/${process.pid}/`), reason: /^never granted: .* is or holds \/proc/ });
  }
});
