import type { Duplex } from 'node:stream';
import type { SecretInjection } from '../grants/grants.ts';
import type { EgressLaunch } from './egress-launch.ts';
import { normaliseHost } from './egress-rules.ts';
import { GATEWAY_REFUSAL, refuseRaw } from './gateway-refusal.ts';

/** Terminates TLS toward the tool for one host and forwards its requests with a header added (see tls-interception.ts). */
export interface Interception {
  intercept(
    tool: Duplex,
    target: { host: string; port: number; address: string },
    injection: { header: string; value: string; secret: string },
    moved: (bytes: number) => boolean,
    /** One request inside the tunnel was answered 403 (the tool set the header itself, an upgrade, another host). */
    refused: (reason: string) => void,
  ): Promise<{ bytesUp: number; bytesDown: number }>;
}

/** The injection this launch has for `host:port`, if any. */
export function injectionFor(launch: EgressLaunch, host: string, port: number): SecretInjection | undefined {
  const wanted = normaliseHost(host);
  return launch.injections.find((injection) => normaliseHost(injection.host) === wanted && injection.port === port);
}

/** The header value an injection sends: its format with `{}` replaced by the secret. */
export function injectedValue(injection: SecretInjection, secret: string): string {
  return injection.format.replace('{}', () => secret);
}

/**
 * A CONNECT to a host with an injection: the secret is read now (the plugin never holds
 * it), the tunnel is answered, and the TLS inside it terminated with a certificate of the
 * runtime's own authority, so the gateway can add the header to every request. Never
 * rejects: a store that fails, or an interception that cannot start, is a refusal the
 * caller records (and its connection given back to the budget), never a lost connection.
 */
export async function interceptForInjection(
  interception: Interception | undefined,
  launch: EgressLaunch,
  injection: SecretInjection,
  socket: Duplex,
  head: Buffer,
  target: { host: string; port: number; address: string },
): Promise<{ bytesUp: number; bytesDown: number; durationMs: number; refused?: string }> {
  const started = Date.now();
  const ended = (reason: string) => ({ bytesUp: 0, bytesDown: 0, durationMs: Date.now() - started, refused: reason });
  const refused = (reason: string) => {
    refuseRaw(socket, 403, `${GATEWAY_REFUSAL}${reason}`);
    return ended(reason);
  };
  if (!interception) return refused('this runtime has no certificate authority to terminate TLS for an injection');
  let secret: string | undefined;
  try {
    secret = await launch.readSecret(injection.name);
  } catch {
    // The store's own error text is the host's: neither the tool nor the audit is told it.
    return refused(`the secret store could not read ${injection.name}`);
  }
  if (secret === undefined || secret === '') return refused(`secret ${injection.name} is not set in the secret store`);
  // A line break in a header value would let the value end the header and start another.
  if (/[\r\n\0]/.test(secret)) return refused(`secret ${injection.name} holds a line break or NUL, which no header value may`);
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) socket.unshift(head);
  const record = { kind: 'connect' as const, host: target.host, port: target.port, address: target.address, injected: injection.name };
  try {
    const outcome = await interception.intercept(
      socket,
      // The leaf and the Host check name an IPv6 literal without its brackets.
      { ...target, host: target.host.replace(/^\[(.*)\]$/, '$1') },
      { header: injection.header, value: injectedValue(injection, secret), secret },
      (n) => launch.budget.moved(n),
      (reason) => launch.record({ ...record, decision: 'refused', rule: `a request inside the tunnel: ${reason}` }),
    );
    return { ...outcome, durationMs: Date.now() - started };
  } catch (error) {
    socket.destroy();
    return ended(`the interception could not start: ${(error as Error)?.message ?? String(error)}`);
  }
}
