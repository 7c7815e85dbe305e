import type { SecretInjection } from '../grants/grants.ts';
import type { LayerName } from '../layer-names.ts';
import type { EgressRule } from './egress-rules.ts';

/** How one tool reaches the network, as `inspect` shows it and the gateway applies it. */
export interface ToolNetworkPath {
  /** `none`: no network grant; `gateway`: every connection goes through the host's egress gateway. */
  via: 'none' | 'gateway';
  /**
   * `empty`: a network namespace with nothing in it; `bridged`: a namespace of its own whose
   * only way out is the bridge to the gateway (DNS answered by a sink that resolves nothing);
   * `host`: the host's network, where Deno's flags (exact names, special ranges denied) and
   * the proxy variables are what steer it to the gateway.
   */
  namespace: 'empty' | 'bridged' | 'host';
  /** The proxy the tool is given (its per-launch credential is added at each launch). */
  gateway?: string;
  /** The tool's grants as the gateway applies them. */
  rules: EgressRule[];
  /** Secrets the gateway adds to requests for a host; the tool never holds them. */
  injections: SecretInjection[];
}

/** The path a tool's grants and layers give it. Pure. */
export function toolNetworkPath(
  rules: EgressRule[],
  injections: SecretInjection[],
  layers: readonly LayerName[],
  gateway: { host: string; port: number } | undefined,
): ToolNetworkPath {
  const own = layers.includes('networkNamespace');
  if (rules.length === 0) return { via: 'none', namespace: own ? 'empty' : 'host', rules, injections };
  return {
    via: 'gateway',
    namespace: own ? 'bridged' : 'host',
    ...(gateway ? { gateway: `http://${gateway.host}:${gateway.port}` } : {}),
    rules,
    injections,
  };
}
