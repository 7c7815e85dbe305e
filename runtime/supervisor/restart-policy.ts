import type { LaunchConfig } from '../config/launch-config.ts';

/** The crash history of one tool. */
export interface CrashHistory {
  /** Times of crashes still inside the window. */
  crashes: number[];
  /** Crashes since the last sustained healthy run: drives the backoff. */
  consecutive: number;
  lastCrashAt: number;
}

export type RestartDecision = { kind: 'start'; notBefore: number } | { kind: 'parked'; until: number };

export const EMPTY_HISTORY: CrashHistory = { crashes: [], consecutive: 0, lastCrashAt: 0 };

/** Records a crash. A run that lasted `healthyUptimeMs` resets the backoff first. Pure. */
export function recordCrash(
  history: CrashHistory,
  now: number,
  uptimeMs: number,
  restart: LaunchConfig['restart'],
): CrashHistory {
  const consecutive = uptimeMs >= restart.healthyUptimeMs ? 1 : history.consecutive + 1;
  const crashes = [...history.crashes.filter((at) => now - at < restart.windowMs), now];
  return { crashes, consecutive, lastCrashAt: now };
}

/**
 * When the next process may start: at once with no crash history, after an exponential
 * backoff after crashes, and not at all (parked) once more than `maxRestarts` crashes
 * fall inside `windowMs` — until the oldest of them leaves the window. Pure.
 */
export function restartDecision(history: CrashHistory, now: number, restart: LaunchConfig['restart']): RestartDecision {
  const recent = history.crashes.filter((at) => now - at < restart.windowMs);
  if (recent.length > restart.maxRestarts) return { kind: 'parked', until: recent[0]! + restart.windowMs };
  if (history.consecutive === 0) return { kind: 'start', notBefore: now };
  const backoff = Math.min(restart.initialBackoffMs * 2 ** (history.consecutive - 1), restart.maxBackoffMs);
  return { kind: 'start', notBefore: history.lastCrashAt + backoff };
}
