import type { Duplex } from 'node:stream';

/** Bytes a relay moved each way, and how long it stayed open. */
export interface RelayTotals {
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  /** Set when the relay ended because the budget refused a chunk. */
  cut?: string;
}

/**
 * Copies bytes both ways between the tool's side and the upstream until either closes,
 * counting each chunk against the process's budget (`moved` false ends the relay at once).
 * `head` is what the tool sent right behind its request head (the HTTP server hands it
 * over apart): passed on first and counted like any other chunk, so it cannot slip past
 * the budget. Resolves once both sides are destroyed.
 */
export function relayBytes(tool: Duplex, upstream: Duplex, moved: (bytes: number) => boolean, head: Buffer = Buffer.alloc(0)): Promise<RelayTotals> {
  const started = Date.now();
  const totals = { bytesUp: 0, bytesDown: 0 };
  return new Promise((resolve) => {
    let done = false;
    const finish = (cut?: string) => {
      if (done) return;
      done = true;
      tool.destroy();
      upstream.destroy();
      resolve({ ...totals, durationMs: Date.now() - started, ...(cut ? { cut } : {}) });
    };
    const CUT = 'the call passed its egress byte limit';
    if (head.length > 0) {
      totals.bytesUp += head.length;
      if (moved(head.length)) upstream.write(head);
      else finish(CUT);
    }
    tool.on('data', (chunk: Buffer) => {
      totals.bytesUp += chunk.length;
      if (!moved(chunk.length)) finish(CUT);
    });
    upstream.on('data', (chunk: Buffer) => {
      totals.bytesDown += chunk.length;
      if (!moved(chunk.length)) finish(CUT);
    });
    tool.pipe(upstream);
    upstream.pipe(tool);
    for (const side of [tool, upstream]) {
      side.on('error', () => finish());
      side.on('close', () => finish());
    }
  });
}
