import * as v from 'valibot';

/**
 * The enforcement layers by name: what `runtime.layers` reports, `inspect` lists per tool,
 * `doctor` proves, and `deno-launch.json` or the policy may require (`layers.require`).
 */
export const LAYER_NAMES = ['hostChecks', 'denoPermissions', 'osLimits', 'dieWithHost', 'networkNamespace', 'mountNamespace', 'egressGateway'] as const;

export type LayerName = (typeof LAYER_NAMES)[number];

/** What each layer is, in a line. */
export const LAYER_DESCRIPTIONS: Record<LayerName, string> = {
  hostChecks: 'manifest, grant, bundle, channel and capability checks in the host',
  denoPermissions: "Deno's permission flags, computed per tool from its grants",
  osLimits: 'CPU-seconds and file-size limits set by the kernel (prlimit)',
  dieWithHost: 'the kernel kills a plugin process when the host dies (parent-death signal)',
  networkNamespace: 'a network namespace of its own: empty for a tool with no network grant, bridged to the egress gateway alone for one with grants',
  mountNamespace: 'user, mount, PID, IPC and UTS namespaces: a file system holding only Deno, the bundle and the grants',
  egressGateway: "the host's proxy every connection of a tool with network grants goes through: judged by the address actually dialled, audited, limited",
};

/** A layer named in `layers.require` (deno-launch.json, a policy entry). */
export const RequiredLayerSchema = v.picklist(LAYER_NAMES, `one of ${LAYER_NAMES.join(', ')}`);
