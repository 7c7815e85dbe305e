import { PROTOCOL_VERSION } from '../../plugin-sdk/protocol/constants.ts';
import type { WelcomeMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { Violation } from '../channel/parse-inbound.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import type { Grants } from '../grants/grants.ts';
import { NODE_TIMERS, type Timers } from '../timers.ts';
import type { HandshakeFailureReason, TokenRegistry } from './token-registry.ts';

/** Faults in the bytes themselves: before any message, they are `garbage`, not a wrong first frame. */
const FRAME_FAULTS = new Set<Violation['reason']>([
  'empty_frame', 'frame_too_large', 'not_json', 'not_object', 'stream_ended_mid_frame',
]);

export interface LaunchHandshakeOptions {
  launchId: string;
  plugin: string;
  /** The one tool this process was launched for, and must register. */
  tool: string;
  grants: Grants;
  /** `handshake.timeoutMs` bounds hello and registration together; the rest goes into `welcome`. */
  config: Pick<LaunchConfig, 'handshake' | 'channel' | 'heartbeat' | 'calls'>;
  tokens: Pick<TokenRegistry, 'redeem' | 'burn'>;
  /** The capability tokens `welcome` hands over, minted for this launch. */
  capabilityTokens: () => Record<string, string>;
  send(message: WelcomeMessage): void;
  /** True while part of a frame has arrived: at the deadline that is `garbage`, not `timeout`. */
  midFrame(): boolean;
  /** `hello` was accepted; called before `welcome` is sent. */
  onOpened(): void;
  /** Exactly the launched tool registered: the process is ready. */
  onRegistered(): void;
  /** The handshake failed; the token is already burned. Called at most once. */
  onFailed(reason: HandshakeFailureReason): void;
  /** A registration naming anything but the launched tool: a protocol violation, not a handshake failure. */
  onViolation(violation: Violation): void;
  /**
   * Every handler the entry says it has (`tools.register`'s `handlers`), told before the
   * registration is judged. What `validate` learns from; it registers nothing.
   */
  onHandlers?(handlers: readonly string[]): void;
  timers?: Timers;
}

/**
 * The launch handshake of one process, over a send callback: `hello` checked against the
 * token registry and the protocol version → `welcome` → `tools.register` of exactly the
 * launched tool, all within one deadline. Knows nothing of processes or streams; the
 * capability gate has already checked `provide-tools` before `register` is called.
 */
export class LaunchHandshake {
  /** What the handshake waits for next; `done` once registered or failed. */
  awaiting: 'hello' | 'register' | 'done' = 'hello';
  readonly #o: LaunchHandshakeOptions;
  readonly #timers: Timers;
  #timer: unknown;

  constructor(options: LaunchHandshakeOptions) {
    this.#o = options;
    this.#timers = options.timers ?? NODE_TIMERS;
  }

  /** Arms the deadline; call once the process is spawned. */
  start(): void {
    this.#timer = this.#timers.setTimeout(() => this.fail(this.#o.midFrame() ? 'garbage' : 'timeout'), this.#o.config.handshake.timeoutMs);
  }

  hello(token: string, protocol: number): void {
    if (this.awaiting !== 'hello') return;
    const failure = this.#o.tokens.redeem(this.#o.launchId, token);
    if (failure) return this.fail(failure);
    if (protocol !== PROTOCOL_VERSION) return this.fail('protocol_mismatch');
    this.awaiting = 'register';
    this.#o.onOpened();
    this.#o.send({
      type: 'welcome',
      launchId: this.#o.launchId,
      plugin: this.#o.plugin,
      tools: [this.#o.tool],
      grants: this.#o.grants,
      capabilityTokens: this.#o.capabilityTokens(),
      limits: { maxFrameBytes: this.#o.config.channel.maxFrameBytes, progressPerSecond: this.#o.config.calls.progressPerSecond },
      heartbeatIntervalMs: this.#o.config.heartbeat.intervalMs,
    });
  }

  register(tools: string[], handlers?: string[]): void {
    if (this.awaiting !== 'register') return;
    if (handlers) this.#o.onHandlers?.(handlers);
    if (tools.length !== 1 || tools[0] !== this.#o.tool) {
      const launched = `registered [${tools.join(', ')}], launched for [${this.#o.tool}]`;
      return this.#o.onViolation({
        reason: 'unexpected_tools',
        type: 'tools.register',
        detail: tools.length === 0
          ? `the entry registers no handler for tool ${this.#o.tool} (${launched}); run \`manasvi-plugins validate\` on the manifest to list every missing handler`
          : launched,
      });
    }
    this.dispose();
    this.#o.onRegistered();
  }

  /**
   * A channel fault while the handshake runs. Before `hello` it fails the handshake
   * (`garbage` for bytes that are not a first frame or a malformed hello, else
   * `frame_before_hello`) and returns true; after `hello` it is the caller's protocol violation.
   */
  violation(violation: Violation, beforeFirstMessage: boolean): boolean {
    if (this.awaiting !== 'hello') return false;
    const frameFault = FRAME_FAULTS.has(violation.reason) || (violation.reason === 'schema_mismatch' && violation.type === 'hello');
    this.fail(frameFault && beforeFirstMessage ? 'garbage' : 'frame_before_hello');
    return true;
  }

  /** Fails the handshake once: burns the token and reports the reason. */
  fail(reason: HandshakeFailureReason): void {
    if (this.awaiting === 'done') return;
    this.dispose();
    this.#o.tokens.burn(this.#o.launchId);
    this.#o.onFailed(reason);
  }

  /** Stops the deadline and ends the handshake without a verdict (the process ended otherwise). */
  dispose(): void {
    this.awaiting = 'done';
    this.#timers.clearTimeout(this.#timer);
  }
}
