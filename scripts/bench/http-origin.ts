import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LeafCertificate } from '../../runtime/egress/certificates/certificate-authority.ts';

const ORIGIN_SCRIPT = fileURLToPath(new URL('./floor/http-origin.mjs', import.meta.url));
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 2000;

/** The loopback HTTP(S) server the egress section's tool fetches from (floor/http-origin.mjs). */
export interface HttpOrigin {
  readonly scheme: 'http' | 'https';
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `127.0.0.1:<port>`: the network grant the bench's plugin and policy name. */
  readonly hostPort: string;
  /** The server process's pid, for its CPU time. */
  readonly pid: number;
  /** `<scheme>://127.0.0.1:<port>`, what the tool's URLs start with. */
  readonly base: string;
  /** TCP connections it has accepted so far: unchanged across a batch means keep-alive held. */
  connections(): Promise<number>;
  /** Stops the server process and waits for it to exit. */
  close(): Promise<void>;
}

/**
 * Forks the origin and resolves once it listens: plain HTTP, or HTTPS with `tls` (a leaf for
 * 127.0.0.1, handed over in the child's environment; a bench key, never a real one).
 */
export async function startHttpOrigin(tls?: LeafCertificate): Promise<HttpOrigin> {
  const env = { ...process.env };
  delete env['ORIGIN_TLS_KEY'];
  delete env['ORIGIN_TLS_CERT'];
  const child = fork(ORIGIN_SCRIPT, [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: [],
    env: tls ? { ...env, ORIGIN_TLS_KEY: tls.key, ORIGIN_TLS_CERT: tls.cert } : env,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let port: number;
  try {
    port = await firstMessage(child, (message) => (typeof message.port === 'number' ? message.port : undefined), START_TIMEOUT_MS);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid!;
  const scheme = tls ? 'https' : 'http';
  return {
    scheme,
    host: '127.0.0.1',
    port,
    hostPort: `127.0.0.1:${port}`,
    base: `${scheme}://127.0.0.1:${port}`,
    pid,
    connections() {
      const answer = firstMessage(child, (message) => (typeof message.connections === 'number' ? message.connections : undefined), START_TIMEOUT_MS);
      child.send({ type: 'stats' });
      return answer;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The first IPC message `pick` accepts; rejects if the process exits or stays silent past `timeoutMs`. */
function firstMessage<T>(child: ChildProcess, pick: (message: Record<string, unknown>) => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      const value = message !== null && typeof message === 'object' ? pick(message as Record<string, unknown>) : undefined;
      if (value === undefined) return;
      done();
      resolve(value);
    };
    const onExit = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`the HTTP origin exited (${signal ?? code})`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the HTTP origin did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}
