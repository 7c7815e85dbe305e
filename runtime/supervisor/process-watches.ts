import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Ping seqs are drawn below this (a safe integer the wire schema accepts). */
const MAX_PING_SEQ = 2 ** 31 - 1;

export interface WatchOptions {
  /**
   * The process whose resident memory is watched, asked at each check until it names one
   * (in the sandbox, Deno is the launcher's grandchild and starts a moment after it).
   */
  rssPid(): number | null;
  heartbeatIntervalMs: number;
  missedLimit: number;
  rssCheckIntervalMs: number;
  rssMb: number;
  /** Sends `ping{seq}` to the process. */
  ping(seq: number): void;
  /** `missedLimit` pings in a row went unanswered. */
  onUnresponsive(missedPings: number): void;
  /** Resident memory passed `rssMb`. */
  onRssExceeded(rssMb: number): void;
}

/** The heartbeat and RSS watch of one ready process. */
export interface ProcessWatches {
  /** Records a `pong`: the process is alive if it echoes the outstanding ping's seq. */
  pong(seq: number): void;
  /** Stops pinging (a draining process is bounded by the shutdown grace instead). */
  stopHeartbeat(): void;
  stop(): void;
}

/**
 * Starts the watches. A process that misses `missedLimit` pings in a row is wedged (a busy
 * one still answers pings between its calls' awaits); one whose resident memory passes the
 * limit must be stopped, because V8's heap flag does not cap ArrayBuffers.
 */
export function startWatches(o: WatchOptions): ProcessWatches {
  // Each ping carries a fresh random seq and only a pong echoing it counts: a plugin that
  // never reads its stdin cannot keep itself "alive" by sending pongs it guessed.
  let outstanding: number | null = null;
  let missed = 0;
  const heartbeat = setInterval(() => {
    if (outstanding !== null) missed++;
    if (missed >= o.missedLimit) {
      clearInterval(heartbeat);
      return o.onUnresponsive(missed);
    }
    outstanding = randomInt(1, MAX_PING_SEQ);
    o.ping(outstanding);
  }, o.heartbeatIntervalMs);
  heartbeat.unref();
  let pid: number | null = null;
  const rss = setInterval(() => {
    pid ??= o.rssPid();
    const rssMb = pid === null ? null : readRssMb(pid);
    if (rssMb !== null && rssMb > o.rssMb) o.onRssExceeded(rssMb);
  }, o.rssCheckIntervalMs);
  rss.unref();
  return {
    pong(seq) {
      if (seq !== outstanding) return; // late, or never asked for
      outstanding = null;
      missed = 0;
    },
    stopHeartbeat: () => clearInterval(heartbeat),
    stop() {
      clearInterval(heartbeat);
      clearInterval(rss);
    },
  };
}

/** Resident set size of a process in MB, from /proc; null where /proc is not there. */
export function readRssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : null;
  } catch {
    return null;
  }
}
