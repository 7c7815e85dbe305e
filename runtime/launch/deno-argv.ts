import type { LaunchConfig } from '../config/launch-config.ts';
import type { Grants } from '../grants/grants.ts';
import { LAUNCH_TOKEN_ENV } from '../../plugin-sdk/protocol/constants.ts';
import { PluginRuntimeError } from '../errors.ts';
import { denyNetFor } from '../egress/deny-ranges.ts';

export interface ArgvInput {
  config: LaunchConfig;
  grants: Grants;
  bundlePath: string;
  heapMb: number;
  /** The egress gateway a tool with network grants goes through (its proxy address joins `--allow-net`). */
  gateway?: { host: string; port: number };
}

/** Deno splits permission lists on commas, so a comma in an entry would grant something else. */
function permissionList(flag: string, entries: readonly string[]): string {
  for (const entry of entries) {
    if (entry.includes(',')) {
      throw new PluginRuntimeError('config_invalid', `${flag} entry "${entry}" contains a comma, which Deno reads as a list separator`);
    }
  }
  return `${flag}=${entries.join(',')}`;
}

/**
 * The exact Deno argv for one tool process. Pure: grants in, argv out.
 * Every permission not granted is denied explicitly; the token variable is the only
 * environment access (Deno reads the proxy variables itself, without a permission); the
 * bundle path is the last argument.
 */
export function buildDenoArgv({ config, grants, bundlePath, heapMb, gateway }: ArgvInput): string[] {
  const argv = [...config.deno.baseFlags, `--allow-env=${LAUNCH_TOKEN_ENV}`];
  if (grants.network.length === 0) argv.push('--deny-net');
  else if (!gateway) argv.push(permissionList('--allow-net', grants.network));
  else {
    // The granted names (Deno checks a proxied request's target by name) and the gateway
    // itself; every special address but the gateway's and the literally granted ones denied.
    argv.push(permissionList('--allow-net', [...grants.network, `${gateway.host}:${gateway.port}`]));
    argv.push(permissionList('--deny-net', denyNetFor(grants.network, gateway.host, gateway.port)));
  }
  argv.push(grants.read.length > 0 ? permissionList('--allow-read', grants.read) : '--deny-read');
  argv.push(grants.write.length > 0 ? permissionList('--allow-write', grants.write) : '--deny-write');
  argv.push(`--v8-flags=--max-old-space-size=${heapMb}`);
  argv.push(bundlePath);
  return argv;
}
