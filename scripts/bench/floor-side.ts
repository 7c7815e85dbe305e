import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { encodeFrame, FrameDecoder, parseFramePayload } from '../../plugin-sdk/protocol/frame.ts';
import type { LaunchConfig } from '../../runtime/config/launch-config.ts';
import { NO_GRANTS } from '../../runtime/grants/grants.ts';
import { buildDenoArgv } from '../../runtime/launch/deno-argv.ts';
import { pluginEnvironment } from '../../runtime/launch/spawn-deno.ts';
import { ECHO_ARGS, type ColdStart, type EchoProcess, type EchoSide } from './echo-side.ts';
import { nowMs } from './stats.ts';

const FLOOR_ECHO_PATH = fileURLToPath(new URL('./floor/echo.ts', import.meta.url));
const STDERR_TAIL_CHARS = 2000;

export interface FloorSideOptions {
  denoPath: string;
  config: LaunchConfig;
  /** Deno's cache folder for the floor (the bench's own, never the runtime's). */
  denoDir: string;
}

/**
 * The floor: the raw echo program spawned directly with node:child_process, with exactly
 * the argv the runtime would give a tool with no grants (deno-launch.json base flags, the
 * deny flags, the heap flag) and the same scrubbed environment, driven over the shared
 * frame codec. No token check, no schemas, no deadlines, no audit.
 */
export function floorSide({ denoPath, config, denoDir }: FloorSideOptions): EchoSide {
  const argv = buildDenoArgv({ config, grants: NO_GRANTS, bundlePath: FLOOR_ECHO_PATH, heapMb: config.limits.heapMb });
  const live = new Set<FloorProcess>();
  return {
    label: 'floor',
    async coldStart(): Promise<ColdStart> {
      const started = nowMs();
      const child = spawn(denoPath, argv, {
        env: pluginEnvironment(randomBytes(32).toString('base64url'), denoDir),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const process = new FloorProcess(child, config.channel.maxFrameBytes);
      live.add(process);
      void process.exited.then(() => live.delete(process));
      await process.hello;
      const helloMs = nowMs() - started;
      await process.echo();
      return { process, startedAt: started, helloMs, readyMs: helloMs, firstResultMs: nowMs() - started };
    },
    async close() {
      await Promise.all([...live].map((process) => process.stop()));
    },
  };
}

class FloorProcess implements EchoProcess {
  readonly pid: number;
  readonly hello: Promise<void>;
  readonly exited: Promise<void>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #maxFrameBytes: number;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 1;
  #stderr = '';
  #failure: Error | null = null;
  #onHello!: { resolve(): void; reject(error: Error): void };

  constructor(child: ChildProcessWithoutNullStreams, maxFrameBytes: number) {
    this.#child = child;
    this.#maxFrameBytes = maxFrameBytes;
    this.#decoder = new FrameDecoder(maxFrameBytes);
    if (child.pid === undefined) throw new Error('the floor process did not spawn');
    this.pid = child.pid;
    this.hello = new Promise((resolve, reject) => (this.#onHello = { resolve, reject }));
    this.hello.catch(() => {});
    child.stdin.on('error', () => {}); // EPIPE after exit is reported by 'close'
    child.stderr.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-STDERR_TAIL_CHARS)));
    child.stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.#fail(new Error(`floor process exited (${signal ?? code}); stderr: ${this.#stderr.trim() || '(none)'}`));
        resolve();
      }),
    );
  }

  echo(): Promise<unknown> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.stdin.write(encodeFrame({ type: 'call', id, tool: 'echo', args: ECHO_ARGS }, this.#maxFrameBytes));
    });
  }

  /** Closing stdin is the floor's whole shutdown protocol; SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.stdin.end();
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
      await this.exited;
      clearTimeout(timer);
    }
  }

  #onData(chunk: Buffer): void {
    for (const payload of this.#decoder.push(chunk)) {
      const message = parseFramePayload(payload);
      if (message['type'] === 'hello') {
        this.#onHello.resolve();
      } else if (message['type'] === 'result') {
        const id = message['id'] as number;
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        pending?.resolve(message['value']);
      }
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    this.#onHello.reject(error);
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}
