import type * as esbuild from 'esbuild';

let api: typeof esbuild | undefined;

/**
 * esbuild's JavaScript API, imported on the first build: a load served from the bundle
 * cache never pays for it.
 */
export async function esbuildApi(): Promise<typeof esbuild> {
  api ??= await import('esbuild');
  return api;
}

/** esbuild's build options as this runtime uses them: in memory, with a metafile. */
export type InMemoryBuildOptions = esbuild.BuildOptions & { write: false; metafile: true };
export type InMemoryBuildResult = esbuild.BuildResult<InMemoryBuildOptions>;

let running = 0;
/** Builds abandoned since the service last started; cleared when it is stopped. */
const abandoned = new Set<symbol>();

/**
 * Runs one esbuild build that its caller may abandon through `signal`.
 *
 * esbuild reads some files on its own while it resolves (package.json files, for one), so a
 * plugin folder holding a FIFO there blocks a build for ever, and esbuild cannot cancel a
 * blocked read. An abandoned build is left to hang, but its pending request would keep the
 * host's event loop alive, and its blocked read, esbuild's service process: once no build
 * still wanted is running, the service is stopped (the next build starts a fresh one).
 */
export function buildAbandonable(options: InMemoryBuildOptions, signal?: AbortSignal): Promise<InMemoryBuildResult> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  running++;
  const id = Symbol('build');
  let settled = false;
  return new Promise<InMemoryBuildResult>((resolve, reject) => {
    const onAbort = () => {
      if (settled) return;
      settled = true;
      running--;
      abandoned.add(id);
      reject(signal!.reason);
      stopIfOnlyAbandonedRemain();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    esbuildApi()
      .then((loaded) => loaded.build(options))
      .then(
        (result) => finish(() => resolve(result)),
        (error: unknown) => finish(() => reject(error)),
      );
    function finish(report: () => void): void {
      signal?.removeEventListener('abort', onAbort);
      if (settled) {
        // An abandoned build that ended after all: nothing waits for it.
        abandoned.delete(id);
        return;
      }
      settled = true;
      running--;
      report();
      stopIfOnlyAbandonedRemain();
    }
  });
}

function stopIfOnlyAbandonedRemain(): void {
  if (running > 0 || abandoned.size === 0) return;
  abandoned.clear();
  void api?.stop();
}
