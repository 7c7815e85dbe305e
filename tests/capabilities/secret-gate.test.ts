import t from 'tap';
import type { SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import { CapabilityTokens } from '../../runtime/capabilities/capability-tokens.ts';
import { answerSecretRequest, type SecretGateContext, StoreReadSlots } from '../../runtime/capabilities/secret-gate.ts';
import { functionSecretStore } from '../../runtime/capabilities/secret-store.ts';
import { NO_GRANTS } from '../../runtime/grants/grants.ts';

// The gate's checks are layered: tokens are only minted for a tool's own sandbox names, so
// over the wire the token check alone already stops most forgeries. These tests give the
// gate a VALID token for each case, so each check is shown to hold on its own.

const LAUNCH = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
const CALL = '01HYYYYYYYYYYYYYYYYYYYYYYY';
const VALUE = 'the-value-of-the-secret';

/** A context granting API_KEY to plugin and tool, a call always in flight, and `slots` store reads. */
function apiKeyContext(slots: number): SecretGateContext {
  return {
    plugin: 'plug',
    tool: 'tool',
    pluginGrants: { ...NO_GRANTS, secrets: ['API_KEY'] },
    toolGrants: { ...NO_GRANTS, secrets: ['API_KEY'] },
    launchId: LAUNCH,
    inFlight: () => true,
    storeReads: new StoreReadSlots(slots),
  };
}

function setup(overrides: Partial<SecretGateContext> = {}) {
  const tokens = new CapabilityTokens();
  const asked: string[] = [];
  const store = functionSecretStore((name) => {
    asked.push(name);
    return name === 'MISSING' ? undefined : VALUE;
  });
  const context: SecretGateContext = {
    plugin: 'plug',
    tool: 'tool',
    pluginGrants: { ...NO_GRANTS, secrets: ['API_KEY', 'OTHER_TOOL_KEY', 'MISSING'] },
    toolGrants: { ...NO_GRANTS, secrets: ['API_KEY', 'MISSING'] },
    launchId: LAUNCH,
    inFlight: (callId) => callId === CALL,
    storeReads: new StoreReadSlots(16),
    ...overrides,
  };
  const request = (name: string, token = tokens.mint(LAUNCH, 'access-secret', name), callId = CALL): SecretGetMessage => ({
    type: 'secret.get',
    requestId: 'r1',
    callId,
    name,
    token,
  });
  const ask = (message: SecretGetMessage) => answerSecretRequest(message, context, tokens, store);
  return { tokens, asked, request, ask };
}

t.test('a granted, sandboxed name with a valid token during a call is answered', async (t) => {
  const { ask, request, asked } = setup();
  t.same(await ask(request('API_KEY')), { ok: true, value: VALUE });
  t.same(asked, ['API_KEY']);
});

t.test("a name outside the tool's sandbox is refused even with a valid token for it", async (t) => {
  const { ask, request, asked } = setup();
  t.match(await ask(request('OTHER_TOOL_KEY')), { ok: false, code: 'capability_denied' });
  t.same(asked, [], 'the store was never asked');
});

t.test('a name not granted to the plugin is refused even if the sandbox and token name it', async (t) => {
  const { ask, request, asked } = setup({ toolGrants: { ...NO_GRANTS, secrets: ['API_KEY', 'UNGRANTED'] } });
  t.match(await ask(request('UNGRANTED')), { ok: false, code: 'capability_denied' });
  t.same(asked, []);
});

t.test('tokens for another launch, another scope, another capability or another runtime are refused', async (t) => {
  const { ask, request, tokens, asked } = setup();
  const foreign = new CapabilityTokens();
  for (const token of [
    tokens.mint('01HXXXXXXXXXXXXXXXXXXXXXXX', 'access-secret', 'API_KEY'),
    tokens.mint(LAUNCH, 'access-secret', 'MISSING'),
    tokens.mint(LAUNCH, 'access-network', 'API_KEY'),
    foreign.mint(LAUNCH, 'access-secret', 'API_KEY'),
    '',
  ]) {
    t.match(await ask(request('API_KEY', token)), { ok: false, code: 'capability_denied' });
  }
  t.same(asked, []);
});

t.test('a valid request naming a call that is not in flight is refused', async (t) => {
  const { ask, request, asked } = setup();
  t.match(await ask(request('API_KEY', undefined, '01HWWWWWWWWWWWWWWWWWWWWWWW')), { ok: false, code: 'capability_denied' });
  t.same(asked, []);
});

t.test('a store without the name, or a store that fails, answers secret_unavailable and never throws', async (t) => {
  const { ask, request } = setup();
  t.match(await ask(request('MISSING')), { ok: false, code: 'secret_unavailable' });

  const tokens = new CapabilityTokens();
  const failing = functionSecretStore(() => {
    throw new Error(`vault said: ${VALUE}`);
  });
  const context = apiKeyContext(16);
  const message: SecretGetMessage = {
    type: 'secret.get',
    requestId: 'r1',
    callId: CALL,
    name: 'API_KEY',
    token: tokens.mint(LAUNCH, 'access-secret', 'API_KEY'),
  };
  const answer = await answerSecretRequest(message, context, tokens, failing);
  t.match(answer, { ok: false, code: 'secret_unavailable' });
  t.notOk(JSON.stringify(answer).includes(VALUE), "the store's error text is not passed on");
});

t.test('refusals carry no secret value', async (t) => {
  const { ask, request } = setup();
  for (const message of [request('OTHER_TOOL_KEY'), request('API_KEY', 'guess'), request('NOPE')]) {
    t.notOk(JSON.stringify(await ask(message)).includes(VALUE));
  }
});

t.test('past its store-read slots a process is answered overloaded at once, and a freed slot serves again', async (t) => {
  const waiting: Array<() => void> = [];
  const slow = functionSecretStore(() => new Promise((resolve) => waiting.push(() => resolve(VALUE))));
  const context = apiKeyContext(2);
  const tokens = new CapabilityTokens();
  const message: SecretGetMessage = { type: 'secret.get', requestId: 'r', callId: CALL, name: 'API_KEY', token: tokens.mint(LAUNCH, 'access-secret', 'API_KEY') };
  const first = answerSecretRequest(message, context, tokens, slow);
  const second = answerSecretRequest(message, context, tokens, slow);
  t.match(await answerSecretRequest(message, context, tokens, slow), { ok: false, code: 'overloaded' }, 'the third waits for no store');
  t.equal(waiting.length, 2, 'the store was asked only twice');
  for (const release of waiting.splice(0)) release();
  t.same([await first, await second].map((answer) => answer.ok), [true, true], 'the two waiting reads are answered');
  const third = answerSecretRequest(message, context, tokens, slow);
  t.equal(waiting.length, 1, 'a freed slot reads the store again');
  waiting[0]!();
  t.match(await third, { ok: true, value: VALUE });
});
