import type { AuditFields } from '../audit/audit-record.ts';
import { SecretRequests } from '../capabilities/secret-requests.ts';
import { dispatchByType } from '../channel/channel-gate.ts';
import { HostChannel } from '../channel/host-channel.ts';
import type { Violation } from '../channel/parse-inbound.ts';
import { PluginRuntimeError } from '../errors.ts';
import { LaunchHandshake } from '../handshake/launch-handshake.ts';
import type { HandshakeFailureReason } from '../handshake/token-registry.ts';
import { wrapperOf } from '../launch/os-limits.ts';
import { denoPidOf } from '../launch/sandbox/sandboxed-pid.ts';
import { removeProcessStorage } from '../launch/process-storage.ts';
import type { DenoProcess } from '../launch/spawn-deno.ts';
import type { StderrLines } from '../launch/stderr-lines.ts';
import { newId } from '../new-id.ts';
import { delay } from '../timers.ts';
import { CallLedger, type CallRequest } from './call-ledger.ts';
import { exitError, HEAP_EXHAUSTED, handshakeError, rssExceededError, unresponsiveError, violationError } from './exit-error.ts';
import { type ProcessWatches, startWatches } from './process-watches.ts';
import { spawnTool } from './spawn-tool.ts';
import { channelStateOf, type EgressLease, type ProcessState, type ToolProcessOptions } from './tool-process-options.ts';
import type { EgressLimitName } from '../egress/connection-budget.ts';

export type { ProcessEvent, ProcessState, SecretReader, ToolProcessOptions } from './tool-process-options.ts';

/**
 * One Deno process serving one tool: spawn → handshake → registration → calls → stop.
 * Every call it accepts ends: with the plugin's result, or a typed error when the call's
 * deadline passes, its signal aborts, or the process breaks protocol, crashes or stops.
 * It owns the lifecycle and wires the rest: the launch handshake (handshake/), the channel
 * and its gate (channel/), the call ledger, secret requests (capabilities/).
 */
export class ToolProcess {
  readonly launchId = newId();
  /** The one state machine: the channel derives its state from this (see channelStateOf). */
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
  #ready!: { resolve(): void; reject(error: PluginRuntimeError): void };
  #acked: (() => void) | undefined;
  #ended: PluginRuntimeError | null = null;
  #markExited!: () => void;
  #watches: ProcessWatches | undefined;
  #heapExhausted = false;
  #egress: EgressLease | undefined;
  /** When the process became ready; the pool uses it to tell a healthy run from a crash loop. */
  readyAt = 0;

  constructor(options: ToolProcessOptions) {
    this.#o = options;
    this.exited = new Promise((resolve) => (this.#markExited = resolve));
    const { config } = options;
    this.#calls = new CallLedger({
      tool: options.tool,
      maxFrameBytes: config.channel.maxFrameBytes,
      cancelGraceMs: config.calls.cancelGraceMs,
      progressPerSecond: config.calls.progressPerSecond,
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
      config,
      tokens: options.tokens,
      capabilityTokens: () => options.capabilityTokens(this.launchId),
      send: (message) => this.#channel.send(message),
      midFrame: () => this.#channel.midFrame,
      onOpened: () => this.#audit({ type: 'handshake_ok' }),
      onRegistered: () => this.#onRegistered(),
      onFailed: (reason) => this.#handshakeFailed(reason),
      onViolation: (violation) => this.#onViolation(violation, false),
      onHandlers: (handlers) => options.onHandlers?.(handlers),
    });
    this.#secrets = new SecretRequests({
      plugin: options.plugin,
      tool: options.tool,
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
    const promise = new Promise<void>((resolve, reject) => (this.#ready = { resolve, reject }));
    promise.catch(() => {});

    try {
      this.#egress = this.#o.egress?.(this.launchId, { inFlight: () => this.#calls.size, exhausted: (limit, message) => this.#egressExhausted(limit, message) });
      ({ child: this.#child, denoDir: this.#denoDir, stderr: this.#stderr } = spawnTool({
        ...this.#o,
        ...(this.#egress ? { extraEnv: this.#egress.env } : {}),
        launchId: this.launchId,
        issueToken: () => tokens.issue(this.launchId, config.handshake.timeoutMs),
        limits: config.limits,
        onLine: (line) => {
          if (HEAP_EXHAUSTED.test(line)) this.#heapExhausted = true;
          this.#o.onLog(line, this.launchId);
        },
      }));
    } catch (error) {
      if (!(error instanceof PluginRuntimeError)) throw error;
      // Never spawned: nothing to wait for, and no storage to remove.
      this.#egress?.revoke();
      this.#ended = error;
      this.state = 'crashed';
      this.#markExited();
      return Promise.reject(this.#ended);
    }
    this.#o.onEvent?.('starting', { launchId: this.launchId });
    this.#audit({
      type: 'launch',
      argv: this.#o.argv,
      wrapper: wrapperOf(this.#o.command, this.#o.argv),
      deno: [this.#o.command[0], ...this.#o.command[1]].at(-this.#o.argv.length - 1)!,
      grants: this.#o.grants,
      pid: this.#child.pid ?? null,
    });
    this.#channel = new HostChannel(this.#child.stdout, this.#child.stdin, config.channel, {
      state: () => channelStateOf(this.state, this.#handshake.awaiting),
      authority: this.#o.authority(this.launchId),
      // One handler per inbound type; one per gated type for what the gate refused.
      ...dispatchByType(
        {
          hello: (message) => this.#handshake.hello(message.token, message.protocol),
          'tools.register': (message) => this.#handshake.register(message.tools, message.handlers),
          result: (message) => this.#calls.settle(message),
          'secret.get': (message) => void this.#secrets.admitted(message),
          'shutdown.ack': () => this.#acked?.(),
          pong: (message) => this.#watches?.pong(message.seq),
          progress: (message) => this.#calls.progress(message),
        },
        {
          'tools.register': () => this.#registrationRefused(),
          'secret.get': (message, refusal) => this.#secrets.refused(message, refusal),
        },
      ),
      onViolation: (violation, beforeFirst) => this.#onViolation(violation, beforeFirst),
    });
    this.#child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.#onClose(code, signal));
    this.#child.on('error', () => {}); // a spawn failure also ends in 'close'
    this.#handshake.start();
    this.state = 'handshaking';
    return promise;
  }

  /**
   * Sends a call and resolves with the tool's value.
   * @throws PluginRuntimeError `timeout`, `cancelled`, `tool_failed`, `protocol_violation`,
   *   `plugin_crashed`, `shutting_down`, `invalid_arguments`.
   */
  call(tool: string, args: unknown, request: CallRequest): Promise<unknown> {
    if (this.#ended) return Promise.reject(this.#ended);
    if (this.state !== 'ready') return Promise.reject(new PluginRuntimeError('shutting_down', `process is ${this.state}`));
    const result = this.#calls.add(tool, args, request);
    if (this.#calls.size > 0) this.#egress?.callStarted();
    return result;
  }

  /**
   * The tool passed an egress limit: its calls in flight end with `resource_exhausted`
   * (each sent a `cancel`); the process lives on, as after a timeout.
   */
  #egressExhausted(limit: EgressLimitName, message: string): void {
    if (this.#calls.size === 0) return;
    this.#audit({ type: 'egress_limit', limit, reason: message });
    this.#calls.abortAll(new PluginRuntimeError('resource_exhausted', `${this.#o.tool} passed its egress limit: ${message}`, { details: { limit } }));
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

  /** Provide-tools is what a tool process is for: without it the process ends. */
  #registrationRefused(): void {
    this.#audit({ type: 'capability_denied', capability: 'provide-tools', reason: 'tools.register without provide-tools' });
    const { plugin, tool } = this.#o;
    this.#end(new PluginRuntimeError('capability_denied', `plugin ${plugin} is not granted provide-tools, so it cannot serve ${tool}`), 'provide-tools not granted');
  }

  #onRegistered(): void {
    this.state = 'ready';
    this.readyAt = Date.now();
    const { heartbeat, limits } = this.#o.config;
    this.#watches = startWatches({
      rssPid: () => denoPidOf(this.#o.command, this.#child.pid),
      heartbeatIntervalMs: heartbeat.intervalMs,
      missedLimit: heartbeat.missedLimit,
      rssCheckIntervalMs: limits.rssCheckIntervalMs,
      rssMb: this.#o.rssMb,
      ping: (seq) => this.#channel.send({ type: 'ping', seq }),
      onUnresponsive: (missedPings) => {
        this.#o.onEvent?.('unresponsive', { launchId: this.launchId, reason: `${missedPings} pings unanswered` });
        this.#end(unresponsiveError(this.#o.tool, missedPings), 'unresponsive');
      },
      onRssExceeded: (rssMb) => this.#end(rssExceededError(this.#o.tool, rssMb, this.#o.rssMb), 'rss limit'),
    });
    this.#o.onEvent?.('ready', { launchId: this.launchId });
    this.#ready.resolve();
  }

  #onViolation(violation: Violation, beforeFirstMessage: boolean): void {
    if (this.state === 'handshaking' && this.#handshake.violation(violation, beforeFirstMessage)) return;
    this.#audit({ type: 'protocol_violation', reason: violation.reason, detail: violation.detail, ...violation.facts });
    this.#end(violationError(this.#o.plugin, this.#o.tool, violation), `protocol violation: ${violation.reason}`);
  }

  #handshakeFailed(reason: HandshakeFailureReason): void {
    if (this.#ended) return;
    this.#audit({ type: 'handshake_failed', reason });
    this.#end(handshakeError(this.#o.plugin, this.#o.tool, reason, this.#stderr?.tail() ?? []), `handshake failed: ${reason}`);
  }

  #onClose(code: number | null, signal: NodeJS.Signals | null): void {
    this.#egress?.revoke();
    const counts = {
      denialsUnrecorded: this.#secrets.denialsUnrecorded,
      repliesWithheld: this.#channel?.framesWithheld ?? 0,
      progressDropped: this.#calls.progressDropped,
      egressUnrecorded: this.#egress?.unrecorded ?? 0,
    };
    // Only a counter that counted something goes on record.
    this.#audit({ type: 'exit', exitCode: code, signal, ...(Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)) as Partial<typeof counts>) });
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
