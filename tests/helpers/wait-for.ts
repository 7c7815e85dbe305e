/**
 * The one deadline tests wait with, for events and for calls alike. Generous on purpose:
 * the machine has two shared cores and many Deno processes; never asserted on.
 */
export const GENEROUS_MS = 60_000;

/**
 * Polls `probe` every 20 ms until it returns something other than undefined/false/null and
 * returns that value; rejects naming `what` once the deadline passes. Bounded, never a hang.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false,
  timeoutMs = GENEROUS_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error a promise rejects with; fails if it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    const value = await promise;
    throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
  } catch (error) {
    return error as Error & { code?: string; details?: Record<string, unknown> };
  }
}

/** The settled outcome of a call: its value, or its error's code and details. */
export async function outcome(
  call: Promise<unknown>,
): Promise<{ ok: true; value: unknown } | { ok: false; code: string; details: Record<string, unknown> }> {
  try {
    return { ok: true, value: await call };
  } catch (error) {
    const e = error as { code?: string; details?: Record<string, unknown> };
    return { ok: false, code: e.code ?? String(error), details: e.details ?? {} };
  }
}
