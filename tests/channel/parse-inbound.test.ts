import t from 'tap';
import type { ChannelState } from '../../runtime/channel/message-catalogue.ts';
import { parseInbound } from '../../runtime/channel/parse-inbound.ts';

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const parse = (value: unknown, state: ChannelState) => parseInbound(bytes(value), state);
const reason = (value: unknown, state: ChannelState) => {
  const result = parse(value, state);
  return result.ok ? 'accepted' : result.violation.reason;
};

const STATES: ChannelState[] = ['handshaking', 'registering', 'ready', 'draining', 'closed'];

/** One valid message of each plugin→host type, and the states it may arrive in. */
const VALID: [message: Record<string, unknown>, states: ChannelState[]][] = [
  [{ type: 'hello', token: 'tok', protocol: 1 }, ['handshaking']],
  [{ type: 'tools.register', tools: ['echo'] }, ['registering']],
  [{ type: 'result', id: '01J0000000000000000000000', ok: true, value: { any: ['thing'] } }, ['ready', 'draining']],
  [{ type: 'result', id: '01J0000000000000000000000', ok: false, error: { code: 'tool_failed', message: 'no' } }, ['ready', 'draining']],
  [{ type: 'pong', seq: 3, stats: { heapUsedBytes: 1, rssBytes: 2, inFlight: 0 } }, ['registering', 'ready', 'draining']],
  [{ type: 'secret.get', requestId: 'r1', callId: 'c1', name: 'API_KEY', token: 'cap' }, ['ready', 'draining']],
  [{ type: 'shutdown.ack' }, ['draining']],
];

for (const [message, allowed] of VALID) {
  const label = `${message['type']}${'ok' in message ? ` ok:${String(message['ok'])}` : ''}`;
  t.test(`parseInbound accepts ${label} only in ${allowed.join(', ')}`, async (t) => {
    for (const state of STATES) {
      const result = parse(message, state);
      if (allowed.includes(state)) {
        t.same(result, { ok: true, message }, `accepted while ${state}`);
      } else {
        t.match(result, { ok: false, violation: { reason: 'wrong_state', type: message['type'] } }, `refused while ${state}`);
      }
    }
  });
}

t.test('parseInbound refuses a type the catalogue does not have', async (t) => {
  for (const type of ['launch', 'HELLO', 'secret.set', '__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    t.equal(reason({ type }, 'ready'), 'unknown_type', type);
  }
});

t.test('parseInbound refuses host→plugin types coming from the plugin', async (t) => {
  for (const type of ['welcome', 'call', 'cancel', 'ping', 'reply', 'shutdown']) {
    t.equal(reason({ type }, 'ready'), 'unknown_type', type);
  }
});

t.test('parseInbound refuses a message without a string type', async (t) => {
  t.equal(reason({ token: 'x' }, 'handshaking'), 'unknown_type');
  t.equal(reason({ type: 1 }, 'handshaking'), 'unknown_type');
  t.equal(reason({ type: ['hello'] }, 'handshaking'), 'unknown_type');
});

const MISMATCHES: [label: string, message: unknown, state: ChannelState][] = [
  ['hello with an extra key', { type: 'hello', token: 'tok', protocol: 1, admin: true }, 'handshaking'],
  ['hello with a numeric token', { type: 'hello', token: 1, protocol: 1 }, 'handshaking'],
  ['hello without a protocol', { type: 'hello', token: 'tok' }, 'handshaking'],
  ['hello with an oversized token', { type: 'hello', token: 'x'.repeat(257), protocol: 1 }, 'handshaking'],
  ['tools.register with a string for tools', { type: 'tools.register', tools: 'echo' }, 'registering'],
  ['result with an extra key', { type: 'result', id: 'c1', ok: true, value: 1, extra: 1 }, 'ready'],
  ['result ok:false without an error', { type: 'result', id: 'c1', ok: false }, 'ready'],
  ['result ok:true carrying an error', { type: 'result', id: 'c1', ok: true, value: 1, error: { code: 'x', message: 'y' } }, 'ready'],
  ['result with ok as a string', { type: 'result', id: 'c1', ok: 'true', value: 1 }, 'ready'],
  ['result with an empty id', { type: 'result', id: '', ok: true, value: 1 }, 'ready'],
  ['result error with an extra key', { type: 'result', id: 'c1', ok: false, error: { code: 'x', message: 'y', stack: 's' } }, 'ready'],
  ['pong with a negative seq', { type: 'pong', seq: -1 }, 'ready'],
  ['pong with an unknown stat', { type: 'pong', seq: 1, stats: { cpu: 1 } }, 'ready'],
  ['secret.get without a capability token', { type: 'secret.get', requestId: 'r', callId: 'c', name: 'API_KEY' }, 'ready'],
  ['shutdown.ack with a payload', { type: 'shutdown.ack', bye: true }, 'draining'],
];

for (const [label, message, state] of MISMATCHES) {
  t.test(`parseInbound refuses ${label} as a schema mismatch`, async (t) => {
    t.match(parse(message, state), { ok: false, violation: { reason: 'schema_mismatch', type: (message as { type: string }).type } });
  });
}

t.test('parseInbound refuses a payload that is not JSON or not an object', async (t) => {
  t.equal(reason('{"type":', 'ready'), 'not_json');
  t.equal(reason('[{"type":"pong","seq":1}]', 'ready'), 'not_object');
  t.equal(reason('null', 'ready'), 'not_object');
});

t.test('parseInbound keeps the violation detail short for a huge unknown type', async (t) => {
  const result = parse({ type: 'x'.repeat(100_000) }, 'ready');
  t.ok(!result.ok && result.violation.detail.length < 200);
});
