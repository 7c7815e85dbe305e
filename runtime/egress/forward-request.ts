import http from 'node:http';
import { endToEndPairs } from './upstream.ts';

export interface ForwardTarget {
  address: string;
  port: number;
  family: 4 | 6;
  /** Path and query, origin form. */
  path: string;
  connectTimeoutMs: number;
  /** The launch's own pool of upstream connections (never shared with another launch). */
  agent: http.Agent;
  /** Counts bytes against the budget; false ends the exchange. */
  moved(bytes: number): boolean;
}

/**
 * Forwards one plain request to the vetted address (the `Host` header as the tool sent it)
 * and streams the answer back. Resolves with the bytes each way and the upstream's status
 * once the answer is sent or the exchange broke (502 when no answer started, and
 * `unanswered` says why, so the gateway records it as refused like a CONNECT it could not open).
 */
export function forwardRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: ForwardTarget,
): Promise<{ bytesUp: number; bytesDown: number; status?: number; unanswered?: string; cut?: string }> {
  const totals = { bytesUp: 0, bytesDown: 0 };
  return new Promise((resolve) => {
    let done = false;
    const finish = (status?: number, unanswered?: string) => {
      if (done) return;
      done = true;
      resolve({ ...totals, ...(status === undefined ? {} : { status }), ...(unanswered === undefined ? {} : { unanswered }) });
    };
    const upstream = http.request({
      host: target.address,
      port: target.port,
      family: target.family,
      method: req.method,
      path: target.path || '/',
      headers: endToEndPairs(req).flat(),
      setHost: false,
      agent: target.agent,
    });
    const broke = (why: string) => {
      upstream.destroy();
      const answered = res.headersSent;
      if (!answered) res.writeHead(502, 'Bad Gateway', { 'Content-Type': 'text/plain; charset=utf-8' }).end(`the gateway could not complete the request: ${why}\n`);
      else res.destroy();
      if (answered && !done) {
        done = true;
        resolve({ ...totals, cut: why });
        return;
      }
      finish(undefined, answered ? undefined : why);
    };
    // Only dialling is bounded here: a slow answer is the call's deadline to judge (a long poll is not an error).
    upstream.on('socket', (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => broke(`no connection within ${target.connectTimeoutMs} ms`), target.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(timer));
      socket.once('close', () => clearTimeout(timer));
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => broke(`upstream unreachable: ${error.code ?? error.message}`));
    req.on('data', (chunk: Buffer) => {
      totals.bytesUp += chunk.length;
      if (!target.moved(chunk.length)) broke('the call passed its egress byte limit');
    });
    req.pipe(upstream);
    upstream.on('response', (answer) => {
      const headers = endToEndPairs(answer).flat();
      // Node's client takes status lines its server will not write (`000`, a DEL in the
      // reason): a throw here is outside any promise and would end the host.
      try {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      } catch (error) {
        broke(`the upstream's answer cannot be passed on: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
        return;
      }
      // The head goes to the tool now, not with a first chunk of body that may be slow to come.
      res.flushHeaders();
      answer.on('data', (chunk: Buffer) => {
        totals.bytesDown += chunk.length;
        if (!target.moved(chunk.length)) broke('the call passed its egress byte limit');
      });
      answer.pipe(res);
      answer.on('end', () => finish(answer.statusCode));
      answer.on('error', () => broke('the upstream answer broke off'));
    });
    res.on('close', () => {
      if (!done) {
        upstream.destroy();
        finish();
      }
    });
  });
}
