import type { HostToPluginMessage, PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { CapabilityName } from '../grants/grants.ts';

/** Where a tool process's channel is: the lifecycle as the channel sees it. */
export type ChannelState = 'handshaking' | 'registering' | 'ready' | 'draining' | 'closed';

/** What the gate does with a gated message it refuses. */
export type RefusalAction =
  /** Answer `reply{ok:false, code:'capability_denied'}`, record it; the process lives on. */
  | 'reply'
  /** End the process with `capability_denied`: it cannot do what it was launched for. */
  | 'end';

/** How the gate checks one inbound type beyond its schema (see channel-gate.ts). */
type GateRule<M> =
  | { capability: null }
  | {
      /** The capability the message needs, checked by the gate after state. */
      capability: CapabilityName;
      refusal: RefusalAction;
      /** The scope the capability is asked for; absent: the capability as a whole. */
      scope?(message: M): string;
      /** The capability token the message carries for (capability, scope); absent: it needs none. */
      token?(message: M): string;
    };

/** One plugin→host type: the states it may arrive in (else a protocol violation) and its gate. */
export type InboundRule<M extends PluginToHostMessage = PluginToHostMessage> = {
  direction: 'plugin→host';
  states: readonly ChannelState[];
} & GateRule<M>;

interface OutboundRule {
  direction: 'host→plugin';
}

type Inbound<T extends PluginToHostMessage['type']> = Extract<PluginToHostMessage, { type: T }>;

/**
 * The closed catalogue: every message type, its direction, states and capability. A new
 * gated message is one row here and one handler; the gate reads nothing else.
 */
export const MESSAGE_CATALOGUE = {
  hello: { direction: 'plugin→host', states: ['handshaking'], capability: null },
  welcome: { direction: 'host→plugin' },
  'tools.register': { direction: 'plugin→host', states: ['registering'], capability: 'provide-tools', refusal: 'end' },
  call: { direction: 'host→plugin' },
  cancel: { direction: 'host→plugin' },
  result: { direction: 'plugin→host', states: ['ready', 'draining'], capability: null },
  ping: { direction: 'host→plugin' },
  pong: { direction: 'plugin→host', states: ['registering', 'ready', 'draining'], capability: null },
  'secret.get': {
    direction: 'plugin→host',
    states: ['ready', 'draining'],
    capability: 'access-secret',
    refusal: 'reply',
    scope: (message) => message.name,
    token: (message) => message.token,
  },
  reply: { direction: 'host→plugin' },
  shutdown: { direction: 'host→plugin' },
  'shutdown.ack': { direction: 'plugin→host', states: ['draining'], capability: null },
  progress: { direction: 'plugin→host', states: ['ready', 'draining'], capability: null },
} satisfies { [T in PluginToHostMessage['type']]: InboundRule<Inbound<T>> } & { [T in HostToPluginMessage['type']]: OutboundRule };

type Catalogue = typeof MESSAGE_CATALOGUE;

/** The plugin→host types whose row names a capability: each needs a refusal handler (see channel-gate.ts). */
export type GatedType = {
  [K in keyof Catalogue]: Catalogue[K] extends { capability: CapabilityName } ? K : never;
}[keyof Catalogue];

/** The row of a plugin→host type, or null for an unknown or host→plugin type. */
export function inboundRule(type: string): InboundRule | null {
  if (!Object.hasOwn(MESSAGE_CATALOGUE, type)) return null;
  const rule = MESSAGE_CATALOGUE[type as keyof typeof MESSAGE_CATALOGUE];
  return rule.direction === 'plugin→host' ? (rule as InboundRule) : null;
}
