/**
 * Terminates a tool's TLS tunnel to a host whose requests carry a secret the host injects:
 * the tool speaks HTTP/1.1 to a leaf this runtime's CA issued, and each request goes on to
 * the real server, verified, with the header set and the secret masked in what comes back.
 *
 *   tool ──TLS(leaf)──▶ interceptTls ──parse (Node's HTTP server)──▶ refuse 403 │ forward
 *                                    ◀──redacted response────────── https.request(address, SNI host)
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { PluginRuntimeError } from '../../errors.ts';
import { normaliseInterceptOptions, type InterceptOptions, type InterceptOutcome } from './intercept-options.ts';
import { redactionPatterns } from './redact-stream.ts';
import { refusalFor, upgradeRefusal } from './request-refusal.ts';
import { describeError, forward, upstreamAgent, type ForwardContext } from './upstream-forwarding.ts';

export type { InterceptOptions, InterceptOutcome } from './intercept-options.ts';

/** One interception's state, shared by the handlers below. */
interface Session extends ForwardContext {
  outcome: InterceptOutcome;
  end(reason?: string): void;
}

/**
 * Intercepts one tunnel: `client` is the tool's connection right after the gateway
 * answered its CONNECT with 200 (bytes the gateway read past the CONNECT head must be
 * `unshift`ed back first). Resolves when the tool's connection closes, or `signal`
 * aborts; never rejects once started, and errors of either side end up in the outcome
 * or in a 502 to the tool.
 *
 * @throws (as a rejection) PluginRuntimeError `config_invalid` naming the bad option;
 *   the client connection is destroyed then
 * @example
 * server.on('connect', async (request, socket) => {
 *   socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
 *   const outcome = await interceptTls(socket, { host, port, address, leaf: ca.leafFor(host), injection, onBytes });
 * });
 */
export function interceptTls(client: Duplex, options: InterceptOptions): Promise<InterceptOutcome> {
  let o: InterceptOptions;
  let secureContext: tls.SecureContext;
  try {
    o = normaliseInterceptOptions(options);
    secureContext = leafContext(o.leaf);
  } catch (error) {
    client.destroy();
    return Promise.reject(error);
  }
  // A closed socket would never emit 'close' again: the outcome is known now.
  if (client.destroyed) return Promise.resolve({ requests: 0, refused: 0, reason: "the tool's connection was already closed" });
  return new Promise((resolve) => startSession(client, o, secureContext, resolve));
}

/** The tool-facing TLS context; a leaf Node cannot load is a bad option. */
function leafContext(leaf: InterceptOptions['leaf']): tls.SecureContext {
  try {
    return tls.createSecureContext({ key: leaf.key, cert: leaf.cert });
  } catch (cause) {
    throw new PluginRuntimeError('config_invalid', `interceptTls: leaf cannot be loaded: ${(cause as Error).message}`, { cause });
  }
}

/** Wires the TLS server side, the HTTP parser after the handshake, and the end of it all. */
function startSession(client: Duplex, o: InterceptOptions, secureContext: tls.SecureContext, resolve: (outcome: InterceptOutcome) => void): void {
  const tlsSocket = new tls.TLSSocket(client, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
  const session = createSession(o, [tlsSocket, client], resolve);
  let secure = false;
  let failure: string | undefined;
  const noteFailure = (error: Error): void => {
    failure ??= `${secure ? "the tool's connection failed" : 'TLS handshake with the tool failed'}: ${describeError(error)}`;
  };
  // A client refusing the leaf may just hang up, without an alert: say so all the same.
  const onClose = (): void =>
    session.end(failure ?? (secure ? undefined : 'the tool closed the connection before the TLS handshake completed (does it trust the runtime CA?)'));
  for (const socket of [client, tlsSocket]) socket.on('error', noteFailure).on('close', onClose);
  tlsSocket.once('secure', () => {
    secure = true;
    httpServer(session).emit('connection', tlsSocket);
  });
}

/**
 * The session state, and its one way to end: every upstream request and connection and
 * both tool-side sockets destroyed, the outcome resolved once. `signal` ends it too.
 */
function createSession(o: InterceptOptions, sockets: Duplex[], resolve: (outcome: InterceptOutcome) => void): Session {
  let ended = false;
  const onAbort = (): void => session.end('aborted');
  const session: Session = {
    o,
    patterns: redactionPatterns([o.injection.value, o.injection.secret]),
    agent: upstreamAgent(o),
    outcome: { requests: 0, refused: 0 },
    upstreams: new Set(),
    report(callback) {
      if (ended) return;
      try {
        callback();
      } catch (error) {
        session.end(`a callback threw: ${(error as Error)?.message ?? String(error)}`);
      }
    },
    end(reason) {
      if (ended) return;
      ended = true;
      if (reason !== undefined) session.outcome.reason = reason;
      o.signal?.removeEventListener('abort', onAbort);
      for (const upstream of session.upstreams) upstream.destroy();
      session.agent.destroy();
      for (const socket of sockets) socket.destroy();
      resolve(session.outcome);
    },
  };
  if (o.signal?.aborted) queueMicrotask(onAbort);
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  return session;
}

/** An unlistened HTTP server: Node's own parser for the tool's requests, keep-alive included. */
function httpServer(session: Session): http.Server {
  const server = http.createServer((request, response) => onRequest(session, request, response));
  const refuseUpgrade = (request: http.IncomingMessage, socket: Duplex): void => {
    session.outcome.requests++;
    const body = refuse(session, upgradeRefusal(request.method, target(session)));
    const head = ['HTTP/1.1 403 Forbidden', 'content-type: text/plain; charset=utf-8', `content-length: ${Buffer.byteLength(body)}`, 'connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  };
  server.on('upgrade', refuseUpgrade);
  server.on('connect', refuseUpgrade);
  return server;
}

/** The CONNECT target as the refusal rules read it. */
function target(session: Session): { host: string; port: number; header: string } {
  return { host: session.o.host, port: session.o.port, header: session.o.injection.header };
}

/** Counts a refusal, tells the caller, and returns the plain-text body that says why. */
function refuse(session: Session, reason: string): string {
  session.outcome.refused++;
  session.report(() => session.o.onRefused?.(reason));
  return `${reason}\n`;
}

/** One request from the tool: refused with 403, or forwarded. */
function onRequest(session: Session, request: http.IncomingMessage, response: http.ServerResponse): void {
  session.outcome.requests++;
  response.sendDate = false; // the upstream's Date is passed on
  response.on('error', () => response.destroy());
  const refusal = refusalFor(request, target(session));
  if (refusal === null) return forward(session, request, response);
  const body = refuse(session, refusal);
  response.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
