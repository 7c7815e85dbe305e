import type { HostToPluginMessage, SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { Refusal } from '../channel/channel-gate.ts';
import { describeSecretRefusal, type SecretAnswer } from './secret-gate.ts';

type ReplyMessage = Extract<HostToPluginMessage, { type: 'reply' }>;

/** The audit record of one refused `secret.get` (plugin, tool and launch id are added by the caller). */
export type SecretDenialRecord = {
  type: 'capability_denied';
  capability: 'access-secret';
  scope: string;
  reason: string;
  suppressingFurther?: true;
};

export interface SecretRequestsOptions {
  plugin: string;
  tool: string;
  /** Refusals recorded per launch before the rest are only counted (`limits.auditDenialsPerLaunch`). */
  auditDenialsPerLaunch: number;
  /** Answers a request the channel gate admitted (granted, valid token): see readSecret. */
  read(request: SecretGetMessage): Promise<SecretAnswer>;
  /** Sends a reply; throws if it does not fit in one frame. */
  send(reply: ReplyMessage): void;
  /** Sends a reply the plugin can go without: withheld while it is far behind in reading. */
  offer(reply: ReplyMessage): void;
  audit(record: SecretDenialRecord): void;
}

/**
 * One process's `secret.get` requests: each answered with its value or a typed refusal,
 * refusals recorded up to the launch's audit budget. A plugin looping on refusals must not
 * fill the operator's disk: past the budget one more record says so, the rest are counted
 * (`denialsUnrecorded`, for the launch's `exit` record), and their replies are offered
 * rather than sent, so a flood that does not read costs the host nothing unbounded.
 */
export class SecretRequests {
  readonly #o: SecretRequestsOptions;
  #denials = 0;
  #denialsUnrecorded = 0;

  constructor(options: SecretRequestsOptions) {
    this.#o = options;
  }

  /** Refusals past the budget that have no audit record of their own. */
  get denialsUnrecorded(): number {
    return this.#denialsUnrecorded;
  }

  /** A request the gate admitted: read, then answered. */
  async admitted(request: SecretGetMessage): Promise<void> {
    const answer = await this.#o.read(request);
    if (!answer.ok) return this.refuse(request, answer.code, answer.message);
    try {
      this.#o.send({ type: 'reply', requestId: request.requestId, ok: true, value: answer.value });
    } catch {
      // A value too large for one frame: refuse it rather than throw where nothing catches.
      this.#o.send({
        type: 'reply',
        requestId: request.requestId,
        ok: false,
        error: { code: 'secret_unavailable', message: `the value of ${request.name} does not fit in one frame` },
      });
    }
  }

  /** A request the channel gate refused (not granted, or not this launch's token). */
  refused(request: SecretGetMessage, refusal: Refusal): void {
    const { plugin, tool } = this.#o;
    this.refuse(request, 'capability_denied', describeSecretRefusal(refusal, plugin, `${plugin}/${tool}`));
  }

  /** Answers a request with a refusal, recorded within the budget. */
  refuse(request: SecretGetMessage, code: string, message: string): void {
    const reply: ReplyMessage = { type: 'reply', requestId: request.requestId, ok: false, error: { code, message } };
    if (this.#recordDenial(request.name, code)) this.#o.send(reply);
    else this.#o.offer(reply);
  }

  /** Returns false past the budget. */
  #recordDenial(scope: string, code: string): boolean {
    const budget = this.#o.auditDenialsPerLaunch;
    this.#denials++;
    if (this.#denials <= budget) {
      this.#o.audit({ type: 'capability_denied', capability: 'access-secret', scope, reason: code });
    } else if (this.#denials === budget + 1) {
      this.#o.audit({ type: 'capability_denied', capability: 'access-secret', scope, reason: code, suppressingFurther: true });
    } else {
      this.#denialsUnrecorded++;
      return false;
    }
    return true;
  }
}
