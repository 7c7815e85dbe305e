import { NODE_TIMERS, type Timers } from './timers.ts';

/**
 * A rate limit: `perSecond` takes a second, and at most that many at once after a pause.
 * Used where plugin-driven traffic is forwarded (progress reports, log lines) so a plugin
 * cannot set the pace for whoever listens.
 */
export class TokenBucket {
  readonly perSecond: number;
  readonly #clock: Pick<Timers, 'now'>;
  #tokens: number;
  #checkedAt: number;

  constructor(perSecond: number, clock: Pick<Timers, 'now'> = NODE_TIMERS) {
    this.perSecond = perSecond;
    this.#clock = clock;
    this.#tokens = perSecond;
    this.#checkedAt = clock.now();
  }

  /** True, and one token spent, when the rate allows one more now. */
  take(): boolean {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.perSecond, this.#tokens + ((now - this.#checkedAt) * this.perSecond) / 1000);
    this.#checkedAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
