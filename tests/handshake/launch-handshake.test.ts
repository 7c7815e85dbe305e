import t from 'tap';
import { PROTOCOL_VERSION } from '../../plugin-sdk/protocol/constants.ts';
import type { WelcomeMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { Violation } from '../../runtime/channel/parse-inbound.ts';
import { NO_GRANTS } from '../../runtime/grants/grants.ts';
import { LaunchHandshake } from '../../runtime/handshake/launch-handshake.ts';
import { type HandshakeFailureReason, TokenRegistry } from '../../runtime/handshake/token-registry.ts';
import { fakeTimers } from '../supervisor/fake-timers.ts';

const LAUNCH = '01HZZZZZZZZZZZZZZZZZZZZZZZ';
const TIMEOUT_MS = 1000;

/** A handshake over a send callback, with a real token registry and a clock the test moves. */
function setup(options: { midFrame?: boolean } = {}) {
  const tokens = new TokenRegistry();
  const token = tokens.issue(LAUNCH, TIMEOUT_MS);
  const timers = fakeTimers();
  const sent: WelcomeMessage[] = [];
  const events: string[] = [];
  const failures: HandshakeFailureReason[] = [];
  const violations: Violation[] = [];
  const handshake = new LaunchHandshake({
    launchId: LAUNCH,
    plugin: 'plug',
    tool: 'echo',
    grants: { ...NO_GRANTS, provideTools: true },
    config: { handshake: { timeoutMs: TIMEOUT_MS }, channel: { maxFrameBytes: 4096 }, heartbeat: { intervalMs: 500 }, calls: { progressPerSecond: 20 } } as never,
    tokens,
    capabilityTokens: () => ({ 'access-secret:API_KEY': 'cap' }),
    send: (message) => sent.push(message),
    midFrame: () => options.midFrame ?? false,
    onOpened: () => events.push('opened'),
    onRegistered: () => events.push('registered'),
    onFailed: (reason) => failures.push(reason),
    onViolation: (violation) => violations.push(violation),
    timers,
  });
  handshake.start();
  return { tokens, token, timers, handshake, sent, events, failures, violations };
}

t.test('LaunchHandshake: hello with the launch token → welcome → register of exactly the launched tool', async (t) => {
  const h = setup();
  h.handshake.hello(h.token, PROTOCOL_VERSION);
  t.equal(h.handshake.awaiting, 'register');
  t.same(h.events, ['opened'], 'opened before welcome is sent');
  t.same(h.sent, [
    {
      type: 'welcome',
      launchId: LAUNCH,
      plugin: 'plug',
      tools: ['echo'],
      grants: { ...NO_GRANTS, provideTools: true },
      capabilityTokens: { 'access-secret:API_KEY': 'cap' },
      limits: { maxFrameBytes: 4096, progressPerSecond: 20 },
      heartbeatIntervalMs: 500,
    },
  ]);
  h.handshake.register(['echo']);
  t.same(h.events, ['opened', 'registered']);
  t.equal(h.handshake.awaiting, 'done');
  t.equal(h.timers.pending(), 0, 'the deadline is disarmed');
  h.timers.advance(TIMEOUT_MS * 2);
  t.same(h.failures, []);
});

t.test('LaunchHandshake fails with bad_token for a token never minted, and burns the real one', async (t) => {
  const h = setup();
  h.handshake.hello('not-a-token', PROTOCOL_VERSION);
  t.same(h.failures, ['bad_token']);
  t.same(h.sent, [], 'no welcome');
  t.equal(h.tokens.redeem(LAUNCH, h.token), 'replay', 'the launch token is burned');
});

t.test('LaunchHandshake fails with replay for a token minted for another launch', async (t) => {
  const h = setup();
  const other = h.tokens.issue('01HYYYYYYYYYYYYYYYYYYYYYYY', TIMEOUT_MS);
  h.handshake.hello(other, PROTOCOL_VERSION);
  t.same(h.failures, ['replay']);
});

t.test('LaunchHandshake fails with protocol_mismatch for another protocol version', async (t) => {
  const h = setup();
  h.handshake.hello(h.token, PROTOCOL_VERSION + 1);
  t.same(h.failures, ['protocol_mismatch']);
  t.same(h.sent, []);
});

t.test('LaunchHandshake fails with timeout at the deadline, before hello or before register', async (t) => {
  const before = setup();
  before.timers.advance(TIMEOUT_MS);
  t.same(before.failures, ['timeout']);
  const after = setup();
  after.handshake.hello(after.token, PROTOCOL_VERSION);
  after.timers.advance(TIMEOUT_MS);
  t.same(after.failures, ['timeout'], 'one deadline bounds hello and registration');
});

t.test('LaunchHandshake fails with garbage at the deadline when part of a frame arrived', async (t) => {
  const h = setup({ midFrame: true });
  h.timers.advance(TIMEOUT_MS);
  t.same(h.failures, ['garbage']);
});

t.test('LaunchHandshake names a fault before hello garbage or frame_before_hello', async (t) => {
  const cases: [Violation, boolean, HandshakeFailureReason][] = [
    [{ reason: 'not_json', detail: '' }, true, 'garbage'],
    [{ reason: 'frame_too_large', detail: '' }, true, 'garbage'],
    [{ reason: 'schema_mismatch', type: 'hello', detail: '' }, true, 'garbage'],
    [{ reason: 'wrong_state', type: 'result', detail: '' }, true, 'frame_before_hello'],
    [{ reason: 'unknown_type', detail: '' }, true, 'frame_before_hello'],
    [{ reason: 'not_json', detail: '' }, false, 'frame_before_hello'],
  ];
  for (const [violation, beforeFirst, reason] of cases) {
    const h = setup();
    t.equal(h.handshake.violation(violation, beforeFirst), true);
    t.same(h.failures, [reason], `${violation.reason} (before the first message: ${beforeFirst})`);
  }
});

t.test('LaunchHandshake leaves a fault after hello to the caller as a protocol violation', async (t) => {
  const h = setup();
  h.handshake.hello(h.token, PROTOCOL_VERSION);
  t.equal(h.handshake.violation({ reason: 'not_json', detail: '' }, false), false);
  t.same(h.failures, []);
});

t.test('LaunchHandshake reports a registration of anything but the launched tool as unexpected_tools', async (t) => {
  for (const tools of [['other'], ['echo', 'other'], []]) {
    const h = setup();
    h.handshake.hello(h.token, PROTOCOL_VERSION);
    h.handshake.register(tools);
    t.match(h.violations, [{ reason: 'unexpected_tools', type: 'tools.register' }], JSON.stringify(tools));
    t.same(h.events, ['opened']);
  }
});

t.test('LaunchHandshake fails once: exited after a failure, or after dispose, reports nothing more', async (t) => {
  const h = setup();
  h.handshake.hello('nope', PROTOCOL_VERSION);
  h.handshake.fail('exited');
  h.timers.advance(TIMEOUT_MS);
  t.same(h.failures, ['bad_token']);
  const d = setup();
  d.handshake.dispose();
  d.handshake.fail('exited');
  d.timers.advance(TIMEOUT_MS);
  t.same(d.failures, []);
  t.equal(d.timers.pending(), 0);
});

t.test('LaunchHandshake fails with exited when the process ends first', async (t) => {
  const h = setup();
  h.handshake.fail('exited');
  t.same(h.failures, ['exited']);
});
