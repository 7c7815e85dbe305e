/**
 * Spawning a process blocks Node's event loop for tens of milliseconds. A hundred tool
 * processes asked for in one turn would stall the host (other plugins' calls, deadlines,
 * heartbeats) for seconds, so spawns are paced: one per event-loop turn, in order.
 */
export interface SpawnPacer {
  /** Resolves when it is this caller's turn to spawn. */
  turn(): Promise<void>;
}

export function createSpawnPacer(): SpawnPacer {
  let last: Promise<void> = Promise.resolve();
  return {
    turn() {
      const mine = last.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
      last = mine;
      return mine;
    },
  };
}
