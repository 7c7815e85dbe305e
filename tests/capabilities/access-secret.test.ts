import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import type { PluginHandle } from '../../runtime/index.ts';
import { auditOf } from '../helpers/audit-log.ts';
import { plantPlugin } from '../helpers/fixtures.ts';
import { testRuntime } from '../helpers/test-runtime.ts';
import { GENEROUS_MS } from '../helpers/wait-for.ts';

/** Every string in a JSON-able value, flattened: for searching a planted secret. */
function textOf(value: unknown): string {
  return JSON.stringify(value) ?? '';
}

// Values planted in the host's environment (the default store). Each is unique to this
// run, so finding one anywhere it should not be cannot be a coincidence.
const planted = {
  API_KEY: `planted-api-${randomBytes(12).toString('hex')}`,
  SECOND_KEY: `planted-second-${randomBytes(12).toString('hex')}`,
  DB_PASSWORD: `planted-db-${randomBytes(12).toString('hex')}`,
  UNGRANTED: `planted-ungranted-${randomBytes(12).toString('hex')}`,
};
for (const [name, value] of Object.entries(planted)) process.env[`MANASVI_SECRET_${name}`] = value;
t.teardown(() => {
  for (const name of Object.keys(planted)) delete process.env[`MANASVI_SECRET_${name}`];
});
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const root = realpathSync(t.testdir());
const auditFile = path.join(root, 'audit.jsonl');
const forger = plantPlugin(root, 'forger');
const { runtime, audit, logs } = testRuntime(t, {
  auditFile,
  policy: { plugins: { 'cap-forger': { 'access-secret': ['API_KEY', 'SECOND_KEY', 'DB_PASSWORD'] } } },
});
const plugin = await runtime.load(forger.manifestPath);
/** Every message of every error and refusal this file saw, searched for planted values at the end. */
const seenMessages: string[] = [];

type Answer = { launchId: string; ok?: boolean; code?: string; message?: string; sha256?: string; tokens?: Record<string, string> };
async function call(tool: 'holder' | 'twin' | 'other', args: Record<string, unknown>): Promise<Answer> {
  try {
    const answer = (await plugin.call(tool, args, { timeoutMs: GENEROUS_MS })) as Answer;
    if (answer.message) seenMessages.push(answer.message);
    return answer;
  } catch (error) {
    seenMessages.push((error as Error).message, textOf(error));
    throw error;
  }
}

/**
 * Asserts that a forged request was refused with capability_denied, recorded in the audit
 * with this launch's id, and that the same process (same launch) answers the next call.
 */
async function assertDeniedAndAlive(t: Test, tool: 'holder' | 'twin' | 'other', answer: Answer, name: string) {
  t.equal(answer.ok, false, `${name}: refused`);
  t.equal(answer.code, 'capability_denied', `${name}: ${answer.message}`);
  const denial = auditOf(audit, 'capability_denied', tool).filter((record) => record.launchId === answer.launchId && record['scope'] === name);
  t.ok(denial.length > 0, `${name}: an audit capability_denied record names this launch and scope`);
  const next = await call(tool, { action: 'whoami' });
  t.equal(next.launchId, answer.launchId, `${name}: the same process answers the next call`);
  t.equal(auditOf(audit, 'kill', tool).length, 0, `${name}: nothing was killed`);
}

t.test('a tool whose sandbox names a secret gets it with its own token', async (t) => {
  const answer = await call('holder', { action: 'ask', name: 'API_KEY', ownTokenFor: 'API_KEY' });
  t.same(answer, { launchId: answer.launchId, ok: true, sha256: sha256(planted.API_KEY) });
});

t.test('a token from another live launch of the same plugin is refused', async (t) => {
  const twin = await call('twin', { action: 'tokens' });
  const holder = await call('holder', { action: 'tokens' });
  t.not(twin.launchId, holder.launchId, 'two processes, two launches');
  t.ok(twin.tokens?.['access-secret:API_KEY'], 'the twin holds a real token for API_KEY');
  t.not(twin.tokens?.['access-secret:API_KEY'], holder.tokens?.['access-secret:API_KEY'], 'tokens differ per launch');
  const answer = await call('holder', { action: 'ask', name: 'API_KEY', token: twin.tokens!['access-secret:API_KEY'] });
  await assertDeniedAndAlive(t, 'holder', answer, 'API_KEY');
});

t.test("a token for another scope of the same launch is refused", async (t) => {
  const holder = await call('holder', { action: 'tokens' });
  const answer = await call('holder', { action: 'ask', name: 'SECOND_KEY', token: holder.tokens!['access-secret:API_KEY'] });
  await assertDeniedAndAlive(t, 'holder', answer, 'SECOND_KEY');
  const own = await call('holder', { action: 'ask', name: 'SECOND_KEY', ownTokenFor: 'SECOND_KEY' });
  t.same(own.sha256, sha256(planted.SECOND_KEY), 'its own token for that scope works');
});

t.test('a guessed or empty token is refused', async (t) => {
  for (const token of [randomBytes(32).toString('base64url'), '', 'A'.repeat(43)]) {
    const answer = await call('holder', { action: 'ask', name: 'API_KEY', token });
    await assertDeniedAndAlive(t, 'holder', answer, 'API_KEY');
  }
});

t.test("another tool's secret is refused, even with that tool's own valid token", async (t) => {
  const other = await call('other', { action: 'tokens' });
  t.ok(other.tokens?.['access-secret:DB_PASSWORD']);
  const answer = await call('holder', { action: 'ask', name: 'DB_PASSWORD', token: other.tokens!['access-secret:DB_PASSWORD'] });
  await assertDeniedAndAlive(t, 'holder', answer, 'DB_PASSWORD');
  const control = await call('other', { action: 'ask', name: 'DB_PASSWORD', ownTokenFor: 'DB_PASSWORD' });
  t.same(control.sha256, sha256(planted.DB_PASSWORD), 'the tool that names it does get it');
});

t.test('a name the tool did not declare, or the policy did not grant, is refused', async (t) => {
  for (const name of ['NOT_DECLARED', 'UNGRANTED', 'DB_PASSWORD']) {
    const answer = await call('holder', { action: 'ask', name, token: randomBytes(32).toString('base64url') });
    await assertDeniedAndAlive(t, 'holder', answer, name);
  }
});

t.test('a valid token with a call id that is not in flight is refused', async (t) => {
  const answer = await call('holder', { action: 'ask', name: 'API_KEY', ownTokenFor: 'API_KEY', callId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' });
  await assertDeniedAndAlive(t, 'holder', answer, 'API_KEY');
});

t.test('a token from a finished launch is refused by the next launch', async (t) => {
  const first = await call('holder', { action: 'tokens' });
  const oldToken = first.tokens!['access-secret:API_KEY']!;
  await t.rejects(call('holder', { action: 'exit' }), { code: 'plugin_crashed' });
  const answer = await call('holder', { action: 'ask', name: 'API_KEY', token: oldToken });
  t.not(answer.launchId, first.launchId, 'a new launch answered');
  t.equal(answer.code, 'capability_denied');
  t.ok(auditOf(audit, 'capability_denied', 'holder').some((r) => r.launchId === answer.launchId && r['scope'] === 'API_KEY'));
  const fresh = await call('holder', { action: 'ask', name: 'API_KEY', ownTokenFor: 'API_KEY' });
  t.equal(fresh.launchId, answer.launchId, 'still alive after the refusal');
  t.same(fresh.sha256, sha256(planted.API_KEY), "the new launch's own token works");
});

t.test('planted secret values appear in no argv, env, audit record, log line or error message', async (t) => {
  // Read each live process's real argv and environment from /proc while it runs.
  const launches = auditOf(audit, 'launch');
  t.ok(launches.length >= 3, 'holder, twin and other were launched');
  let procsRead = 0;
  for (const launch of launches) {
    const pid = launch['pid'] as number;
    let environ: string;
    let cmdline: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // that launch has ended
    }
    procsRead++;
    // tap's process-info hook adds its own variables to every child the test process
    // spawns; they are the harness's, not the host's, and exist only under tap.
    const names = environ
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(0, entry.indexOf('=')))
      .filter((name) => !name.startsWith('_TAPJS_PROCESSINFO_') && name !== 'NODE_OPTIONS');
    t.same(names.sort(), ['DENO_DIR', 'DENO_NO_UPDATE_CHECK', 'MANASVI_LAUNCH_TOKEN', 'NO_COLOR'], `pid ${pid}: a scrubbed environment`);
    for (const [name, value] of Object.entries(planted)) {
      t.notOk(environ.includes(value), `pid ${pid}: ${name} not in its environment`);
      t.notOk(cmdline.includes(value), `pid ${pid}: ${name} not in its argv`);
    }
  }
  t.ok(procsRead > 0, 'at least one live process was inspected');

  const auditText = readFileSync(auditFile, 'utf8');
  t.ok(auditText.includes('"capability_denied"'), 'the audit file holds the refusals');
  const haystacks: [string, string][] = [
    ['the audit file', auditText],
    ['audit records', textOf(audit.records)],
    ['launch argv', textOf(launches.map((l) => l['argv']))],
    ['plugin stderr lines', textOf(logs)],
    ['error and refusal messages', textOf(seenMessages)],
    ['the handle', textOf({ grants: plugin.grants, decisions: plugin.decisions, tools: plugin.tools })],
  ];
  t.ok(logs.some((l) => l.line.includes('secret.get API_KEY: answered')), 'stderr lines were captured');
  t.ok(seenMessages.length > 5, 'refusal messages were captured');
  for (const [where, text] of haystacks) {
    for (const [name, value] of Object.entries(planted)) t.notOk(text.includes(value), `${name} is not in ${where}`);
  }
});

t.test('the SDK: ctx.secret works for the tool that names the secret and is refused for one that does not', async (t) => {
  const reader = plantPlugin(t.testdir(), 'secret-reader');
  const sdk = testRuntime(t, { policy: { plugins: { 'cap-secret-reader': { 'access-secret': ['API_KEY'] } } } });
  const handle: PluginHandle = await sdk.runtime.load(reader.manifestPath);
  t.same(await handle.call('digest', {}, { timeoutMs: GENEROUS_MS }), { sha256: sha256(planted.API_KEY) });
  const peek = (await handle.call('peek', {}, { timeoutMs: GENEROUS_MS })) as { code?: string; message?: string; leaked?: string };
  t.equal(peek.leaked, undefined);
  t.equal(peek.code, 'capability_denied');
  t.notOk(textOf(peek).includes(planted.API_KEY));
  t.equal(auditOf(sdk.audit, 'capability_denied', 'peek').length, 1);
});
