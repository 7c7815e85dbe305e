import http from 'node:http';
import { endToEndHeaders } from './upstream.ts';

export interface ForwardTarget {
  address: string;
  port: number;
  family: 4 | 6;
  /** Path and query, origin form. */
  path: string;
  connectTimeoutMs: number;
  /** Counts bytes against the budget; false ends the exchange. */
  moved(bytes: number): boolean;
}

/**
 * Forwards one plain request to the vetted address (the `Host` header as the tool sent it)
 * and streams the answer back. Resolves with the bytes each way and the upstream's status
 * once the answer is sent or the exchange broke (502 when no answer started).
 */
export function forwardRequest(req: http.IncomingMessage, res: http.ServerResponse, target: ForwardTarget): Promise<{ bytesUp: number; bytesDown: number; status?: number }> {
  const totals = { bytesUp: 0, bytesDown: 0 };
  return new Promise((resolve) => {
    let done = false;
    const finish = (status?: number) => {
      if (done) return;
      done = true;
      resolve({ ...totals, ...(status === undefined ? {} : { status }) });
    };
    const upstream = http.request({
      host: target.address,
      port: target.port,
      family: target.family,
      method: req.method,
      path: target.path || '/',
      headers: endToEndHeaders(req).flat(),
      setHost: false,
      timeout: target.connectTimeoutMs,
    });
    const broke = (why: string) => {
      upstream.destroy();
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`the gateway could not complete the request: ${why}\n`);
      else res.destroy();
      finish();
    };
    upstream.on('timeout', () => broke(`no answer within ${target.connectTimeoutMs} ms`));
    upstream.on('error', (error: NodeJS.ErrnoException) => broke(error.code ?? error.message));
    req.on('data', (chunk: Buffer) => {
      totals.bytesUp += chunk.length;
      if (!target.moved(chunk.length)) broke('the call passed its egress byte limit');
    });
    req.pipe(upstream);
    upstream.on('response', (answer) => {
      // The deadline is for the answer to start: a long poll or a stream may then be quiet
      // for as long as its call runs.
      upstream.setTimeout(0);
      const headers = endToEndHeaders(answer).flat();
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
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
