import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { auditOf } from '../helpers/audit-log.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

// A value planted in the host's environment (the default store), unique to this run.
const planted = `planted-inject-${randomBytes(12).toString('hex')}`;
process.env['MANASVI_SECRET_API_KEY'] = planted;
t.teardown(() => {
  delete process.env['MANASVI_SECRET_API_KEY'];
});

const bearer = { name: 'API_KEY', inject: { host: 'api.example.com', header: 'Authorization', format: 'Bearer {}' } };
const injection = { name: 'API_KEY', host: 'api.example.com', port: 443, header: 'Authorization', format: 'Bearer {}' };

/** The secret-reader fixture with API_KEY declared for injection, named by both tools' sandboxes, and a wildcard host. */
function injectOnly(manifest: Record<string, any>) {
  manifest.capabilities['access-secret'] = [bearer];
  manifest.capabilities['access-network'] = ['*.example.com'];
  manifest.tools.peek.sandbox = { secrets: ['API_KEY'], network: ['*.example.com'] };
}

t.test('a tool granted a secret for injection only has it in its injections, not its grants', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader', injectOnly);
  const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-secret-reader': { 'access-secret': [bearer], 'access-network': ['*.example.com'] } } } });
  const prepared = await runtime.inspect(reader.manifestPath);
  t.same(prepared.grants.secrets, [], 'the plugin may read no secret');
  const peek = prepared.tools.find((tool) => tool.name === 'peek')!;
  const digest = prepared.tools.find((tool) => tool.name === 'digest')!;
  t.same(peek.injections, [injection]);
  t.same(peek.grants.secrets, []);
  t.same(digest.injections, [injection], 'both sandboxes name it');
  t.ok(peek.argv.some((arg) => arg.startsWith('--allow-net=*.example.com,')), 'the wildcard reaches Deno unchanged (the egress gateway beside it)');
  t.match(prepared.decisions.find((decision) => decision.capability === 'access-secret'), { scope: 'API_KEY→api.example.com:443 Authorization', granted: true });
});

t.test('the plain form still hands a secret over, with no injection', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader');
  const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-secret-reader': { 'access-secret': ['API_KEY'] } } } });
  const prepared = await runtime.inspect(reader.manifestPath);
  for (const tool of prepared.tools) t.same(tool.injections, [], `${tool.name}: injections empty`);
  t.same(prepared.tools.find((tool) => tool.name === 'digest')!.grants.secrets, ['API_KEY']);
});

t.test('ctx.secret of a secret granted for injection only is refused by the channel gate, and the value goes nowhere', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader', injectOnly);
  const rt = testRuntime(t, { policy: { plugins: { 'cap-secret-reader': { 'access-secret': [bearer], 'access-network': ['*.example.com'] } } } });
  const handle = await rt.load(reader.manifestPath);
  const answer = (await handle.call('peek', {}, { timeoutMs: GENEROUS_MS })) as { code?: string; leaked?: string };
  t.equal(answer.leaked, undefined);
  t.equal(answer.code, 'capability_denied');
  t.equal(auditOf(rt.audit, 'capability_denied', 'peek').length, 1, 'the refusal is audited');
  const sha = createHash('sha256').update(planted).digest('hex');
  const everything = JSON.stringify([answer, rt.audit.records, rt.logs, handle.tools]);
  t.notOk(everything.includes(planted) || everything.includes(sha), 'neither the value nor its digest appears');
});

t.test('a sandbox naming a secret the policy grants in neither form is sandbox_exceeds_grants', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader', injectOnly);
  const { runtime } = testRuntime(t, { policy: { plugins: { 'cap-secret-reader': { 'access-secret': ['API_KEY'], 'access-network': ['*.example.com'] } } } });
  await t.rejects(runtime.inspect(reader.manifestPath), { code: 'sandbox_exceeds_grants' });
});
