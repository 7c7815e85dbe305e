import type { LaunchConfig } from '../config/launch-config.ts';
import type { LimitsPolicy } from '../policy/policy-schema.ts';
import type { EgressLimits } from '../egress/connection-budget.ts';

/** The numbers one plugin's processes run under: deno-launch.json, overridden by the policy. */
export interface EffectiveLimits {
  heapMb: number;
  rssMb: number;
  cpuSeconds: number;
  fileSizeMb: number;
  maxConcurrent: number;
  maxQueued: number;
  maxProcesses: number;
  defaultTimeoutMs: number;
  idleMs: number;
  /** What each process may do through the egress gateway. */
  egress: EgressLimits;
}

/** Pure: config defaults, each replaced by the policy's value where it gives one. */
export function effectiveLimits(config: LaunchConfig, overrides: LimitsPolicy = {}): EffectiveLimits {
  return {
    heapMb: overrides.heapMb ?? config.limits.heapMb,
    rssMb: overrides.rssMb ?? config.limits.rssMb,
    cpuSeconds: overrides.cpuSeconds ?? config.limits.cpuSeconds,
    fileSizeMb: overrides.fileSizeMb ?? config.limits.fileSizeMb,
    maxConcurrent: overrides.maxConcurrent ?? config.calls.maxConcurrent,
    maxQueued: overrides.maxQueued ?? config.calls.maxQueued,
    maxProcesses: overrides.maxProcesses ?? config.calls.maxProcesses,
    defaultTimeoutMs: Math.min(overrides.defaultTimeoutMs ?? config.calls.defaultTimeoutMs, config.calls.maxTimeoutMs),
    idleMs: overrides.idleMs ?? config.toolProcess.idleMs,
    egress: {
      connectionsPerCall: overrides.egressConnectionsPerCall ?? config.egress.connectionsPerCall,
      bytesPerCall: overrides.egressBytesPerCall ?? config.egress.bytesPerCall,
      concurrentConnections: overrides.egressConcurrentConnections ?? config.egress.concurrentConnections,
    },
  };
}
