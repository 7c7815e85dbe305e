/**
 * The closed message catalogue as TypeScript types, shared by host and SDK.
 * The host validates every inbound (plugin→host) message with the valibot schemas in
 * `runtime/channel/inbound-schemas.ts`; these types are what both sides construct.
 * They stay hand-written so the SDK bundles no validator: `tests/channel/inbound-schemas.test.ts`
 * has `tsc` prove each plugin→host type equal to its schema's output.
 */

export interface WireErrorBody {
  code: string;
  message: string;
}

/** Grants as the process sees them in `welcome` (paths canonical). */
export interface WelcomeGrants {
  provideTools: boolean;
  network: string[];
  secrets: string[];
  read: string[];
  write: string[];
}

// plugin → host
export interface HelloMessage { type: 'hello'; token: string; protocol: number }
/**
 * `tools`: the launched tools this process serves (the host requires exactly the launched one).
 * `handlers`: every tool the entry has a handler for, so the host can name what is missing;
 * informational only, it registers nothing.
 */
export interface ToolsRegisterMessage { type: 'tools.register'; tools: string[]; handlers?: string[] }
export type ResultMessage =
  | { type: 'result'; id: string; ok: true; value: unknown }
  | { type: 'result'; id: string; ok: false; error: WireErrorBody };
export interface PongMessage { type: 'pong'; seq: number; stats?: { heapUsedBytes?: number; rssBytes?: number; inFlight?: number } }
export interface SecretGetMessage { type: 'secret.get'; requestId: string; callId: string; name: string; token: string }
export interface ShutdownAckMessage { type: 'shutdown.ack' }
/**
 * How far a call in flight has got: `done` rises with every frame, `total` (when known)
 * is at least `done`. The host forwards it to whoever made the call (an MCP client's
 * `notifications/progress`).
 */
export interface ProgressMessage { type: 'progress'; id: string; done: number; total?: number; message?: string }

// host → plugin
export interface WelcomeMessage {
  type: 'welcome';
  launchId: string;
  plugin: string;
  tools: string[];
  grants: WelcomeGrants;
  /** One opaque token per granted capability scope, keyed by `capabilityScopeKey` (scope-keys.ts): "access-secret:NAME". */
  capabilityTokens: Record<string, string>;
  /** `progressPerSecond`: the most `progress` frames per call per second the host forwards; the SDK sends no more. */
  limits: { maxFrameBytes: number; progressPerSecond: number };
  heartbeatIntervalMs: number;
}
export interface CallMessage { type: 'call'; id: string; tool: string; args: unknown; timeoutMs: number }
export interface CancelMessage { type: 'cancel'; id: string; reason: 'timeout' | 'cancelled' | 'shutting_down' }
export interface PingMessage { type: 'ping'; seq: number }
export type ReplyMessage =
  | { type: 'reply'; requestId: string; ok: true; value: unknown }
  | { type: 'reply'; requestId: string; ok: false; error: WireErrorBody };
export interface ShutdownMessage { type: 'shutdown'; graceMs: number }

export type PluginToHostMessage =
  | HelloMessage
  | ToolsRegisterMessage
  | ResultMessage
  | PongMessage
  | SecretGetMessage
  | ShutdownAckMessage
  | ProgressMessage;

export type HostToPluginMessage =
  | WelcomeMessage
  | CallMessage
  | CancelMessage
  | PingMessage
  | ReplyMessage
  | ShutdownMessage;
