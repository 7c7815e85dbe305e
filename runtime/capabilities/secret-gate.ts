import type { SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import { checkCapability, grantAuthority, type Refusal } from '../channel/channel-gate.ts';
import type { Grants } from '../grants/grants.ts';
import type { CapabilityTokens } from './capability-tokens.ts';
import type { SecretStore } from './secret-store.ts';

export type SecretAnswer = { ok: true; value: string } | { ok: false; code: string; message: string };

export interface SecretGateContext {
  plugin: string;
  tool: string;
  /** What the plugin as a whole is granted. */
  pluginGrants: Grants;
  /** What this tool's process is granted (its sandbox). */
  toolGrants: Grants;
  launchId: string;
  /** True while the call the request names is in flight on this process. */
  inFlight(callId: string): boolean;
  /** This process's share of reads waiting on the store. */
  storeReads: StoreReadSlots;
}

/**
 * How many store reads one process may have waiting at once. A granted tool that floods
 * `secret.get` against a slow store would otherwise pile up host-side requests without
 * bound before any reply exists to be bounded by the channel; past the cap it is told
 * `overloaded` at once.
 */
export class StoreReadSlots {
  readonly max: number;
  #used = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Takes a slot; false when all are in use. */
  take(): boolean {
    if (this.#used >= this.max) return false;
    this.#used++;
    return true;
  }

  release(): void {
    this.#used--;
  }
}

const denied = (message: string): SecretAnswer => ({ ok: false, code: 'capability_denied', message });

/** Why the channel gate refused a `secret.get`, in words for the plugin and the audit. */
export function describeSecretRefusal(refusal: Refusal, plugin: string, where: string): string {
  const name = refusal.scope ?? '';
  if (refusal.step === 'token') return `capability token for access-secret:${name} is not valid for this launch of ${where}`;
  if (refusal.layer === 'plugin') return `secret ${name} is not granted to plugin ${plugin}`;
  return `secret ${name} is not named by the sandbox of ${where}`;
}

/**
 * The whole check of a `secret.get`, in order before the store is touched: the channel
 * gate's steps (granted to the plugin, named by this tool's sandbox, capability token valid
 * for this launch and scope), then readSecret's. Refusals never say whether the store
 * holds the name, and no answer ever carries another secret's value.
 */
export async function answerSecretRequest(
  request: SecretGetMessage,
  context: SecretGateContext,
  tokens: CapabilityTokens,
  store: SecretStore,
): Promise<SecretAnswer> {
  const authority = grantAuthority(context.pluginGrants, context.toolGrants, (capability, scope, token) =>
    tokens.verify(context.launchId, capability, scope ?? '', token),
  );
  const refusal = checkCapability(request, authority);
  if (refusal) return denied(describeSecretRefusal(refusal, context.plugin, `${context.plugin}/${context.tool}`));
  return readSecret(request, context, store);
}

/**
 * Answers a `secret.get` the channel gate admitted: asked during a call in flight, a
 * store-read slot free, then the store.
 */
export async function readSecret(
  request: SecretGetMessage,
  context: Pick<SecretGateContext, 'plugin' | 'tool' | 'inFlight' | 'storeReads'>,
  store: SecretStore,
): Promise<SecretAnswer> {
  const where = `${context.plugin}/${context.tool}`;
  if (!context.inFlight(request.callId)) {
    return denied(`secret ${request.name} was asked for outside a call in flight on ${where}`);
  }
  if (!context.storeReads.take()) {
    return { ok: false, code: 'overloaded', message: `${where} already has ${context.storeReads.max} secret reads waiting on the store` };
  }
  let value: string | undefined;
  try {
    value = await store.get(request.name);
  } catch {
    // An operator's store failing must not take the host down (this runs on a plugin's
    // request), and its error text is not passed on: it could quote what it was reading.
    return { ok: false, code: 'secret_unavailable', message: `the secret store failed to read ${request.name}` };
  } finally {
    context.storeReads.release();
  }
  if (value === undefined) {
    return { ok: false, code: 'secret_unavailable', message: `the secret store holds no value for ${request.name}` };
  }
  return { ok: true, value };
}
