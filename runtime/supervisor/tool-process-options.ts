import type { SecretGetMessage } from '../../plugin-sdk/protocol/messages.ts';
import type { AuditFields } from '../audit/audit-record.ts';
import type { SecretAnswer } from '../capabilities/secret-gate.ts';
import type { GateAuthority } from '../channel/channel-gate.ts';
import type { ChannelState } from '../channel/message-catalogue.ts';
import type { LaunchConfig } from '../config/launch-config.ts';
import type { Grants } from '../grants/grants.ts';
import type { TokenRegistry } from '../handshake/token-registry.ts';
import type { ProcessEvent } from './tool-states.ts';
import type { BudgetHooks } from '../egress/connection-budget.ts';

/** A launch's admission to the egress gateway: the proxy variables of its environment, its call windows, its end. */
export interface EgressLease {
  env: Readonly<Record<string, string>>;
  /** A call was sent: its connections and bytes are allowed from now. */
  callStarted(): void;
  /** The process has exited: its credential is dead. */
  revoke(): void;
  /** Refused connections not recorded one by one (past the launch's denial budget). */
  readonly unrecorded: number;
}

/** The lifecycle of one tool process; the channel's view of it is derived (see ToolProcess). */
export type ProcessState = 'launching' | 'handshaking' | 'ready' | 'draining' | 'stopped' | 'crashed';

/**
 * The channel's view of a process's state: the handshake splits `handshaking` at `welcome`
 * (`registering`), and a process that ended reads nothing. Derived, never kept, so the
 * process and its channel cannot disagree.
 */
export function channelStateOf(state: ProcessState, awaiting: 'hello' | 'register' | 'done'): ChannelState {
  if (state === 'launching' || state === 'handshaking') return awaiting === 'hello' ? 'handshaking' : 'registering';
  return state === 'ready' || state === 'draining' ? state : 'closed';
}

/** What the supervisor reports about a process, beyond its state: the list in tool-states.ts. */
export type { ProcessEvent };

/**
 * Reads the secret a `secret.get` names, once the channel gate has admitted it (granted,
 * valid token): the value, or a typed refusal. Supplied by the capability layer.
 */
export type SecretReader = (
  request: SecretGetMessage,
  process: { launchId: string; inFlight: (callId: string) => boolean },
) => Promise<SecretAnswer>;

export interface ToolProcessOptions {
  plugin: string;
  tool: string;
  grants: Grants;
  /** Deno's argv (what `inspect` shows and the audit records). */
  argv: string[];
  /** The program and arguments actually spawned: Deno's argv under the OS layers. */
  command: [string, string[]];
  /** Where this process's own DENO_DIR is made at spawn (removed after exit): see process-storage.ts. */
  storageRoot: string;
  /** Per-process limits the host watches (RSS) on top of what Deno and the OS enforce. */
  rssMb: number;
  config: LaunchConfig;
  tokens: TokenRegistry;
  /** Capability tokens handed over at `welcome`, minted for this launch. */
  capabilityTokens: (launchId: string) => Record<string, string>;
  /** What this launch holds, for the channel gate: the plugin's grants, the sandbox's, its tokens. */
  authority: (launchId: string) => GateAuthority;
  readSecret: SecretReader;
  audit: (fields: AuditFields) => void;
  onLog: (line: string, launchId: string) => void;
  onEvent?: (event: ProcessEvent, detail: { launchId: string; reason?: string }) => void;
  /** The handlers the entry says it has, from its `tools.register` (see LaunchHandshake). */
  onHandlers?: (handlers: readonly string[]) => void;
  /** A call stopped being in flight (result, timeout or cancel), before its caller hears of it. */
  onSettled?: () => void;
  /** For a tool with network grants: admits this launch to the egress gateway. */
  egress?: (launchId: string, hooks: BudgetHooks) => EgressLease;
}
