import type { SecretInjection } from '../grants/grants.ts';
import type { ConnectionBudget } from './connection-budget.ts';
import type { EgressRule } from './egress-rules.ts';

/** What the gateway records for each connection (the `egress` audit record, without its subject). */
export interface EgressEvent {
  /** `http`: a plain request forwarded; `connect`: a CONNECT tunnel; `websocket`: a plain-HTTP upgrade; `dns`: a name query the tool's namespace turned away. */
  kind: 'http' | 'connect' | 'websocket' | 'dns';
  host: string;
  port: number;
  /** The vetted address dialled (or, refused, the address that was refused). */
  address?: string;
  decision: 'allowed' | 'refused';
  /** The grant that allowed it, or why it was refused. */
  rule: string;
  bytesUp?: number;
  bytesDown?: number;
  durationMs?: number;
  /** The upstream's status for a plain request. */
  status?: number;
  /** The secret the gateway injected into requests on this connection (its name, never its value). */
  injected?: string;
  /** Why the gateway ended a connection it had allowed (a limit passed mid-stream). */
  cut?: string;
}

/** One tool process as the gateway knows it, from its registration to its exit. */
export interface EgressLaunch {
  plugin: string;
  tool: string;
  launchId: string;
  rules: readonly EgressRule[];
  injections: readonly SecretInjection[];
  budget: ConnectionBudget;
  /** Reads a secret to inject (undefined when the store has none by that name). */
  readSecret(name: string): Promise<string | undefined>;
  record(event: EgressEvent): void;
}
