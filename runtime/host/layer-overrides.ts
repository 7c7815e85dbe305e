import type { OsLayers } from '../launch/os-limits.ts';

/**
 * Layers taken away on purpose, to measure the ones left: `doctor` and the escape suite
 * run the same plugins with Deno's permission flags stripped (standing in for a Deno
 * permission bug) and with the OS layers off (the positive control that an escape
 * contained is contained by a layer, not by a missing file). Internal: never part of
 * the public options, and every launch record shows the argv and wrapper actually run.
 */
export interface LayerOverrides {
  /** Every `--allow-*`/`--deny-*` flag replaced by one `--allow-all`. */
  stripDenoPermissions?: boolean;
  /** Run without the sandbox and without any network namespace. */
  withoutNamespaces?: boolean;
  /** Tools with network grants get no proxy variables: they connect directly, past the egress gateway. */
  withoutEgressGateway?: boolean;
}

const isPermissionFlag = (arg: string) => /^--(allow|deny)-/.test(arg);

/** Deno's argv with its permission flags replaced by `--allow-all` (in the first one's place). */
export function stripPermissions(argv: readonly string[]): string[] {
  const first = argv.findIndex(isPermissionFlag);
  if (first === -1) return [...argv];
  return [...argv.slice(0, first), '--allow-all', ...argv.slice(first).filter((arg) => !isPermissionFlag(arg))];
}

/** The layers and argv a launch gets once the overrides are applied. Pure. */
export function withOverrides(layers: OsLayers, overrides: LayerOverrides, argv: string[]): { layers: OsLayers; argv: string[] } {
  return {
    layers: overrides.withoutNamespaces ? { ...layers, unshare: null, sandbox: { available: false, reason: 'turned off for this measurement' } } : layers,
    argv: overrides.stripDenoPermissions ? stripPermissions(argv) : argv,
  };
}
