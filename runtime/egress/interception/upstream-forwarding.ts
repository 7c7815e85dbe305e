/**
 * The forwarding half of an interception: one tool request sent on to the real server with
 * the secret, its response passed back masked, or a 502 saying what failed.
 */
import type http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream';
import tls from 'node:tls';
import { headSize, toolResponseHeaders, upstreamRequestHeaders } from './forward-headers.ts';
import type { InterceptOptions } from './intercept-options.ts';
import { createRedactor, redactHeaderValue } from './redact-stream.ts';
import { decodersFor } from './response-decoding.ts';

/** What forwarding needs of an interception's state. */
export interface ForwardContext {
  o: InterceptOptions;
  /** The formatted header value and the raw secret, as bytes to mask. */
  patterns: Buffer[];
  agent: https.Agent;
  /** Upstream requests in flight, destroyed when the interception ends. */
  upstreams: Set<http.ClientRequest>;
  /** Runs a caller's callback; one that throws ends the interception (named in the outcome) instead of the process. */
  report(callback: () => void): void;
}

/** The upstream connection pool of one interception: verified for `host`, dialling `address` only. */
export function upstreamAgent(o: InterceptOptions): https.Agent {
  const extraCa = o.upstreamCa ?? [];
  return new https.Agent({
    keepAlive: true,
    // The budget admitted one connection: pipelined requests queue for it instead of each
    // opening an upstream connection of its own.
    maxSockets: 1,
    // Given `ca` replaces Node's roots, so they are named again beside the extra ones.
    ...(extraCa.length > 0 ? { ca: [...tls.rootCertificates, ...extraCa] } : {}),
    // SNI carries names only; '' keeps Node from deriving one from the Host header.
    servername: isIP(o.host) === 0 ? o.host : '',
    checkServerIdentity: (_name, certificate) => tls.checkServerIdentity(o.host, certificate),
    rejectUnauthorized: true,
    ALPNProtocols: ['http/1.1'],
  });
}

/** Sends the request upstream with the secret; the tool gets the response, or a 502. */
export function forward(session: ForwardContext, request: http.IncomingMessage, response: http.ServerResponse): void {
  const { o } = session;
  let upstream: http.ClientRequest;
  try {
    const headers = upstreamRequestHeaders(request.rawHeaders, o.injection);
    upstream = https.request({ agent: session.agent, host: o.address, port: o.port, method: request.method, path: request.url, headers });
    session.report(() => o.onBytes(headSize(`${request.method} ${request.url} HTTP/1.1`, flatten(headers)), 0));
  } catch (error) {
    return badGateway(session, response, error as Error);
  }
  let answered = false;
  session.upstreams.add(upstream);
  upstream.on('close', () => {
    session.upstreams.delete(upstream);
    // A 101 to a request that asked for no upgrade ends in neither 'response' nor 'error'.
    if (!answered && !response.destroyed) badGateway(session, response, new Error('the upstream closed the connection without an answer'));
  });
  upstream.on('error', (error) => badGateway(session, response, error));
  upstream.on('response', (upstreamResponse) => {
    answered = true;
    relay(session, request, upstreamResponse, response);
  });
  request.on('data', (chunk: Buffer) => session.report(() => o.onBytes(chunk.length, 0)));
  request.on('error', () => upstream.destroy());
  request.pipe(upstream);
  // The tool went away before its answer was complete: nothing is waiting for the upstream.
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
}

/** Passes the upstream's response back: status, end-to-end headers and body, the secret masked in all. */
function relay(session: ForwardContext, request: http.IncomingMessage, upstream: http.IncomingMessage, response: http.ServerResponse): void {
  const status = upstream.statusCode ?? 502;
  const bodyless = request.method === 'HEAD' || status === 204 || status === 304;
  const decoders = bodyless ? [] : decodersFor(upstream.headers['content-encoding']);
  const unredactable =
    decoders === null
      ? `content-encoding ${upstream.headers['content-encoding']} cannot be redacted`
      : !onlyChunked(upstream.headers['transfer-encoding'])
        ? `transfer-encoding ${upstream.headers['transfer-encoding']} cannot be redacted (only chunked is undone)`
        : undefined;
  if (decoders === null || unredactable !== undefined) {
    badGateway(session, response, new Error(unredactable));
    upstream.destroy();
    return;
  }
  try {
    const message = redactHeaderValue(upstream.statusMessage ?? '', session.patterns);
    const headers = toolResponseHeaders(upstream.rawHeaders, session.patterns, decoders.length > 0);
    response.statusCode = status;
    response.statusMessage = message;
    for (const { name, values } of headers) response.setHeader(name, values.length === 1 ? (values[0] ?? '') : values);
    const flat = headers.flatMap(({ name, values }) => values.flatMap((value) => [name, value]));
    session.report(() => session.o.onBytes(0, headSize(`HTTP/1.1 ${status} ${message}`, flat)));
  } catch (error) {
    upstream.destroy();
    return badGateway(session, response, error as Error);
  }
  const redactor = createRedactor(session.patterns);
  redactor.on('data', (chunk: Buffer) => session.report(() => session.o.onBytes(0, chunk.length)));
  pipeline([upstream, ...decoders, redactor, response], (error) => {
    if (error) response.destroy();
  });
}

/**
 * Whether a response's Transfer-Encoding is absent or chunked alone. Node undoes chunked
 * only: another coding (`gzip, chunked`) would reach the tool still packed, the redactor
 * blind to it, and the tool free to unpack it.
 */
function onlyChunked(transferEncoding: string | undefined): boolean {
  if (transferEncoding === undefined) return true;
  const codings = transferEncoding.split(',').map((coding) => coding.trim().toLowerCase()).filter((coding) => coding !== '');
  return codings.length === 1 && codings[0] === 'chunked';
}

/** A 502 naming the failure, or, once the response has begun, a cut connection (the only honest signal left). */
function badGateway(session: ForwardContext, response: http.ServerResponse, error: Error): void {
  if (response.headersSent) {
    if (!response.writableEnded) response.destroy();
    return;
  }
  // Headers copied from an upstream response that then failed do not belong on the 502.
  for (const name of response.getHeaderNames()) response.removeHeader(name);
  const reason = redactHeaderValue(describeError(error), session.patterns);
  const body = `the gateway could not complete the request to ${session.o.host}: ${reason}\n`;
  response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** An error's code and message, shortened: enough for the tool (or a log) to tell what failed. */
export function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  const text = code && code !== error.message ? `${code}: ${error.message}` : error.message;
  return text.slice(0, 200);
}

/** Outgoing headers as a flat name/value list, for counting their bytes. */
function flatten(headers: http.OutgoingHttpHeaders): string[] {
  return Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [String(value)]).flatMap((one) => [name, one]));
}
