import type { LaunchConfig } from '../config/launch-config.ts';
import { PluginRuntimeError } from '../errors.ts';
import { type CrashHistory, EMPTY_HISTORY, recordCrash, restartDecision } from './restart-policy.ts';
import type { SpawnPacer } from './spawn-pacer.ts';
import type { CallRequest } from './call-ledger.ts';
import type { ToolProcess } from './tool-process.ts';
import type { PoolEvent } from './tool-states.ts';

export interface ToolPoolOptions {
  tool: string;
  idleMs: number;
  /** Calls in flight per process, calls queued for the tool, processes per tool. */
  maxConcurrent: number;
  maxQueued: number;
  maxProcesses: number;
  restart: LaunchConfig['restart'];
  /** Paces spawns across the runtime so a burst of starts does not stall the event loop. */
  pacer?: SpawnPacer;
  /** Creates a fresh, not yet started process for this tool (may throw, e.g. `grant_refused`). */
  create(): ToolProcess;
  onEvent?: (event: PoolEvent, detail: { reason?: string; untilMs?: number; delayMs?: number }) => void;
}

interface Waiter {
  deadline: number;
  resolve(process: ToolProcess): void;
  reject(error: PluginRuntimeError): void;
  cleanup(): void;
}

/**
 * The processes of one tool. Started on first use, kept warm, reaped after `idleMs`
 * without calls, scaled out up to `maxProcesses`. Each process takes `maxConcurrent`
 * calls; beyond that calls wait in a bounded queue, and beyond the queue they fail at
 * once with `overloaded`. A crash is followed by a restart with exponential backoff; too
 * many crashes within the window park the tool (`plugin_parked`) until `reset()` or the
 * window passes. Every call ends within its deadline, waiting included.
 */
export class ToolPool {
  readonly #o: ToolPoolOptions;
  /** Live processes and the call slots reserved on each. */
  readonly #load = new Map<ToolProcess, number>();
  readonly #queue: Waiter[] = [];
  #starting = 0;
  #history: CrashHistory = EMPTY_HISTORY;
  #parkedAnnounced = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ToolPoolOptions) {
    this.#o = options;
  }

  /** Live processes (starting, ready or draining). */
  get processes(): ToolProcess[] {
    return [...this.#load.keys()];
  }

  /** Queued calls waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Runs one call on a process of this tool; `request.timeoutMs` bounds it, waiting for a process included. */
  async call(args: unknown, request: CallRequest): Promise<unknown> {
    const { timeoutMs, signal } = request;
    const deadline = Date.now() + timeoutMs;
    const process = await this.#acquire(deadline, timeoutMs, signal);
    try {
      return await process.call(this.#o.tool, args, { ...request, timeoutMs: Math.max(1, deadline - Date.now()), requestedMs: timeoutMs });
    } finally {
      this.#release(process);
    }
  }

  /** Forgets the crash history: a parked tool may start again. */
  reset(): void {
    this.#history = EMPTY_HISTORY;
    if (this.#parkedAnnounced) this.#o.onEvent?.('unparked', { reason: 'reset' });
    this.#parkedAnnounced = false;
  }

  /** Stops every process of this tool; queued and later calls fail with `shutting_down`. */
  async close(reason = 'close'): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const error = new PluginRuntimeError('shutting_down', `tool ${this.#o.tool} is closing (${reason})`);
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(error);
    }
    await Promise.all(this.processes.map((process) => process.stop(reason)));
  }

  #acquire(deadline: number, timeoutMs: number, signal?: AbortSignal): Promise<ToolProcess> {
    if (this.#closed) return Promise.reject(new PluginRuntimeError('shutting_down', `tool ${this.#o.tool} is closed`));
    if (signal?.aborted) return Promise.reject(new PluginRuntimeError('cancelled', 'the call was cancelled before it started'));
    const parked = this.#parkedUntil();
    if (parked !== null) {
      return Promise.reject(
        new PluginRuntimeError('plugin_parked', `tool ${this.#o.tool} crashed too often and is parked until ${new Date(parked).toISOString()}`, {
          details: { until: parked },
        }),
      );
    }
    clearTimeout(this.#idleTimer);
    const free = this.#freeProcess();
    if (free) {
      this.#load.set(free, this.#load.get(free)! + 1);
      return Promise.resolve(free);
    }
    const capacity = this.#o.maxQueued + this.#starting * this.#o.maxConcurrent;
    const canStart = this.#load.size < this.#o.maxProcesses;
    if (!canStart && this.#queue.length >= capacity) {
      return Promise.reject(
        new PluginRuntimeError('overloaded', `tool ${this.#o.tool} has ${this.#o.maxConcurrent * this.#load.size} calls in flight and ${this.#queue.length} queued`),
      );
    }
    const waiting = new Promise<ToolProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#dequeue(waiter);
        reject(new PluginRuntimeError('timeout', `tool ${this.#o.tool} had no free process within the call's ${timeoutMs} ms deadline`));
      }, Math.max(0, deadline - Date.now()));
      const onAbort = () => {
        this.#dequeue(waiter);
        reject(new PluginRuntimeError('cancelled', 'the call was cancelled while queued'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const waiter: Waiter = {
        deadline,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      this.#queue.push(waiter);
    });
    if (canStart && this.#queue.length > this.#starting * this.#o.maxConcurrent) this.#startProcess();
    return waiting;
  }

  #freeProcess(): ToolProcess | null {
    let best: ToolProcess | null = null;
    for (const [process, load] of this.#load) {
      if (process.state !== 'ready' || load >= this.#o.maxConcurrent) continue;
      if (best === null || load < this.#load.get(best)!) best = process;
    }
    return best;
  }

  #startProcess(): void {
    const decision = restartDecision(this.#history, Date.now(), this.#o.restart);
    if (decision.kind === 'parked') return this.#failQueue(this.#parkedError(decision.until));
    let process: ToolProcess;
    try {
      process = this.#o.create();
    } catch (error) {
      return this.#failQueue(error as PluginRuntimeError);
    }
    this.#load.set(process, 0);
    this.#starting++;
    const delayMs = Math.max(0, decision.notBefore - Date.now());
    if (this.#history.consecutive > 0) this.#o.onEvent?.('restarting', { delayMs, reason: 'after crash' });
    void process.exited.then(() => this.#onExit(process));
    const start = delayMs > 0 ? sleep(delayMs).then(() => this.#launch(process)) : this.#launch(process);
    void start.then(
      () => {
        this.#starting--;
        this.#dispatch();
      },
      (error: PluginRuntimeError) => {
        this.#starting--;
        if (this.#freeProcess() === null && this.#starting === 0) this.#failQueue(error);
      },
    );
  }

  async #launch(process: ToolProcess): Promise<void> {
    await this.#o.pacer?.turn();
    if (this.#closed) throw new PluginRuntimeError('shutting_down', `tool ${this.#o.tool} is closed`);
    return process.start();
  }

  #onExit(process: ToolProcess): void {
    this.#load.delete(process);
    if (process.state === 'crashed') {
      const uptime = process.readyAt > 0 ? Date.now() - process.readyAt : 0;
      this.#history = recordCrash(this.#history, Date.now(), uptime, this.#o.restart);
    }
    // Queued calls need a process: start a replacement (it waits out the backoff).
    if (!this.#closed && this.#queue.length > this.#starting * this.#o.maxConcurrent && this.#load.size < this.#o.maxProcesses) {
      this.#startProcess();
    }
  }

  #release(process: ToolProcess): void {
    const load = this.#load.get(process);
    if (load !== undefined) this.#load.set(process, load - 1);
    this.#dispatch();
    this.#scheduleReap();
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const free = this.#freeProcess();
      if (!free) return;
      const waiter = this.#queue.shift()!;
      waiter.cleanup();
      this.#load.set(free, this.#load.get(free)! + 1);
      waiter.resolve(free);
    }
  }

  #dequeue(waiter: Waiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index !== -1) this.#queue.splice(index, 1);
    waiter.cleanup();
  }

  #failQueue(error: PluginRuntimeError): void {
    for (const waiter of this.#queue.splice(0)) {
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  #parkedUntil(): number | null {
    const decision = restartDecision(this.#history, Date.now(), this.#o.restart);
    if (decision.kind !== 'parked') {
      if (this.#parkedAnnounced) this.#o.onEvent?.('unparked', { reason: 'window passed' });
      this.#parkedAnnounced = false;
      return null;
    }
    if (!this.#parkedAnnounced) this.#o.onEvent?.('parked', { untilMs: decision.until, reason: `more than ${this.#o.restart.maxRestarts} crashes in ${this.#o.restart.windowMs} ms` });
    this.#parkedAnnounced = true;
    return decision.until;
  }

  #parkedError(until: number): PluginRuntimeError {
    this.#parkedUntil();
    return new PluginRuntimeError('plugin_parked', `tool ${this.#o.tool} crashed too often and is parked until ${new Date(until).toISOString()}`, {
      details: { until },
    });
  }

  #scheduleReap(): void {
    if (this.#closed || this.#queue.length > 0) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      for (const [process, load] of this.#load) {
        if (load === 0 && process.state === 'ready') void process.stop('idle');
      }
    }, this.#o.idleMs);
    this.#idleTimer.unref();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
