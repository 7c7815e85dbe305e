import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import t from 'tap';
import { encodeFrame } from '../../plugin-sdk/protocol/frame.ts';
import type { PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import { CapabilityTokens } from '../../runtime/capabilities/capability-tokens.ts';
import { type GateAuthority, gateInbound, grantAuthority, type Refusal } from '../../runtime/channel/channel-gate.ts';
import { HostChannel } from '../../runtime/channel/host-channel.ts';
import { type ChannelState, inboundRule, MESSAGE_CATALOGUE } from '../../runtime/channel/message-catalogue.ts';
import type { Violation } from '../../runtime/channel/parse-inbound.ts';
import { NO_GRANTS } from '../../runtime/grants/grants.ts';
import { GRANT_EVERYTHING, GRANT_NOTHING, NO_VALID_TOKENS } from './gate-authorities.ts';

const STATES: ChannelState[] = ['handshaking', 'registering', 'ready', 'draining', 'closed'];
const LAUNCH = '01HZZZZZZZZZZZZZZZZZZZZZZZ';

/** One valid message of every plugin→host type. */
const SAMPLES: Record<PluginToHostMessage['type'], PluginToHostMessage> = {
  hello: { type: 'hello', token: 'tok', protocol: 1 },
  'tools.register': { type: 'tools.register', tools: ['echo'] },
  result: { type: 'result', id: 'c1', ok: true, value: 1 },
  pong: { type: 'pong', seq: 1 },
  'secret.get': { type: 'secret.get', requestId: 'r1', callId: 'c1', name: 'API_KEY', token: 'cap' },
  'shutdown.ack': { type: 'shutdown.ack' },
  progress: { type: 'progress', id: 'c1', done: 1 },
};

const INBOUND = Object.keys(MESSAGE_CATALOGUE).filter((type) => inboundRule(type) !== null) as PluginToHostMessage['type'][];
const GATED = INBOUND.filter((type) => inboundRule(type)!.capability !== null);

t.test('the gate test has a sample of every inbound type, and the catalogue gates tools.register and secret.get', async (t) => {
  t.same(Object.keys(SAMPLES).sort(), [...INBOUND].sort());
  t.same([...GATED].sort(), ['secret.get', 'tools.register']);
});

for (const type of GATED) {
  const rule = inboundRule(type)!;
  if (rule.capability === null) continue;
  const message = SAMPLES[type];
  const allowed = rule.states;

  t.test(`the gate refuses ${type} without ${rule.capability}, in every state it may arrive in`, async (t) => {
    for (const state of allowed) {
      t.match(gateInbound(message, state, GRANT_NOTHING), {
        ok: false,
        refusal: { type, capability: rule.capability, step: 'capability', layer: 'plugin', action: rule.refusal },
      }, state);
    }
  });

  t.test(`the gate checks ${type}'s state before its capability`, async (t) => {
    for (const state of STATES.filter((s) => !allowed.includes(s))) {
      t.match(gateInbound(message, state, GRANT_NOTHING), { ok: false, violation: { reason: 'wrong_state', type } }, state);
    }
  });

  t.test(`the gate checks ${type}'s capability before its token, and its token when its row names one`, async (t) => {
    const state = allowed[0]!;
    t.match(gateInbound(message, state, { lacking: () => 'sandbox', verifyToken: () => false }), { ok: false, refusal: { step: 'capability', layer: 'sandbox' } });
    if (rule.token) {
      t.match(gateInbound(message, state, NO_VALID_TOKENS), { ok: false, refusal: { type, step: 'token', scope: rule.scope?.(message as never) } });
    } else {
      t.same(gateInbound(message, state, NO_VALID_TOKENS), { ok: true }, 'no token to check');
    }
    t.same(gateInbound(message, state, GRANT_EVERYTHING), { ok: true });
  });
}

t.test('the gate never asks the authority about an ungated type', async (t) => {
  const asked: string[] = [];
  const spy: GateAuthority = {
    lacking: (capability) => (asked.push(capability), 'plugin'),
    verifyToken: (capability) => (asked.push(capability), false),
  };
  for (const type of INBOUND.filter((type) => !GATED.includes(type))) {
    t.same(gateInbound(SAMPLES[type], inboundRule(type)!.states[0]!, spy), { ok: true }, type);
  }
  t.same(asked, []);
});

t.test('grantAuthority checks the plugin, then the sandbox, then a token minted for this launch and scope', async (t) => {
  const tokens = new CapabilityTokens();
  const authority = grantAuthority(
    { ...NO_GRANTS, provideTools: true, secrets: ['API_KEY', 'PLUGIN_ONLY'] },
    { ...NO_GRANTS, provideTools: true, secrets: ['API_KEY'] },
    (capability, scope, token) => tokens.verify(LAUNCH, capability, scope ?? '', token),
  );
  const secret = (name: string, token = tokens.mint(LAUNCH, 'access-secret', name)) => ({ ...SAMPLES['secret.get'], name, token }) as PluginToHostMessage;
  t.same(gateInbound(SAMPLES['tools.register'], 'registering', authority), { ok: true });
  t.same(gateInbound(secret('API_KEY'), 'ready', authority), { ok: true });
  t.match(gateInbound(secret('NOPE'), 'ready', authority), { ok: false, refusal: { step: 'capability', layer: 'plugin', scope: 'NOPE' } });
  t.match(gateInbound(secret('PLUGIN_ONLY'), 'ready', authority), { ok: false, refusal: { step: 'capability', layer: 'sandbox' } });
  t.match(gateInbound(secret('API_KEY', tokens.mint(LAUNCH, 'access-secret', 'PLUGIN_ONLY')), 'ready', authority), {
    ok: false,
    refusal: { step: 'token' },
  }, 'a token for another scope');
  t.match(gateInbound(secret('API_KEY', tokens.mint('01HYYYYYYYYYYYYYYYYYYYYYYY', 'access-secret', 'API_KEY')), 'ready', authority), {
    ok: false,
    refusal: { step: 'token' },
  }, 'a token from another launch');
  const none = grantAuthority(NO_GRANTS, NO_GRANTS, () => true);
  t.match(gateInbound(SAMPLES['tools.register'], 'registering', none), { ok: false, refusal: { capability: 'provide-tools', action: 'end' } });
});

t.test('HostChannel hands a refused gated message to onRefused, delivers the rest, and stays open', async (t) => {
  const pluginStdout = new PassThrough();
  const delivered: string[] = [];
  const refused: Refusal[] = [];
  const violations: Violation[] = [];
  new HostChannel(pluginStdout, new PassThrough(), { maxFrameBytes: 4096, maxQueuedBytes: 16384 }, {
    state: () => 'ready',
    authority: GRANT_NOTHING,
    onMessage: (message) => delivered.push(message.type),
    onRefused: (_message, refusal) => refused.push(refusal),
    onViolation: (violation) => violations.push(violation),
  });
  for (const message of [SAMPLES['secret.get'], SAMPLES.pong, SAMPLES['secret.get'], SAMPLES.result]) {
    pluginStdout.write(Buffer.from(encodeFrame(message, 4096)));
  }
  pluginStdout.end();
  await once(pluginStdout, 'end');
  t.same(delivered, ['pong', 'result']);
  t.match(refused, [{ type: 'secret.get', step: 'capability' }, { type: 'secret.get', step: 'capability' }]);
  t.same(violations, []);
});
