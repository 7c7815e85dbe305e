import type { PluginToHostMessage, SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import { MAX_ERROR_MESSAGE_CHARS, PROTOCOL_VERSION } from '../../plugin-sdk/protocol/constants.ts';
import { encodeFrame } from '../../plugin-sdk/protocol/frame.ts';
import type { AuditFields } from '../audit/audit-record.ts';
import { HostChannel } from '../channel/host-channel.ts';
import type { Violation } from '../channel/parse-inbound.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import { printableText } from '../printable-text.ts';
import type { Grants } from '../grants/grants.ts';
import type { HandshakeFailureReason, TokenRegistry } from '../handshake/token-registry.ts';
import { createProcessStorage, removeProcessStorage } from '../launch/process-storage.ts';
import { type DenoProcess, spawnDeno } from '../launch/spawn-deno.ts';
import { StderrLines } from '../launch/stderr-lines.ts';
import { newId } from '../new-id.ts';
import { exitError, HEAP_EXHAUSTED } from './exit-error.ts';
import { type ProcessWatches, startWatches } from './process-watches.ts';

export type ProcessState = 'launching' | 'handshaking' | 'ready' | 'draining' | 'stopped' | 'crashed';

/** What the supervisor reports about a process, beyond its state. */
export type ProcessEvent = 'starting' | 'ready' | 'busy' | 'idle' | 'unresponsive' | 'crashed' | 'stopped';



/** Answers a plugin's `secret.get`: the value, or a typed refusal. Supplied by the capability layer. */
export type SecretRequestHandler = (
  request: SecretGetMessage,
  process: { launchId: string; inFlight: (callId: string) => boolean },
) => Promise<{ ok: true; value: string } | { ok: false; code: string; message: string }>;

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
  onSecretRequest: SecretRequestHandler;
  audit: (fields: AuditFields) => void;
  onLog: (line: string, launchId: string) => void;
  onEvent?: (event: ProcessEvent, detail: { launchId: string; reason?: string }) => void;
  /** A call stopped being in flight (result, timeout or cancel), before its caller hears of it. */
  onSettled?: () => void;
}

interface PendingCall {
  resolve(value: unknown): void;
  reject(error: PluginRuntimeError): void;
  cleanup(): void;
}

const HANDSHAKE_FRAME_FAULTS = new Set<Violation['reason']>([
  'empty_frame', 'frame_too_large', 'not_json', 'not_object', 'stream_ended_mid_frame',
]);

/**
 * One Deno process serving one tool: spawn → handshake → registration → calls → stop.
 * Every call it accepts ends: with the plugin's result, or a typed error when the call's
 * deadline passes, its signal aborts, or the process breaks protocol, crashes or stops.
 */
export class ToolProcess {
  readonly launchId = newId();
  state: ProcessState = 'launching';
  /** Resolves once the process has exited and its outcome is recorded. */
  readonly exited: Promise<void>;
  readonly #o: ToolProcessOptions;
  readonly #pending = new Map<string, PendingCall>();
  /** Calls cancelled by the host whose late result is still allowed, with their kill timers. */
  readonly #cancelled = new Map<string, NodeJS.Timeout>();
  #child!: DenoProcess;
  #denoDir!: string;
  #channel!: HostChannel;
  #stderr!: StderrLines;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #ready!: { promise: Promise<void>; resolve(): void; reject(error: PluginRuntimeError): void };
  #acked: (() => void) | undefined;
  #ended: PluginRuntimeError | null = null;
  #markExited!: () => void;
  #watches: ProcessWatches | undefined;
  #heapExhausted = false;
  #denials = 0;
  #denialsUnrecorded = 0;
  /** When the process became ready; the pool uses it to tell a healthy run from a crash loop. */
  readyAt = 0;

  constructor(options: ToolProcessOptions) {
    this.#o = options;
    this.exited = new Promise((resolve) => (this.#markExited = resolve));
  }

  /** The OS process id, once spawned. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get inFlight(): number {
    return this.#pending.size;
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
      onMessage: (message) => this.#onMessage(message),
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
    this.#handshakeTimer = setTimeout(() => {
      // Part of a frame and nothing whole: the plugin wrote bytes that are not the protocol.
      this.#failHandshake(this.#channel.midFrame ? 'garbage' : 'timeout');
    }, config.handshake.timeoutMs);
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
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.#cancel(id, 'timeout', `${tool} did not finish within ${timeoutMs} ms`), timeoutMs);
      const onAbort = () => this.#cancel(id, 'cancelled', `${tool} was cancelled by the caller`);
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.#pending.set(id, { resolve, reject, cleanup });
      if (this.#pending.size === 1) this.#o.onEvent?.('busy', { launchId: this.launchId });
      this.#channel.sendCall(frame);
    });
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
    this.#endCalls(new PluginRuntimeError('shutting_down', `the ${this.#o.tool} process is stopping (${reason})`));
    const wasReady = this.state === 'ready';
    this.state = 'draining';
    this.#channel.state = 'draining';
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

  #onMessage(message: PluginToHostMessage): void {
    switch (message.type) {
      case 'hello':
        return this.#onHello(message.token, message.protocol);
      case 'tools.register':
        return this.#onRegister(message.tools);
      case 'result': {
        const pending = this.#pending.get(message.id);
        if (pending) {
          this.#settled(message.id);
          pending.cleanup();
          if (message.ok) pending.resolve(message.value);
          else pending.reject(toolFailed(this.#o.tool, message.error));
          return;
        }
        const killTimer = this.#cancelled.get(message.id);
        if (killTimer) {
          clearTimeout(killTimer);
          this.#cancelled.delete(message.id);
          return;
        }
        return this.#onViolation({ reason: 'unknown_call_id', type: 'result', detail: `result for unknown call id ${message.id}` }, false);
      }
      case 'secret.get':
        return void this.#onSecretGet(message);
      case 'shutdown.ack':
        this.#acked?.();
        return;
      case 'pong':
        this.#watches?.pong(message.seq);
        return;
    }
  }

  #onHello(token: string, protocol: number): void {
    const failure = this.#o.tokens.redeem(this.launchId, token);
    if (failure) return this.#failHandshake(failure);
    if (protocol !== PROTOCOL_VERSION) return this.#failHandshake('protocol_mismatch');
    this.#audit({ type: 'handshake_ok' });
    this.#channel.state = 'registering';
    this.#channel.send({
      type: 'welcome',
      launchId: this.launchId,
      plugin: this.#o.plugin,
      tools: [this.#o.tool],
      grants: this.#o.grants,
      capabilityTokens: this.#o.capabilityTokens(this.launchId),
      limits: { maxFrameBytes: this.#o.config.channel.maxFrameBytes },
      heartbeatIntervalMs: this.#o.config.heartbeat.intervalMs,
    });
  }

  #onRegister(tools: string[]): void {
    if (!this.#o.grants.provideTools) {
      this.#audit({ type: 'capability_denied', capability: 'provide-tools', reason: 'tools.register without provide-tools' });
      return this.#end(
        new PluginRuntimeError('capability_denied', `plugin ${this.#o.plugin} is not granted provide-tools, so it cannot serve ${this.#o.tool}`),
        'provide-tools not granted',
      );
    }
    if (tools.length !== 1 || tools[0] !== this.#o.tool) {
      return this.#onViolation(
        { reason: 'unexpected_tools', type: 'tools.register', detail: `registered [${tools.join(', ')}], launched for [${this.#o.tool}]` },
        false,
      );
    }
    clearTimeout(this.#handshakeTimer);
    this.#channel.state = 'ready';
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

  #settled(id: string): void {
    this.#pending.delete(id);
    this.#o.onSettled?.();
    if (this.#pending.size === 0 && this.state === 'ready') this.#o.onEvent?.('idle', { launchId: this.launchId });
  }

  async #onSecretGet(request: SecretGetMessage): Promise<void> {
    const answer = await this.#o.onSecretRequest(request, {
      launchId: this.launchId,
      inFlight: (callId) => this.#pending.has(callId),
    });
    if (answer.ok) {
      try {
        this.#channel.send({ type: 'reply', requestId: request.requestId, ok: true, value: answer.value });
      } catch {
        // A value too large for one frame: refuse it rather than throw where nothing catches.
        this.#channel.send({
          type: 'reply',
          requestId: request.requestId,
          ok: false,
          error: { code: 'secret_unavailable', message: `the value of ${request.name} does not fit in one frame` },
        });
      }
    } else {
      const reply = { type: 'reply', requestId: request.requestId, ok: false, error: { code: answer.code, message: answer.message } } as const;
      // Past the budget the plugin is flooding: a refusal it is too far behind to read is withheld.
      if (this.#recordDenial(request.name, answer.code)) this.#channel.send(reply);
      else this.#channel.offer(reply);
    }
  }

  /**
   * A plugin looping on refusals must not fill the operator's disk: past
   * `limits.auditDenialsPerLaunch` records, one more says so and the rest are counted into
   * this launch's `exit` record. Returns false past the budget.
   */
  #recordDenial(scope: string, code: string): boolean {
    const budget = this.#o.config.limits.auditDenialsPerLaunch;
    this.#denials++;
    if (this.#denials <= budget) {
      this.#audit({ type: 'capability_denied', capability: 'access-secret', scope, reason: code });
    } else if (this.#denials === budget + 1) {
      this.#audit({ type: 'capability_denied', capability: 'access-secret', scope, reason: code, suppressingFurther: true });
    } else {
      this.#denialsUnrecorded++;
      return false;
    }
    return true;
  }

  #onViolation(violation: Violation, beforeFirstMessage: boolean): void {
    if (this.state === 'handshaking' && this.#channel.state === 'handshaking') {
      const frameFault = HANDSHAKE_FRAME_FAULTS.has(violation.reason) || (violation.reason === 'schema_mismatch' && violation.type === 'hello');
      return this.#failHandshake(frameFault && beforeFirstMessage ? 'garbage' : 'frame_before_hello');
    }
    this.#audit({ type: 'protocol_violation', reason: violation.reason, detail: violation.detail, ...violation.facts });
    this.#end(
      new PluginRuntimeError('protocol_violation', `plugin ${this.#o.plugin} (${this.#o.tool}) broke the protocol: ${violation.detail}`, {
        details: { reason: violation.reason },
      }),
      `protocol violation: ${violation.reason}`,
    );
  }

  #failHandshake(reason: HandshakeFailureReason): void {
    if (this.#ended) return;
    this.#o.tokens.burn(this.launchId);
    this.#audit({ type: 'handshake_failed', reason });
    this.#end(
      new PluginRuntimeError('handshake_failed', `plugin ${this.#o.plugin} (${this.#o.tool}) failed the launch handshake: ${reason}`, {
        details: { reason, stderr: this.#stderr?.tail() ?? [] },
      }),
      `handshake failed: ${reason}`,
    );
  }

  #cancel(id: string, code: 'timeout' | 'cancelled', message: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#settled(id);
    pending.cleanup();
    pending.reject(new PluginRuntimeError(code, message));
    this.#channel.send({ type: 'cancel', id, reason: code });
    const graceMs = this.#o.config.calls.cancelGraceMs;
    this.#cancelled.set(
      id,
      setTimeout(() => {
        this.#cancelled.delete(id);
        this.#end(
          new PluginRuntimeError('plugin_crashed', `the ${this.#o.tool} process was killed: call ${id} ignored cancel for ${graceMs} ms`),
          'ignored cancel',
        );
      }, graceMs),
    );
  }

  #onClose(code: number | null, signal: NodeJS.Signals | null): void {
    const withheld = this.#channel?.framesWithheld ?? 0;
    this.#audit({
      type: 'exit',
      exitCode: code,
      signal,
      ...(this.#denialsUnrecorded > 0 ? { denialsUnrecorded: this.#denialsUnrecorded } : {}),
      ...(withheld > 0 ? { repliesWithheld: withheld } : {}),
    });
    if (!this.#ended) {
      if (this.state === 'draining') {
        this.#ended = new PluginRuntimeError('shutting_down', `the ${this.#o.tool} process stopped`);
        this.#ready.reject(this.#ended);
      } else if (this.state === 'launching' || this.state === 'handshaking') {
        this.#failHandshake('exited');
      } else {
        const facts = { plugin: this.#o.plugin, tool: this.#o.tool, code, signal, heapExhausted: this.#heapExhausted };
        this.#end(exitError({ ...facts, stderrTail: this.#stderr.tail() }), `exited (${signal ? `signal ${signal}` : `exit code ${code}`})`, false);
      }
    }
    this.#watches?.stop();
    this.state = this.state === 'draining' ? 'stopped' : 'crashed';
    this.#o.onEvent?.(this.state === 'stopped' ? 'stopped' : 'crashed', { launchId: this.launchId, reason: this.#ended?.code });
    for (const timer of this.#cancelled.values()) clearTimeout(timer);
    this.#cancelled.clear();
    this.#o.tokens.retire(this.launchId);
    // Its localStorage and caches go with it; `exited` means the storage is gone too.
    void removeProcessStorage(this.#denoDir).then(() => this.#markExited());
  }

  /** Ends the process once: records why, fails every call, kills. */
  #end(error: PluginRuntimeError, reason: string, kill = true): void {
    if (this.#ended) return;
    this.#ended = error;
    clearTimeout(this.#handshakeTimer);
    this.#watches?.stop();
    this.#ready.reject(error);
    this.#endCalls(error);
    this.#channel.close();
    if (this.state !== 'draining') this.state = 'crashed';
    if (kill) this.#kill(reason);
  }

  #endCalls(error: PluginRuntimeError): void {
    for (const pending of this.#pending.values()) {
      pending.cleanup();
      pending.reject(error);
    }
    this.#pending.clear();
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

function toolFailed(tool: string, error: { code: string; message: string }): PluginRuntimeError {
  const message = printableText(error.message.slice(0, MAX_ERROR_MESSAGE_CHARS));
  return new PluginRuntimeError('tool_failed', `${tool} failed: ${message}`, { details: { pluginCode: printableText(error.code) } });
}

function delay(ms: number): { promise: Promise<void>; cancel(): void } {
  let timer: NodeJS.Timeout;
  const promise = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}
