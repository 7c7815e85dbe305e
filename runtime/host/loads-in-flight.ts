import { PluginRuntimeError } from '../errors.ts';

interface Pending {
  manifestPath: string;
  reject(error: PluginRuntimeError): void;
}

/**
 * Bounds every load the runtime has in flight: each ends with its own outcome, with
 * `load_timeout` once `timeoutMs` passes (a manifest or module that makes esbuild block,
 * a slow disk), or with `runtime_closed` as soon as the runtime starts closing. The work is
 * told through an AbortSignal; what cannot stop at once has its late outcome dropped, so
 * nothing prepared after the deadline or the close is ever used.
 */
export class LoadsInFlight {
  readonly #timeoutMs: number;
  readonly #pending = new Set<Pending>();

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** How many loads have not ended yet. */
  get size(): number {
    return this.#pending.size;
  }

  /**
   * Runs `work`, bounded by the deadline and by {@link closeAll}. The signal it is given
   * aborts when the load is given up, so work that can stop early (a build) does.
   */
  bound<T>(manifestPath: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        manifestPath,
        reject: (error) => {
          finish();
          reject(error);
          controller.abort(error);
        },
      };
      const timer = setTimeout(
        () =>
          entry.reject(
            new PluginRuntimeError('load_timeout', `loading ${manifestPath} did not finish within ${this.#timeoutMs} ms`, {
              details: { manifestPath, timeoutMs: this.#timeoutMs },
            }),
          ),
        this.#timeoutMs,
      );
      const finish = () => {
        clearTimeout(timer);
        this.#pending.delete(entry);
      };
      this.#pending.add(entry);
      work(controller.signal).then(
        (value) => {
          if (!this.#pending.has(entry)) return;
          finish();
          resolve(value);
        },
        (error: unknown) => {
          if (!this.#pending.has(entry)) return;
          finish();
          reject(error);
        },
      );
    });
  }

  /** Ends every load in flight with `runtime_closed`. */
  closeAll(): void {
    for (const entry of [...this.#pending]) {
      entry.reject(
        new PluginRuntimeError('runtime_closed', `the runtime closed while ${entry.manifestPath} was loading`, {
          details: { manifestPath: entry.manifestPath },
        }),
      );
    }
  }
}
