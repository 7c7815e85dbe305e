import { LAYER_DESCRIPTIONS, LAYER_NAMES, type LayerName } from '../../layer-names.ts';
import { type OsLayers, unavailableReason } from '../../launch/os-limits.ts';
import type { HostDeathResult } from './host-death-probe.ts';
import type { RoundName, RoundResult } from './run-probes.ts';

export type LayerStatus = 'active' | 'unavailable' | 'failed';

/** One layer as `doctor` found it on this host. */
export interface LayerReport {
  layer: LayerName;
  status: LayerStatus;
  description: string;
  /** What the probes showed, or what was detected. */
  evidence: string;
  /** Why not, for a layer that is unavailable or failed. */
  reason?: string;
  /** The command or package that would enable it, where one would. */
  remedy?: string;
}

const names = (list: readonly { escape: { name: string } }[]) => list.map((result) => result.escape.name).join('; ');

/** A namespace layer: unavailable, or judged by its escapes under the OS layers against the control. */
function namespaceLayer(layer: LayerName, available: boolean, layers: OsLayers, rounds: Record<RoundName, RoundResult>, alone: RoundName = 'os'): Omit<LayerReport, 'description'> {
  if (!available) {
    const sandbox = layers.sandbox.available ? {} : { ...(layers.sandbox.remedy ? { remedy: layers.sandbox.remedy } : {}) };
    return { layer, status: 'unavailable', evidence: 'not detected', reason: unavailableReason(layers, layer), ...sandbox };
  }
  const mine = (round: RoundName) => rounds[round].results.filter((result) => result.escape.layer === layer);
  const through = mine(alone).filter((result) => result.escaped);
  const controlHeld = mine('control').filter((result) => !result.escaped);
  if (through.length > 0) {
    return { layer, status: 'failed', evidence: `with Deno's flags stripped these got through: ${names(through)}`, reason: 'an escape this layer must stop got through' };
  }
  if (controlHeld.length > 0) {
    return {
      layer,
      status: 'failed',
      evidence: `the positive control did not get through either: ${names(controlHeld)}`,
      reason: 'the probe cannot tell this layer from a missing file here',
    };
  }
  const count = mine(alone).length;
  const where = alone === 'os' ? '' : ' and no namespaces';
  return { layer, status: 'active', evidence: `${count} escape${count === 1 ? '' : 's'} with Deno's flags stripped${where}: all contained (all got through without the layer)` };
}

/** The sandbox also drops every capability and installs its seccomp filter: what the probe process saw of both. */
function withConfinement(report: Omit<LayerReport, 'description'>, status: string | null): Omit<LayerReport, 'description'> {
  if (report.status !== 'active') return report;
  const field = (name: string) => (status === null ? null : (new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? null));
  const seccomp = field('Seccomp');
  const capEff = field('CapEff');
  if (seccomp !== '2' || capEff !== '0000000000000000') {
    return { ...report, status: 'failed', reason: `inside, Seccomp is ${seccomp ?? 'unknown'} and CapEff ${capEff ?? 'unknown'}: the filter or the dropped capabilities did not hold` };
  }
  return { ...report, evidence: `${report.evidence}; inside: seccomp filter on, no capabilities` };
}

/**
 * The gateway: judged like a namespace by its escapes, and it must also have let the
 * networked tool reach the server it is granted (a gateway that refuses everything
 * contains everything and proves nothing).
 */
function gatewayLayer(report: Omit<LayerReport, 'description'>, reach: { allowed: boolean; value?: unknown; error?: string; message?: string }): Omit<LayerReport, 'description'> {
  if (report.status !== 'active') return report;
  if (!reach.allowed || typeof reach.value !== 'string' || !reach.value.includes('granted server says hi')) {
    return { ...report, status: 'failed', reason: `the networked tool could not reach the server it is granted through the gateway (${reach.error ?? 'no answer'}: ${reach.message ?? String(reach.value)})` };
  }
  return { ...report, evidence: `${report.evidence}; the granted server answered through it` };
}

/** Die-with-host: detected, and then judged by what became of a busy tool's processes once its host was SIGKILLed. */
function dieWithHostLayer(layers: OsLayers, death: HostDeathResult): Omit<LayerReport, 'description'> {
  if (!layers.sandbox.available && !layers.setpriv) {
    return { layer: 'dieWithHost', status: 'unavailable', evidence: 'not detected', reason: unavailableReason(layers, 'dieWithHost'), remedy: 'install util-linux' };
  }
  const how = layers.sandbox.available ? "the sandbox launcher's parent-death signal" : `${layers.setpriv} --pdeathsig KILL`;
  if (death.error !== undefined) return { layer: 'dieWithHost', status: 'failed', evidence: `detected (${how}), but the probe could not run`, reason: death.error };
  if (death.survivors.length > 0) {
    return {
      layer: 'dieWithHost',
      status: 'failed',
      evidence: `its host killed with SIGKILL, a busy tool's processes ${death.survivors.join(', ')} lived on (killed by doctor)`,
      reason: `${how} did not end them`,
    };
  }
  return {
    layer: 'dieWithHost',
    status: 'active',
    evidence: `its host killed with SIGKILL, a busy tool's ${death.processes.length} processes were gone ${death.goneAfterMs} ms later (${how})`,
  };
}

export function layerReports(layers: OsLayers, rounds: Record<RoundName, RoundResult>, cpuSeconds: number, death: HostDeathResult): LayerReport[] {
  const denoThrough = rounds.deno.results.filter((result) => result.escaped);
  const limitsSeen = rounds.os.limits ?? '';
  const cpuLimited = new RegExp(`^Max cpu time\\s+${cpuSeconds}\\s`, 'm').test(limitsSeen);
  const reports: Record<LayerName, Omit<LayerReport, 'description'>> = {
    hostChecks: { layer: 'hostChecks', status: 'active', evidence: 'always on: the probe plugin was loaded through the manifest, grant and bundle checks' },
    denoPermissions:
      denoThrough.length === 0
        ? { layer: 'denoPermissions', status: 'active', evidence: `${rounds.deno.results.length} escapes with the namespaces off: all refused by Deno` }
        : { layer: 'denoPermissions', status: 'failed', evidence: `with the namespaces off these got through: ${names(denoThrough)}`, reason: "Deno's flags did not hold" },
    osLimits: !layers.prlimit
      ? { layer: 'osLimits', status: 'unavailable', evidence: 'not detected', reason: unavailableReason(layers, 'osLimits'), remedy: 'install util-linux' }
      : cpuLimited
        ? { layer: 'osLimits', status: 'active', evidence: `the probe process runs with "Max cpu time ${cpuSeconds}" (${layers.prlimit})` }
        : { layer: 'osLimits', status: 'failed', evidence: `the probe process did not see a ${cpuSeconds} s CPU limit`, reason: 'prlimit did not take effect' },
    dieWithHost: dieWithHostLayer(layers, death),
    networkNamespace: namespaceLayer('networkNamespace', layers.sandbox.available || layers.unshare !== null, layers, rounds),
    mountNamespace: withConfinement(namespaceLayer('mountNamespace', layers.sandbox.available, layers, rounds), rounds.os.status),
    egressGateway: gatewayLayer(namespaceLayer('egressGateway', true, layers, rounds, 'gateway'), rounds.gateway.grantedReach),
  };
  return LAYER_NAMES.map((layer) => ({ ...reports[layer], description: LAYER_DESCRIPTIONS[layer] }));
}
