import { GATEWAY_REFUSAL } from '../../egress/gateway-refusal.ts';
import { isPluginRuntimeError, type PluginHandle } from '../../index.ts';

export type Outcome = 'allowed' | 'blocked' | 'failed';

/** One line of the demo table: what was tried, what happened, and which layer decided. */
export interface DemoRow {
  plugin: string;
  attempt: string;
  expected: 'allowed' | 'blocked';
  outcome: Outcome;
  layer: string;
  /** Why it was blocked or failed (never shortened), or the value it returned. */
  detail: string;
  /** Wall time of the call or load, in milliseconds; absent for the host's own checks. */
  ms?: number;
}

/** A returned value longer than this is shortened, saying by how much; a reason never is. */
const VALUE_CHARS = 400;

/**
 * Text from a plugin or an error as one printable line. Control characters are shown as
 * `\xNN` (and bidirectional or invisible format characters as `\uNNNN`), so a hostile
 * plugin cannot move the cursor, recolour the operator's terminal or reorder what it shows.
 */
export function printableLine(text: string): string {
  // Deno's advice to re-run with a flag is noise in a table about refusing exactly that.
  return text
    .replace(/, run again with the --allow-\w+ flag/g, '')
    .replace(/\s+/g, ' ')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => {
      const code = c.charCodeAt(0);
      return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .trim();
}

/** A returned value, shortened when long: unlike a reason, it is not what the row is about. */
function valueLine(text: string): string {
  const line = printableLine(text);
  if (line.length <= VALUE_CHARS) return line;
  return `${line.slice(0, VALUE_CHARS)} [${line.length - VALUE_CHARS} more characters not shown]`;
}

const DENO_REFUSAL = /NotCapable|PermissionDenied|Requires \w+ access/;

/** Which layer stopped a call or load, judged by the error's code (never its text, except Deno's own). */
export function classifyError(error: unknown): { outcome: Outcome; layer: string; detail: string } {
  if (!isPluginRuntimeError(error)) {
    return { outcome: 'failed', layer: 'unexpected error', detail: printableLine(String(error)) };
  }
  const detail = printableLine(`${error.code}: ${error.message}`);
  switch (error.code) {
    case 'import_refused':
      return { outcome: 'blocked', layer: 'host bundler', detail };
    case 'sandbox_exceeds_grants':
    case 'grant_refused':
      return { outcome: 'blocked', layer: 'host grants/policy', detail };
    case 'capability_denied':
      return { outcome: 'blocked', layer: 'host capability gate', detail };
    case 'invalid_arguments':
    case 'unknown_tool':
      return { outcome: 'blocked', layer: 'host argument validation', detail };
    case 'tool_failed':
      // The tool ran and threw; if what it threw was Deno refusing a permission, Deno decided.
      if (DENO_REFUSAL.test(error.message)) return { outcome: 'blocked', layer: 'Deno permission', detail };
      return { outcome: 'failed', layer: 'plugin error', detail };
    default:
      return { outcome: 'failed', layer: error.code, detail };
  }
}

/** A hostile tool's report of its own attempt (rogue's tools, secrets' peek). */
interface AttemptReport {
  attempt: string;
  blocked: boolean;
  error?: string;
  leaked?: string;
}

function isAttemptReport(value: unknown): value is AttemptReport {
  return typeof value === 'object' && value !== null && typeof (value as AttemptReport).blocked === 'boolean';
}

/** "write data/", "net 127.0.0.1:8080": what the tool's process was granted, briefly. */
function grantSummary(plugin: PluginHandle, tool: string): string {
  const grants = plugin.tools.find((t) => t.name === tool)?.grants;
  if (!grants) return '';
  const base = (p: string) => `${p.split('/').at(-1)}/`;
  const parts = [
    ...grants.network.map((host) => `net ${host}`),
    ...grants.read.map((p) => `read ${base(p)}`),
    ...grants.write.map((p) => `write ${base(p)}`),
    ...grants.secrets.map((name) => `secret ${name}`),
  ];
  return parts.length > 0 ? `granted: ${parts.join(', ')}` : 'needs no grant';
}

/** A fetch result (`{status, body}`) whose body is the gateway's 403. */
function isGatewayRefusal(value: unknown): boolean {
  const answer = value as { status?: unknown; body?: unknown } | null;
  return answer?.status === 403 && typeof answer.body === 'string' && answer.body.startsWith(GATEWAY_REFUSAL);
}

/** Calls a tool and turns whatever happens into a row. */
export async function callRow(
  plugin: PluginHandle,
  tool: string,
  args: unknown,
  row: { attempt: string; expected: DemoRow['expected'] },
): Promise<DemoRow> {
  const started = performance.now();
  const result = await callOutcome(plugin, tool, args, { plugin: plugin.name, ...row });
  return { ...result, ms: performance.now() - started };
}

async function callOutcome(
  plugin: PluginHandle,
  tool: string,
  args: unknown,
  base: Pick<DemoRow, 'plugin' | 'attempt' | 'expected'>,
): Promise<DemoRow> {
  try {
    const value = await plugin.call(tool, args, { timeoutMs: 15_000 });
    if (isAttemptReport(value)) {
      if (value.blocked) {
        // A plugin can be refused by Deno (a permission) or by the host (a capability request).
        const layer = DENO_REFUSAL.test(value.error ?? '') ? 'Deno permission' : 'host capability gate';
        return { ...base, outcome: 'blocked', layer, detail: printableLine(value.error ?? '') };
      }
      // Failing for some reason other than a refused permission proves nothing either way.
      if (value.error !== undefined) return { ...base, outcome: 'failed', layer: 'plugin error', detail: printableLine(value.error) };
      return { ...base, outcome: 'allowed', layer: 'NOT BLOCKED', detail: valueLine(`leaked: ${value.leaked ?? ''}`) };
    }
    // An HTTP answer that is the egress gateway's refusal: the request never left the host.
    if (isGatewayRefusal(value)) return { ...base, outcome: 'blocked', layer: 'egress gateway', detail: valueLine(JSON.stringify(value)) };
    return { ...base, outcome: 'allowed', layer: grantSummary(plugin, tool), detail: valueLine(JSON.stringify(value)) };
  } catch (error) {
    return { ...base, ...classifyError(error) };
  }
}
