import t from 'tap';
import { auditOf } from '../helpers/audit-log.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

t.test('provide-tools: false in the policy refuses tools.register, so calls fail with capability_denied', async (t) => {
  const echo = plantPlugin(t.testdir(), 'echo');
  const { runtime, audit } = testRuntime(t, { policy: { plugins: { 'cap-echo': { 'provide-tools': false } } } });
  const plugin = await runtime.load(echo.manifestPath);
  t.equal(plugin.grants.provideTools, false);
  t.same(plugin.refused, [{ capability: 'provide-tools', scope: '*', granted: false, rule: 'policy plugins.cap-echo.provide-tools is false' }]);

  // The SDK really registers its tool; the host refuses it.
  await t.rejects(plugin.call('echo', { text: 'hi' }, { timeoutMs: GENEROUS_MS }), { code: 'capability_denied' });
  const denied = auditOf(audit, 'capability_denied', 'echo');
  t.equal(denied.length, 1);
  t.match(denied[0], { plugin: 'cap-echo', capability: 'provide-tools', launchId: String });
  t.ok(auditOf(audit, 'handshake_ok', 'echo').length === 1, 'the handshake itself succeeded');
  t.ok(auditOf(audit, 'kill', 'echo').some((k) => k.launchId === denied[0]!.launchId), 'the process was stopped');
});

t.test('a manifest that does not declare provide-tools cannot serve calls', async (t) => {
  const echo = plantPlugin(t.testdir(), 'echo', (manifest) => delete manifest.capabilities['provide-tools']);
  const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-echo': { 'provide-tools': true } } } });
  const plugin = await runtime.load(echo.manifestPath);
  t.equal(plugin.grants.provideTools, false);
  await t.rejects(plugin.call('echo', { text: 'hi' }, { timeoutMs: GENEROUS_MS }), { code: 'capability_denied' });
});

t.test('with provide-tools granted (the default), the same plugin serves calls', async (t) => {
  const echo = plantPlugin(t.testdir(), 'echo');
  const { runtime } = testRuntime(t, { policy: { plugins: {} } });
  const plugin = await runtime.load(echo.manifestPath);
  t.same(await plugin.call('echo', { text: 'hi' }, { timeoutMs: GENEROUS_MS }), { text: 'hi' });
});
