import t from 'tap';
import * as v from 'valibot';
import {
  HelloSchema,
  INBOUND_SCHEMAS,
  PongSchema,
  ProgressSchema,
  ResultSchema,
  SecretGetSchema,
  ShutdownAckSchema,
  ToolsRegisterSchema,
} from '../../runtime/channel/inbound-schemas.ts';
import type {
  HelloMessage,
  PluginToHostMessage,
  PongMessage,
  ProgressMessage,
  ResultMessage,
  SecretGetMessage,
  ShutdownAckMessage,
  ToolsRegisterMessage,
} from '../../plugin-sdk/protocol/messages.ts';
import type { Assert, Equal } from '../helpers/type-equality.ts';

// The SDK's hand-written types and the host's schemas describe one wire: `tsc -p .` fails
// here when either drifts from the other, in either direction.
const hello: Assert<Equal<v.InferOutput<typeof HelloSchema>, HelloMessage>> = true;
const toolsRegister: Assert<Equal<v.InferOutput<typeof ToolsRegisterSchema>, ToolsRegisterMessage>> = true;
const result: Assert<Equal<v.InferOutput<typeof ResultSchema>, ResultMessage>> = true;
const pong: Assert<Equal<v.InferOutput<typeof PongSchema>, PongMessage>> = true;
const secretGet: Assert<Equal<v.InferOutput<typeof SecretGetSchema>, SecretGetMessage>> = true;
const shutdownAck: Assert<Equal<v.InferOutput<typeof ShutdownAckSchema>, ShutdownAckMessage>> = true;
const progress: Assert<Equal<v.InferOutput<typeof ProgressSchema>, ProgressMessage>> = true;

// And the lookup table the host parses by: one schema per plugin→host type, each the schema of its own type.
type Schemas = typeof INBOUND_SCHEMAS;
const everyType: Assert<Equal<keyof Schemas, PluginToHostMessage['type']>> = true;
type Matches = { [K in keyof Schemas]: Equal<v.InferOutput<Schemas[K]>, Extract<PluginToHostMessage, { type: K }>> };
const eachOwnType: Assert<Equal<Matches[keyof Schemas], true>> = true;

t.ok([hello, toolsRegister, result, pong, secretGet, shutdownAck, progress, everyType, eachOwnType].every(Boolean), 'the type assertions compiled');

/** One message of each plugin→host type, written against the SDK's types. */
const SAMPLES: { [K in PluginToHostMessage['type']]: Extract<PluginToHostMessage, { type: K }>[] } = {
  hello: [{ type: 'hello', token: 'tok', protocol: 1 }],
  'tools.register': [{ type: 'tools.register', tools: ['echo'] }],
  result: [
    { type: 'result', id: 'c1', ok: true, value: { any: ['thing'] } },
    { type: 'result', id: 'c1', ok: false, error: { code: 'tool_failed', message: 'no' } },
  ],
  pong: [{ type: 'pong', seq: 3 }, { type: 'pong', seq: 3, stats: { inFlight: 0 } }],
  'secret.get': [{ type: 'secret.get', requestId: 'r1', callId: 'c1', name: 'API_KEY', token: 'cap' }],
  'shutdown.ack': [{ type: 'shutdown.ack' }],
  progress: [
    { type: 'progress', id: 'c1', done: 0 },
    { type: 'progress', id: 'c1', done: 2.5, total: 10, message: 'halfway there' },
  ],
};

t.test('each inbound schema accepts what the SDK sends, unchanged', async (t) => {
  for (const [type, messages] of Object.entries(SAMPLES)) {
    for (const message of messages) {
      const parsed = v.safeParse(INBOUND_SCHEMAS[type as keyof Schemas], message);
      t.same(parsed.success ? parsed.output : parsed.issues, message, type);
    }
  }
});

t.test('a progress frame fails its schema with a negative or unsafe value, a missing done, a long message or a stray key', async (t) => {
  const refused = [
    { type: 'progress', id: 'c1', done: -1 },
    { type: 'progress', id: 'c1', done: 1, total: -5 },
    { type: 'progress', id: 'c1', done: Number.MAX_SAFE_INTEGER * 2 },
    { type: 'progress', id: 'c1', done: '1' },
    { type: 'progress', id: 'c1' },
    { type: 'progress', id: '', done: 1 },
    { type: 'progress', id: 'c1', done: 1, message: 'x'.repeat(257) },
    { type: 'progress', id: 'c1', done: 1, extra: true },
  ];
  for (const message of refused) t.notOk(v.safeParse(ProgressSchema, message).success, JSON.stringify(message).slice(0, 80));
});
