import path from 'node:path';
import { selfCommand } from '../self-command.ts';
import { type BridgeClient, connectBridge } from './bridge-client.ts';
import { printableLine } from './demo-row.ts';
import type { LoopbackServer } from './loopback-server.ts';
import { type SessionContext, STEP_RUNNERS } from './mcp-steps.ts';
import { SESSION_STEPS, type SessionStepLabel } from './session-step-list.ts';

/** What the session needs from the rest of the demo. */
export interface McpSessionOptions {
  /** The demo's temporary folder (the bridge's audit file goes there) and its policy file. */
  root: string;
  policyFile: string;
  /** The plugins given to the bridge: three it serves, one the policy refuses. */
  manifests: { echo: string; rogue: string; counter: string; refused: { plugin: string; manifest: string } };
  forbidden: LoopbackServer;
  /** Receives a way to stop the bridge at once, for an interrupt in the middle of the session. */
  onStarted?(stop: () => Promise<void>): void;
}

/** One printed step. */
export interface StepResult {
  label: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export interface McpSessionResult {
  /** The bridge's arguments after `manasvi-plugins`. */
  argv: string[];
  /** The exact command the bridge was started with (for --verbose); absent when it could not be. */
  command?: string[];
  steps: StepResult[];
  /** The bridge's stderr lines. */
  stderr: readonly string[];
}

async function runStep(label: SessionStepLabel, ctx: SessionContext): Promise<StepResult> {
  const started = performance.now();
  try {
    return { label, ...(await STEP_RUNNERS[label](ctx)), ms: performance.now() - started };
  } catch (error) {
    // A step that throws (a timeout, an unexpected JSON-RPC error) has not behaved as expected.
    const detail = `threw ${printableLine(error instanceof Error ? `${error.name}: ${error.message}` : String(error))}`;
    return { label, ok: false, detail, ms: performance.now() - started };
  }
}

/**
 * Runs `manasvi-plugins mcp` as a child process, exactly as an MCP client configured with
 * it would, and drives it with the official SDK's Client: each step of
 * {@link SESSION_STEPS} in turn (one failing does not stop the others), close last, which
 * also checks that no tool process outlives the bridge. A bridge that cannot be started
 * (its entry point missing) or initialized is one failed step.
 */
export async function runMcpSession(options: McpSessionOptions): Promise<McpSessionResult> {
  const auditFile = path.join(options.root, 'mcp-audit.jsonl');
  const { echo, rogue, counter, refused } = options.manifests;
  const argv = ['mcp', '--policy', options.policyFile, '--audit', auditFile, echo, rogue, counter, refused.manifest];
  const command = selfCommand(argv);
  if (command.missing !== undefined) {
    return { argv, steps: [{ label: 'start bridge', ok: false, detail: command.missing, ms: 0 }], stderr: [] };
  }

  const full = [command.command, ...command.args];
  const started = performance.now();
  const stderr: string[] = [];
  let bridge: BridgeClient;
  try {
    bridge = await connectBridge(command.command, command.args, stderr);
  } catch (error) {
    const detail = `the bridge did not initialize: ${printableLine(error instanceof Error ? error.message : String(error))}`;
    return { argv, command: full, steps: [{ label: 'initialize', ok: false, detail, ms: performance.now() - started }], stderr };
  }
  // initialize's time is the bridge's start: its process, loading the plugins, the handshake.
  const connectMs = performance.now() - started;
  options.onStarted?.(() => bridge.close());
  const ctx: SessionContext = { bridge, forbidden: options.forbidden, refused, auditFile };
  const steps: StepResult[] = [];
  // One at a time, in order: a step can wait for a notification an earlier one caused.
  for (const { label } of SESSION_STEPS) if (label !== 'close') steps.push(await runStep(label, ctx));
  steps.push(await runStep('close', ctx));
  steps[0]!.ms += connectMs;
  return { argv, command: full, steps, stderr };
}
