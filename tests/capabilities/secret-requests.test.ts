import t from 'tap';
import type { HostToPluginMessage, SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { SecretAnswer } from '../../runtime/capabilities/secret-gate.ts';
import { type SecretDenialRecord, SecretRequests } from '../../runtime/capabilities/secret-requests.ts';

const BUDGET = 3;

function setup(answer: SecretAnswer = { ok: false, code: 'overloaded', message: 'busy' }, sendThrowsOnValue = false) {
  const sent: HostToPluginMessage[] = [];
  const offered: HostToPluginMessage[] = [];
  const records: SecretDenialRecord[] = [];
  const requests = new SecretRequests({
    plugin: 'plug',
    tool: 'tool',
    auditDenialsPerLaunch: BUDGET,
    read: async () => answer,
    send: (reply) => {
      if (sendThrowsOnValue && reply.ok) throw new Error('frame too large');
      sent.push(reply);
    },
    offer: (reply) => offered.push(reply),
    audit: (record) => records.push(record),
  });
  return { requests, sent, offered, records };
}

const request = (n: number, name = 'API_KEY'): SecretGetMessage => ({ type: 'secret.get', requestId: `r${n}`, callId: 'c', name, token: 'tok' });

t.test('SecretRequests answers an admitted request with the value it read', async (t) => {
  const s = setup({ ok: true, value: 'v' });
  await s.requests.admitted(request(1));
  t.same(s.sent, [{ type: 'reply', requestId: 'r1', ok: true, value: 'v' }]);
  t.same(s.records, []);
});

t.test('SecretRequests refuses a value too large for one frame as secret_unavailable', async (t) => {
  const s = setup({ ok: true, value: 'v' }, true);
  await s.requests.admitted(request(1));
  t.match(s.sent, [{ type: 'reply', requestId: 'r1', ok: false, error: { code: 'secret_unavailable' } }]);
});

t.test('SecretRequests records refusals up to the budget, one more saying so, then only counts them', async (t) => {
  const s = setup();
  for (let n = 1; n <= BUDGET + 4; n++) await s.requests.admitted(request(n));
  t.equal(s.records.length, BUDGET + 1);
  t.same(s.records.slice(0, BUDGET), Array(BUDGET).fill({ type: 'capability_denied', capability: 'access-secret', scope: 'API_KEY', reason: 'overloaded' }));
  t.same(s.records[BUDGET], { type: 'capability_denied', capability: 'access-secret', scope: 'API_KEY', reason: 'overloaded', suppressingFurther: true });
  t.equal(s.requests.denialsUnrecorded, 3);
  t.same(s.sent.map((m) => (m as { requestId: string }).requestId), ['r1', 'r2', 'r3', 'r4'], 'recorded refusals are sent');
  t.same(s.offered.map((m) => (m as { requestId: string }).requestId), ['r5', 'r6', 'r7'], 'the rest are only offered');
});

t.test('SecretRequests words a gate refusal by its step and counts it against the same budget', async (t) => {
  const s = setup();
  const base = { type: 'secret.get', capability: 'access-secret', scope: 'API_KEY', action: 'reply' } as const;
  s.requests.refused(request(1), { ...base, step: 'capability', layer: 'plugin' });
  s.requests.refused(request(2), { ...base, step: 'capability', layer: 'sandbox' });
  s.requests.refused(request(3), { ...base, step: 'token' });
  t.same(
    s.sent.map((m) => (m as { error: { message: string } }).error.message),
    [
      'secret API_KEY is not granted to plugin plug',
      'secret API_KEY is not named by the sandbox of plug/tool',
      'capability token for access-secret:API_KEY is not valid for this launch of plug/tool',
    ],
  );
  t.match(s.sent, Array(3).fill({ ok: false, error: { code: 'capability_denied' } }));
  t.same(s.records.map((r) => r.reason), ['capability_denied', 'capability_denied', 'capability_denied']);
  s.requests.refused(request(4), { ...base, step: 'token' });
  s.requests.refused(request(5), { ...base, step: 'token' });
  t.equal(s.requests.denialsUnrecorded, 1);
  t.equal(s.offered.length, 1);
});
