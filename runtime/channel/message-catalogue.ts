import type { HostToPluginMessage, PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { CapabilityName } from '../grants/grants.ts';

/** Where a tool process's channel is: the lifecycle as the channel sees it. */
export type ChannelState = 'handshaking' | 'registering' | 'ready' | 'draining' | 'closed';

interface InboundRule {
  direction: 'plugin→host';
  /** The states in which this message may arrive; anything else is a protocol violation. */
  states: readonly ChannelState[];
  /** The capability the message needs, checked by the gate after state. */
  capability: CapabilityName | null;
}

interface OutboundRule {
  direction: 'host→plugin';
}

/** The closed catalogue: every message type, its direction, states and capability. */
export const MESSAGE_CATALOGUE: Record<PluginToHostMessage['type'], InboundRule> &
  Record<HostToPluginMessage['type'], OutboundRule> = {
  hello: { direction: 'plugin→host', states: ['handshaking'], capability: null },
  welcome: { direction: 'host→plugin' },
  'tools.register': { direction: 'plugin→host', states: ['registering'], capability: 'provide-tools' },
  call: { direction: 'host→plugin' },
  cancel: { direction: 'host→plugin' },
  result: { direction: 'plugin→host', states: ['ready', 'draining'], capability: null },
  ping: { direction: 'host→plugin' },
  pong: { direction: 'plugin→host', states: ['registering', 'ready', 'draining'], capability: null },
  'secret.get': { direction: 'plugin→host', states: ['ready', 'draining'], capability: 'access-secret' },
  reply: { direction: 'host→plugin' },
  shutdown: { direction: 'host→plugin' },
  'shutdown.ack': { direction: 'plugin→host', states: ['draining'], capability: null },
};

export function inboundRule(type: string): InboundRule | null {
  if (!Object.hasOwn(MESSAGE_CATALOGUE, type)) return null;
  const rule = MESSAGE_CATALOGUE[type as keyof typeof MESSAGE_CATALOGUE];
  return rule.direction === 'plugin→host' ? rule : null;
}
