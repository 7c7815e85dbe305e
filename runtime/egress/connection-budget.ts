/** What one tool process may do through the gateway (deno-launch.json `egress`, overridden by the policy's `limits.egress`). */
export interface EgressLimits {
  /** New connections (and plain-HTTP requests) per call. */
  connectionsPerCall: number;
  /** Bytes both ways per call, over every connection. */
  bytesPerCall: number;
  /** Connections open at once. */
  concurrentConnections: number;
}

/** The limit a process passed, as `resource_exhausted` names it in `details.limit`. */
export type EgressLimitName = 'egress_connections_per_call' | 'egress_bytes_per_call' | 'egress_concurrent_connections';

export interface BudgetHooks {
  /** Calls in flight on the process now. */
  inFlight(): number;
  /** A limit was passed: the calls in flight are to end with `resource_exhausted`. */
  exhausted(limit: EgressLimitName, message: string): void;
}

/**
 * Counts one process's connections and bytes against its limits. The allowance is per
 * call: a window opens when a call starts on an idle process and each call started in it
 * adds one call's worth, so calls run one after another each get the whole limit and
 * concurrent calls share theirs. No new connection is admitted while no call is in flight.
 */
export class ConnectionBudget {
  readonly #limits: EgressLimits;
  readonly #hooks: BudgetHooks;
  #calls = 0;
  #connections = 0;
  #bytes = 0;
  #open = 0;

  constructor(limits: EgressLimits, hooks: BudgetHooks) {
    this.#limits = limits;
    this.#hooks = hooks;
  }

  /** A call was sent to the process (it is already counted in `inFlight`). */
  callStarted(): void {
    if (this.#hooks.inFlight() <= 1) {
      this.#calls = 0;
      this.#connections = 0;
      this.#bytes = 0;
    }
    this.#calls++;
  }

  /** Admits one new connection: null, or why not (a limit passed is also reported through the hooks). */
  admit(): string | null {
    if (this.#hooks.inFlight() === 0) return 'no call in flight: the network is reachable only while a call runs';
    const { concurrentConnections, connectionsPerCall } = this.#limits;
    if (this.#open >= concurrentConnections) {
      return this.#exhausted('egress_concurrent_connections', `more than ${concurrentConnections} connections open at once`);
    }
    if (this.#connections >= connectionsPerCall * this.#calls) {
      return this.#exhausted('egress_connections_per_call', `more than ${connectionsPerCall} connections in one call`);
    }
    this.#connections++;
    this.#open++;
    return null;
  }

  /** An admitted connection closed. */
  closed(): void {
    this.#open = Math.max(0, this.#open - 1);
  }

  /** Bytes moved on an admitted connection: false once the call's byte allowance is passed. */
  moved(bytes: number): boolean {
    this.#bytes += bytes;
    const allowance = this.#limits.bytesPerCall * Math.max(1, this.#calls);
    if (this.#bytes <= allowance) return true;
    this.#exhausted('egress_bytes_per_call', `more than ${this.#limits.bytesPerCall} bytes through the gateway in one call`);
    return false;
  }

  #exhausted(limit: EgressLimitName, message: string): string {
    this.#hooks.exhausted(limit, message);
    return message;
  }
}
