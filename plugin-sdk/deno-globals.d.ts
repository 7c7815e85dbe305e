/** The slice of the Deno namespace the SDK uses (the SDK runs only under Deno). */
declare namespace Deno {
  const env: { get(key: string): string | undefined; delete(key: string): void };
  const stdin: { readonly readable: ReadableStream<Uint8Array> };
  const stdout: { write(p: Uint8Array): Promise<number> };
  const stderr: { writeSync(p: Uint8Array): number };
  function exit(code?: number): never;
  function memoryUsage(): { rss: number; heapTotal: number; heapUsed: number; external: number };
}
