import type { EchoProcess, EchoSide } from './echo-side.ts';
import { type FleetBounds, type FleetResult, measureFleetStart } from './fleet-measure.ts';
import { snapshotFleet, survivors } from './fleet-processes.ts';
import { nowMs } from './stats.ts';

/**
 * The floor's fleet: the raw echo program spawned `processes` times in one turn with
 * node:child_process, ready at its hello, then one echo call each. What starting that many
 * Deno processes from one Node thread costs before any runtime code runs.
 */
export async function runFloorFleet(floor: EchoSide, bounds: FleetBounds): Promise<FleetResult> {
  const processes: EchoProcess[] = [];
  try {
    const start = await measureFleetStart(
      bounds,
      () =>
        Array.from({ length: bounds.processes }, () =>
          floor.coldStart().then((cold) => {
            processes.push(cold.process);
            return cold.startedAt + cold.readyMs;
          }),
        ),
      () => `${processes.length} of ${bounds.processes} started`,
    );
    const snapshot = snapshotFleet(processes.map((process) => process.pid));
    const stopStarted = nowMs();
    await Promise.all(processes.map((process) => process.stop()));
    const stopMs = nowMs() - stopStarted;
    const left = await survivors(snapshot.seen, bounds.exitTimeoutMs);
    return {
      ...start,
      toolRssMiB: snapshot.rssMiB,
      processNames: snapshot.names,
      stopMs,
      leftRunning: left.running,
      zombies: left.zombies,
      extra: {},
    };
  } finally {
    // On failure, whatever did start (including starts still under way) is stopped with the rest of the floor.
    await floor.close();
  }
}
