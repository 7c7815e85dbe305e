import { PluginRuntimeError } from '../errors.ts';
import type { ToolProcess } from './tool-process.ts';

export interface ToolPoolOptions {
  tool: string;
  idleMs: number;
  /** Creates a fresh, not yet started process for this tool. */
  create(): ToolProcess;
}

/**
 * The processes of one tool: started on first use, kept warm between calls, reaped after
 * `idleMs` without calls, and replaced when one ends.
 */
export class ToolPool {
  readonly #o: ToolPoolOptions;
  #current: ToolProcess | null = null;
  #starting: Promise<ToolProcess> | null = null;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: ToolPoolOptions) {
    this.#o = options;
  }

  /** The process serving calls now, if one is running. */
  get process(): ToolProcess | null {
    return this.#current;
  }

  async call(args: unknown, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    const process = await this.#ready();
    clearTimeout(this.#idleTimer);
    try {
      return await process.call(this.#o.tool, args, timeoutMs, signal);
    } finally {
      this.#scheduleReap(process);
    }
  }

  /** Stops every process of this tool; later calls fail with `shutting_down`. */
  async close(reason = 'close'): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const starting = this.#starting;
    if (starting) await starting.catch(() => null);
    await this.#current?.stop(reason);
    this.#current = null;
  }

  #ready(): Promise<ToolProcess> {
    if (this.#closed) return Promise.reject(new PluginRuntimeError('shutting_down', `tool ${this.#o.tool} is closed`));
    const current = this.#current;
    if (current && current.state === 'ready') return Promise.resolve(current);
    if (this.#starting) return this.#starting;
    const process = this.#o.create();
    this.#current = process;
    this.#starting = process
      .start()
      .then(() => process)
      .finally(() => (this.#starting = null));
    void process.exited.then(() => {
      if (this.#current === process) this.#current = null;
    });
    return this.#starting;
  }

  #scheduleReap(process: ToolProcess): void {
    if (process.inFlight > 0 || this.#closed) return;
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      if (this.#current === process && process.inFlight === 0) {
        this.#current = null;
        void process.stop('idle');
      }
    }, this.#o.idleMs);
    this.#idleTimer.unref();
  }
}
