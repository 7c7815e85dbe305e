import type { PluginToHostMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { CapabilityName, Grants } from '../grants/grants.ts';
import { type ChannelState, type GatedType, inboundRule, type RefusalAction } from './message-catalogue.ts';
import type { Violation } from './violation.ts';

/** Which layer of grants lacks a capability: the plugin's ceiling, or this process's sandbox. */
export type GrantLayer = 'plugin' | 'sandbox';

/** What the gate asks about the process a message came from. */
export interface GateAuthority {
  /** The first layer (plugin, then sandbox) not granting `capability` for `scope`, or null when both do. */
  lacking(capability: CapabilityName, scope: string | undefined): GrantLayer | null;
  /** True when `token` is the one minted for this launch, `capability` and `scope`. */
  verifyToken(capability: CapabilityName, scope: string | undefined, token: string): boolean;
}

/** A gated message the gate refused, and what its catalogue row says to do about it. */
export interface Refusal {
  type: PluginToHostMessage['type'];
  capability: CapabilityName;
  scope: string | undefined;
  /** `capability`: not granted (by `layer`); `token`: granted, but the token is not this launch's for the scope. */
  step: 'capability' | 'token';
  layer?: GrantLayer;
  action: RefusalAction;
}

export type GateVerdict = { ok: true } | { ok: false; violation: Violation } | { ok: false; refusal: Refusal };

/** The gate's first step: a message outside the states its row names is a protocol violation. */
export function checkState(type: string, state: ChannelState): Violation | null {
  const rule = inboundRule(type);
  if (rule !== null && rule.states.includes(state)) return null;
  return { reason: 'wrong_state', type, detail: `${type} is not allowed while ${state}` };
}

/**
 * The gate's capability and token steps for a message already allowed in its state: the
 * capability its row names, granted for the row's scope, then the capability token the row
 * says it carries. Null when the message may go on to its handler.
 */
export function checkCapability(message: PluginToHostMessage, authority: GateAuthority): Refusal | null {
  const rule = inboundRule(message.type);
  if (rule === null || rule.capability === null) return null;
  const scope = rule.scope?.(message);
  const base = { type: message.type, capability: rule.capability, scope, action: rule.refusal };
  const layer = authority.lacking(rule.capability, scope);
  if (layer !== null) return { ...base, step: 'capability', layer };
  if (rule.token && !authority.verifyToken(rule.capability, scope, rule.token(message))) return { ...base, step: 'token' };
  return null;
}

/**
 * The one gate every inbound message passes after its schema: state → capability → token,
 * each read from the message's catalogue row. A state fault is a violation (the process is
 * killed); a capability or token fault is a refusal handled as the row says.
 */
export function gateInbound(message: PluginToHostMessage, state: ChannelState, authority: GateAuthority): GateVerdict {
  const violation = checkState(message.type, state);
  if (violation) return { ok: false, violation };
  const refusal = checkCapability(message, authority);
  return refusal ? { ok: false, refusal } : { ok: true };
}

/**
 * The authority of one process: the plugin's grants, then its sandbox's, and a check of
 * capability tokens minted for its launch. A capability the channel has no check for is
 * never held: a new gated row fails closed until `holds` learns it.
 */
export function grantAuthority(
  pluginGrants: Grants,
  sandboxGrants: Grants,
  verifyToken: GateAuthority['verifyToken'],
): GateAuthority {
  return {
    lacking: (capability, scope) =>
      !holds(pluginGrants, capability, scope) ? 'plugin' : !holds(sandboxGrants, capability, scope) ? 'sandbox' : null,
    verifyToken,
  };
}

function holds(grants: Grants, capability: CapabilityName, scope: string | undefined): boolean {
  switch (capability) {
    case 'provide-tools':
      return grants.provideTools;
    case 'access-secret':
      return scope !== undefined && grants.secrets.includes(scope);
    default:
      return false;
  }
}

type Inbound<T extends PluginToHostMessage['type']> = Extract<PluginToHostMessage, { type: T }>;

/** One handler per plugin→host type, for a message that passed the gate. */
export type InboundHandlers = { [T in PluginToHostMessage['type']]: (message: Inbound<T>) => void };

/** One handler per gated type, for a message the gate refused: a new gated row does not compile without one. */
export type RefusalHandlers = { [T in GatedType]: (message: Inbound<T>, refusal: Refusal) => void };

/** The channel's `onMessage` and `onRefused`, dispatching by type to the handler tables. */
export function dispatchByType(
  accepted: InboundHandlers,
  refused: RefusalHandlers,
): { onMessage(message: PluginToHostMessage): void; onRefused(message: PluginToHostMessage, refusal: Refusal): void } {
  return {
    onMessage: (message) => (accepted[message.type] as (message: PluginToHostMessage) => void)(message),
    onRefused: (message, refusal) => (refused[message.type as GatedType] as (message: PluginToHostMessage, refusal: Refusal) => void)(message, refusal),
  };
}
