import type { PluginToHostMessage, SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import { encodeFrame } from '../../plugin-sdk/protocol/frame.ts';
import type { AuditFields } from '../audit/audit-record.ts';
import { describeSecretRefusal, type SecretAnswer } from '../capabilities/secret-gate.ts';
import { SecretRequests } from '../capabilities/secret-requests.ts';
import type { GateAuthority, Refusal } from '../channel/channel-gate.ts';
import { HostChannel } from '../channel/host-channel.ts';
import type { ChannelState } from '../channel/message-catalogue.ts';
import type { Violation } from '../channel/parse-inbound.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { Grants } from '../grants/grants.ts';
import { LaunchHandshake } from '../handshake/launch-handshake.ts';
import type { HandshakeFailureReason, TokenRegistry } from '../handshake/token-registry.ts';
import { createProcessStorage, removeProcessStorage } from '../launch/process-storage.ts';
import { type DenoProcess, spawnDeno } from '../launch/spawn-deno.ts';
import { StderrLines } from '../launch/stderr-lines.ts';
import { newId } from '../new-id.ts';
import { CallLedger } from './call-ledger.ts';
import { exitError, HEAP_EXHAUSTED } from './exit-error.ts';
import { type ProcessWatches, startWatches } from './process-watches.ts';

export type ProcessState = 'launching' | 'handshaking' | 'ready' | 'draining' | 'stopped' | 'crashed';

/** What the supervisor reports about a process, beyond its state. */
export type ProcessEvent = 'starting' | 'ready' | 'busy' | 'idle' | 'unresponsive' | 'crashed' | 'stopped';

/**
 * Reads the secret a `secret.get` names, once the channel gate has admitted it (granted,
 * valid token): the value, or a typed refusal. Supplied by the capability layer.
 */
export type SecretReader = (
  request: SecretGetMessage,
  process: { launchId: string; inFlight: (callId: string) => boolean },
) => Promise<SecretAnswer>;

export interface ToolProcessOptions {
  plugin: string;
  tool: string;
  grants: Grants;
  /** Deno's argv (what `inspect` shows and the audit records). */
  argv: string[];
  /** The program and arguments actually spawned: Deno's argv under the OS layers. */
  command: [string, string[]];
  /** Where this process's own DENO_DIR is made at spawn (removed after exit): see process-storage.ts. */
  storageRoot: string;
  /** Per-process limits the host watches (RSS) on top of what Deno and the OS enforce. */
  rssMb: number;
  config: LaunchConfig;
  tokens: TokenRegistry;
  /** Capability tokens handed over at `welcome`, minted for this launch. */
  capabilityTokens: (launchId: string) => Record<string, string>;
  /** What this launch holds, for the channel gate: the plugin's grants, the sandbox's, its tokens. */
  authority: (launchId: string) => GateAuthority;
  readSecret: SecretReader;
  audit: (fields: AuditFields) => void;
  onLog: (line: string, launchId: string) => void;
  onEvent?: (event: ProcessEvent, detail: { launchId: string; reason?: string }) => void;
  /** A call stopped being in flight (result, timeout or cancel), before its caller hears of it. */
  onSettled?: () => void;
}

/**
 * One Deno process serving one tool: spawn → handshake → registration → calls → stop.
 * Every call it accepts ends: with the plugin's result, or a typed error when the call's
 * deadline passes, its signal aborts, or the process breaks protocol, crashes or stops.
 * It owns the lifecycle and wires the rest: the launch handshake (handshake/), the channel
 * and its gate (channel/), the call ledger, secret requests (capabilities/).
 */
export class ToolProcess {
  readonly launchId = newId();
  /** The one state machine: the channel derives its state from this (see #channelState). */
  state: ProcessState = 'launching';
  /** Resolves once the process has exited and its outcome is recorded. */
  readonly exited: Promise<void>;
  readonly #o: ToolProcessOptions;
  readonly #calls: CallLedger;
  readonly #handshake: LaunchHandshake;
  readonly #secrets: SecretRequests;
  #child!: DenoProcess;
  #denoDir!: string;
  #channel!: HostChannel;
  #stderr!: StderrLines;
  #ready!: { promise: Promise<void>; resolve(): void; reject(error: PluginRuntimeError): void };
  #acked: (() => void) | undefined;
  #ended: PluginRuntimeError | null = null;
  #markExited!: () => void;
  #watches: ProcessWatches | undefined;
  #heapExhausted = false;
  /** When the process became ready; the pool uses it to tell a healthy run from a crash loop. */
  readyAt = 0;

  constructor(options: ToolProcessOptions) {
    this.#o = options;
    this.exited = new Promise((resolve) => (this.#markExited = resolve));
    const { config } = options;
    this.#calls = new CallLedger({
      tool: options.tool,
      cancelGraceMs: config.calls.cancelGraceMs,
      sendCall: (frame) => this.#channel.sendCall(frame),
      send: (message) => this.#channel.send(message),
      onBusy: () => this.#o.onEvent?.('busy', { launchId: this.launchId }),
      onSettled: () => this.#o.onSettled?.(),
      onIdle: () => {
        if (this.state === 'ready') this.#o.onEvent?.('idle', { launchId: this.launchId });
      },
      onIgnoredCancel: (error) => this.#end(error, 'ignored cancel'),
      onViolation: (violation) => this.#onViolation(violation, false),
    });
    this.#handshake = new LaunchHandshake({
      launchId: this.launchId,
      plugin: options.plugin,
      tool: options.tool,
      grants: options.grants,
      timeoutMs: config.handshake.timeoutMs,
      maxFrameBytes: config.channel.maxFrameBytes,
      heartbeatIntervalMs: config.heartbeat.intervalMs,
      tokens: options.tokens,
      capabilityTokens: () => options.capabilityTokens(this.launchId),
      send: (message) => this.#channel.send(message),
      midFrame: () => this.#channel.midFrame,
      onOpened: () => this.#audit({ type: 'handshake_ok' }),
      onRegistered: () => this.#onRegistered(),
      onFailed: (reason) => this.#handshakeFailed(reason),
      onViolation: (violation) => this.#onViolation(violation, false),
    });
    this.#secrets = new SecretRequests({
      auditDenialsPerLaunch: config.limits.auditDenialsPerLaunch,
      read: (request) => options.readSecret(request, { launchId: this.launchId, inFlight: (callId) => this.#calls.has(callId) }),
      send: (reply) => this.#channel.send(reply),
      offer: (reply) => this.#channel.offer(reply),
      audit: (record) => this.#audit(record),
    });
  }

  /** The OS process id, once spawned. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get inFlight(): number {
    return this.#calls.size;
  }

  /** Spawns the process and resolves when it has registered its tool. */
  start(): Promise<void> {
    if (this.#ended) return Promise.reject(this.#ended);
    const { config, tokens } = this.#o;
    let resolve!: () => void;
    let reject!: (error: PluginRuntimeError) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    promise.catch(() => {});
    this.#ready = { promise, resolve, reject };

    try {
      this.#denoDir = createProcessStorage(this.#o.storageRoot, this.launchId);
    } catch (cause) {
      // Never spawned: nothing to wait for, and no storage to remove.
      this.#ended = new PluginRuntimeError('plugin_crashed', `the ${this.#o.tool} process could not be given its storage folder`, { cause });
      this.state = 'crashed';
      this.#markExited();
      return Promise.reject(this.#ended);
    }
    const token = tokens.issue(this.launchId, config.handshake.timeoutMs);
    this.#child = spawnDeno({ command: this.#o.command, token, denoDir: this.#denoDir });
    this.#o.onEvent?.('starting', { launchId: this.launchId });
    this.#audit({
      type: 'launch',
      argv: this.#o.argv,
      wrapper: this.#o.command[1].slice(0, this.#o.command[1].length - this.#o.argv.length),
      grants: this.#o.grants,
      pid: this.#child.pid ?? null,
    });
    this.#channel = new HostChannel(this.#child.stdout, this.#child.stdin, config.channel, {
      state: () => this.#channelState(),
      authority: this.#o.authority(this.launchId),
      onMessage: (message) => this.#onMessage(message),
      onRefused: (message, refusal) => this.#onRefused(message, refusal),
      onViolation: (violation, beforeFirst) => this.#onViolation(violation, beforeFirst),
    });
    this.#stderr = new StderrLines(
      this.#child.stderr,
      {
        maxLineBytes: config.limits.stderrLineBytes,
        linesPerSecond: config.limits.stderrLinesPerSecond,
        tailLines: config.limits.stderrTailLines,
      },
      (line) => {
        if (HEAP_EXHAUSTED.test(line)) this.#heapExhausted = true;
        this.#o.onLog(line, this.launchId);
      },
    );
    this.#child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.#onClose(code, signal));
    this.#child.on('error', () => {}); // a spawn failure also ends in 'close'
    this.#handshake.start();
    this.state = 'handshaking';
    return promise;
  }

  /**
   * Sends a call and resolves with the tool's value.
   * @throws PluginRuntimeError `timeout`, `cancelled`, `tool_failed`, `protocol_violation`,
   *   `plugin_crashed`, `shutting_down`.
   */
  call(tool: string, args: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended);
    if (this.state !== 'ready') return Promise.reject(new PluginRuntimeError('shutting_down', `process is ${this.state}`));
    if (signal?.aborted) return Promise.reject(new PluginRuntimeError('cancelled', 'the call was cancelled before it started'));
    const id = newId();
    let frame: Uint8Array;
    try {
      frame = encodeFrame({ type: 'call', id, tool, args, timeoutMs }, this.#o.config.channel.maxFrameBytes);
    } catch (error) {
      // Too large to send: the caller's mistake, never the plugin's, so the process lives on.
      return Promise.reject(
        new PluginRuntimeError('invalid_arguments', `arguments for ${tool} do not fit in one frame: ${(error as Error).message}`),
      );
    }
    return this.#calls.add(id, frame, timeoutMs, signal);
  }

  /**
   * Stops the process: `shutdown`, then up to the grace period for `shutdown.ack` and exit,
   * then SIGKILL (plugin code can ignore SIGTERM, not SIGKILL). In-flight calls end with
   * `shutting_down`.
   */
  async stop(reason = 'stop'): Promise<void> {
    if (this.state === 'launching' && this.#child === undefined) {
      // Never spawned (the pool may hold it through a restart backoff): there is no exit
      // to wait for, so it is stopped now and can no longer start.
      this.#ended ??= new PluginRuntimeError('shutting_down', `the ${this.#o.tool} process was stopped before it started (${reason})`);
      this.state = 'stopped';
      this.#markExited();
      return;
    }
    if (this.#ended || this.state === 'launching') {
      await this.exited;
      return;
    }
    const graceMs = this.#o.config.shutdown.graceMs;
    this.#calls.failAll(new PluginRuntimeError('shutting_down', `the ${this.#o.tool} process is stopping (${reason})`));
    const wasReady = this.state === 'ready';
    this.state = 'draining';
    // A stopping process is not judged by pings: the shutdown grace bounds it instead.
    this.#watches?.stopHeartbeat();
    this.#audit({ type: 'shutdown', reason });
    const acked = new Promise<void>((resolve) => (this.#acked = resolve));
    if (wasReady) this.#channel.send({ type: 'shutdown', graceMs });
    const grace = delay(graceMs);
    await Promise.race([wasReady ? acked : Promise.resolve(), this.exited, grace.promise]);
    this.#channel.close();
    await Promise.race([this.exited, grace.promise]);
    grace.cancel();
    if (!this.#ended) this.#kill(`no exit within the ${graceMs} ms shutdown grace`);
    await this.exited;
  }

  /** The channel's view of the lifecycle: the handshake splits `handshaking` at `welcome`. */
  #channelState(): ChannelState {
    switch (this.state) {
      case 'launching':
      case 'handshaking':
        return this.#handshake.awaiting === 'hello' ? 'handshaking' : 'registering';
      case 'ready':
      case 'draining':
        return this.state;
      default:
        return 'closed';
    }
  }

  #onMessage(message: PluginToHostMessage): void {
    switch (message.type) {
      case 'hello':
        return this.#handshake.hello(message.token, message.protocol);
      case 'tools.register':
        return this.#handshake.register(message.tools);
      case 'result':
        return this.#calls.settle(message);
      case 'secret.get':
        return void this.#secrets.admitted(message);
      case 'shutdown.ack':
        this.#acked?.();
        return;
      case 'pong':
        this.#watches?.pong(message.seq);
        return;
    }
  }

  /** A gated message the channel gate refused; its catalogue row said `end` or `reply`. */
  #onRefused(message: PluginToHostMessage, refusal: Refusal): void {
    switch (message.type) {
      case 'secret.get':
        return this.#secrets.refuse(message, 'capability_denied', describeSecretRefusal(refusal, this.#o.plugin, `${this.#o.plugin}/${this.#o.tool}`));
      case 'tools.register':
        this.#audit({ type: 'capability_denied', capability: 'provide-tools', reason: 'tools.register without provide-tools' });
        return this.#end(
          new PluginRuntimeError('capability_denied', `plugin ${this.#o.plugin} is not granted provide-tools, so it cannot serve ${this.#o.tool}`),
          'provide-tools not granted',
        );
      default:
        // A row the handlers above do not know yet: refused all the same, never let through.
        this.#audit({ type: 'capability_denied', capability: refusal.capability, scope: refusal.scope, reason: `${refusal.type} refused at ${refusal.step}` });
        return this.#end(new PluginRuntimeError('capability_denied', `${refusal.type} needs ${refusal.capability}`), `${refusal.capability} not granted`);
    }
  }

  #onRegistered(): void {
    this.state = 'ready';
    this.readyAt = Date.now();
    this.#startWatches();
    this.#o.onEvent?.('ready', { launchId: this.launchId });
    this.#ready.resolve();
  }
  #startWatches(): void {
    const { heartbeat, limits } = this.#o.config;
    this.#watches = startWatches({
      pid: this.#child.pid,
      heartbeatIntervalMs: heartbeat.intervalMs,
      missedLimit: heartbeat.missedLimit,
      rssCheckIntervalMs: limits.rssCheckIntervalMs,
      rssMb: this.#o.rssMb,
      ping: (seq) => this.#channel.send({ type: 'ping', seq }),
      onUnresponsive: (missedPings) => {
        this.#o.onEvent?.('unresponsive', { launchId: this.launchId, reason: `${missedPings} pings unanswered` });
        this.#end(
          new PluginRuntimeError('plugin_crashed', `the ${this.#o.tool} process stopped answering pings and was killed`, {
            details: { reason: 'unresponsive', missedPings },
          }),
          'unresponsive',
        );
      },
      onRssExceeded: (rssMb) =>
        this.#end(
          new PluginRuntimeError('resource_exhausted', `the ${this.#o.tool} process passed its memory limit: rss ${rssMb} MB > ${this.#o.rssMb} MB`, {
            details: { limit: 'rss', rssMb, limitMb: this.#o.rssMb },
          }),
          'rss limit',
        ),
    });
  }

  #onViolation(violation: Violation, beforeFirstMessage: boolean): void {
    if (this.state === 'handshaking' && this.#handshake.violation(violation, beforeFirstMessage)) return;
    this.#audit({ type: 'protocol_violation', reason: violation.reason, detail: violation.detail, ...violation.facts });
    this.#end(
      new PluginRuntimeError('protocol_violation', `plugin ${this.#o.plugin} (${this.#o.tool}) broke the protocol: ${violation.detail}`, {
        details: { reason: violation.reason },
      }),
      `protocol violation: ${violation.reason}`,
    );
  }

  #handshakeFailed(reason: HandshakeFailureReason): void {
    if (this.#ended) return;
    this.#audit({ type: 'handshake_failed', reason });
    this.#end(
      new PluginRuntimeError('handshake_failed', `plugin ${this.#o.plugin} (${this.#o.tool}) failed the launch handshake: ${reason}`, {
        details: { reason, stderr: this.#stderr?.tail() ?? [] },
      }),
      `handshake failed: ${reason}`,
    );
  }

  #onClose(code: number | null, signal: NodeJS.Signals | null): void {
    const withheld = this.#channel?.framesWithheld ?? 0;
    this.#audit({
      type: 'exit',
      exitCode: code,
      signal,
      ...(this.#secrets.denialsUnrecorded > 0 ? { denialsUnrecorded: this.#secrets.denialsUnrecorded } : {}),
      ...(withheld > 0 ? { repliesWithheld: withheld } : {}),
    });
    if (!this.#ended) {
      if (this.state === 'draining') {
        this.#ended = new PluginRuntimeError('shutting_down', `the ${this.#o.tool} process stopped`);
        this.#ready.reject(this.#ended);
      } else if (this.state === 'launching' || this.state === 'handshaking') {
        this.#handshake.fail('exited');
      } else {
        const facts = { plugin: this.#o.plugin, tool: this.#o.tool, code, signal, heapExhausted: this.#heapExhausted };
        this.#end(exitError({ ...facts, stderrTail: this.#stderr.tail() }), `exited (${signal ? `signal ${signal}` : `exit code ${code}`})`, false);
      }
    }
    this.#watches?.stop();
    this.state = this.state === 'draining' ? 'stopped' : 'crashed';
    this.#o.onEvent?.(this.state === 'stopped' ? 'stopped' : 'crashed', { launchId: this.launchId, reason: this.#ended?.code });
    this.#calls.forgetCancelled();
    this.#o.tokens.retire(this.launchId);
    // Its localStorage and caches go with it; `exited` means the storage is gone too.
    void removeProcessStorage(this.#denoDir).then(() => this.#markExited());
  }

  /** Ends the process once: records why, fails every call, kills. */
  #end(error: PluginRuntimeError, reason: string, kill = true): void {
    if (this.#ended) return;
    this.#ended = error;
    this.#handshake.dispose();
    this.#watches?.stop();
    this.#ready.reject(error);
    this.#calls.failAll(error);
    this.#channel.close();
    if (this.state !== 'draining') this.state = 'crashed';
    if (kill) this.#kill(reason);
  }

  #kill(reason: string): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#audit({ type: 'kill', reason, signal: 'SIGKILL' });
    this.#child.kill('SIGKILL');
  }

  #audit(fields: Omit<AuditFields, 'plugin' | 'tool' | 'launchId'>): void {
    this.#o.audit({ plugin: this.#o.plugin, tool: this.#o.tool, launchId: this.launchId, ...fields } as AuditFields);
  }
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}
