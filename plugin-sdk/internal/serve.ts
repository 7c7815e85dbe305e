import { LAUNCH_TOKEN_ENV, MAX_ERROR_MESSAGE_CHARS, NO_GRANTS, PROTOCOL_VERSION } from '../protocol/constants.ts';
import { FrameError } from '../protocol/frame.ts';
import type { CallMessage, ReplyMessage, WelcomeMessage } from '../protocol/messages.ts';
import { secretScopeKey } from '../protocol/scope-keys.ts';
import { progressReporter } from './progress-reporter.ts';
import { StdioChannel } from './stdio-channel.ts';
import type { PluginDefinition, ToolContext } from '../plugin-types.ts';

/** Frame limit used until `welcome` says otherwise (the hello frame is tiny). */
const INITIAL_MAX_FRAME_BYTES = 64 * 1024;

/** Runs the plugin side of the protocol until stdin closes or the host says shutdown. */
export async function serve(definition: PluginDefinition): Promise<never> {
  const token = Deno.env.get(LAUNCH_TOKEN_ENV) ?? '';
  Deno.env.delete(LAUNCH_TOKEN_ENV);

  const channel = new StdioChannel(INITIAL_MAX_FRAME_BYTES);
  const inFlight = new Map<string, AbortController>();
  const pendingReplies = new Map<string, (reply: ReplyMessage) => void>();
  let welcome: WelcomeMessage | null = null;
  let requestCounter = 0;

  await channel.send({ type: 'hello', token, protocol: PROTOCOL_VERSION });

  const secret = (callId: string) => async (name: string): Promise<string> => {
    const requestId = `r${++requestCounter}`;
    const capabilityToken = welcome?.capabilityTokens[secretScopeKey(name)] ?? '';
    const reply = await new Promise<ReplyMessage>((resolve) => {
      pendingReplies.set(requestId, resolve);
      void channel.send({ type: 'secret.get', requestId, callId, name, token: capabilityToken });
    });
    if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return String(reply.value);
  };

  const runCall = async (call: CallMessage): Promise<void> => {
    const controller = new AbortController();
    inFlight.set(call.id, controller);
    const handler = definition.tools[call.tool];
    const progress = progressReporter(call.id, welcome?.limits.progressPerSecond ?? 1, controller.signal, (message) => {
      void channel.send(message);
    });
    const context: ToolContext = {
      callId: call.id,
      tool: call.tool,
      signal: controller.signal,
      grants: welcome?.grants ?? NO_GRANTS,
      secret: secret(call.id),
      progress: progress.report,
    };
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      if (!handler) throw Object.assign(new Error(`no handler for tool ${call.tool}`), { code: 'unknown_tool' });
      outcome = { ok: true, value: await handler(call.args, context) };
    } catch (error) {
      outcome = { ok: false, error };
    } finally {
      // No progress may follow the result: the host would find no call in flight for it.
      progress.end();
    }
    try {
      if (outcome.ok) await sendResult(channel, call.id, outcome.value === undefined ? null : outcome.value);
      else await channel.send({ type: 'result', id: call.id, ok: false, error: toWireError(outcome.error) });
    } finally {
      inFlight.delete(call.id);
    }
  };

  for await (const message of channel.messages()) {
    switch (message.type) {
      case 'welcome': {
        welcome = message;
        channel.maxFrameBytes = message.limits.maxFrameBytes;
        const handlers = Object.keys(definition.tools).filter((tool) => typeof definition.tools[tool] === 'function');
        const served = message.tools.filter((tool) => handlers.includes(tool));
        // Only the launched tools are registered; the full list lets the host name what is missing.
        await channel.send({ type: 'tools.register', tools: served, handlers });
        break;
      }
      case 'call':
        void runCall(message);
        break;
      case 'cancel':
        inFlight.get(message.id)?.abort(message.reason);
        break;
      case 'ping':
        await channel.send({ type: 'pong', seq: message.seq, stats: stats(inFlight.size) });
        break;
      case 'reply':
        pendingReplies.get(message.requestId)?.(message);
        pendingReplies.delete(message.requestId);
        break;
      case 'shutdown':
        for (const controller of inFlight.values()) controller.abort('shutting_down');
        await channel.send({ type: 'shutdown.ack' });
        await channel.flushed();
        Deno.exit(0);
    }
  }
  // stdin closed: the host is gone or done with us.
  Deno.exit(0);
}

async function sendResult(channel: StdioChannel, id: string, value: unknown): Promise<void> {
  try {
    await channel.send({ type: 'result', id, ok: true, value });
  } catch (error) {
    if (!(error instanceof FrameError)) throw error;
    await channel.send({ type: 'result', id, ok: false, error: { code: 'result_too_large', message: error.message } });
  }
}

function toWireError(error: unknown): { code: string; message: string } {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'tool_failed';
  const message = error instanceof Error ? error.message : String(error);
  return { code: code.slice(0, 64), message: message.slice(0, MAX_ERROR_MESSAGE_CHARS) };
}

function stats(inFlightCount: number): { heapUsedBytes?: number; rssBytes?: number; inFlight: number } {
  try {
    const usage = Deno.memoryUsage();
    return { heapUsedBytes: usage.heapUsed, rssBytes: usage.rss, inFlight: inFlightCount };
  } catch {
    return { inFlight: inFlightCount };
  }
}
