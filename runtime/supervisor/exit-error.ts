import type { Violation } from '../channel/parse-inbound.ts';
import { PluginRuntimeError } from '../errors.ts';
import type { HandshakeFailureReason } from '../handshake/token-registry.ts';

/** V8's own words when the heap limit is hit. */
export const HEAP_EXHAUSTED = /Fatal JavaScript out of memory|Reached heap limit|JavaScript heap out of memory/;

export interface ExitFacts {
  plugin: string;
  tool: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string[];
  /** V8 said on stderr that the heap limit was hit. */
  heapExhausted: boolean;
}

/**
 * Why a process that exited by itself ended, as the error its calls fail with: an OS limit
 * (SIGXCPU, SIGXFSZ from prlimit), V8's heap limit, or a plain crash. Pure.
 */
export function exitError({ plugin, tool, code, signal, stderrTail, heapExhausted }: ExitFacts): PluginRuntimeError {
  const details = { exitCode: code, signal, stderr: stderrTail };
  const limit = signal === 'SIGXCPU' ? 'cpu' : signal === 'SIGXFSZ' ? 'file_size' : heapExhausted ? 'heap' : null;
  if (limit) {
    return new PluginRuntimeError('resource_exhausted', `the ${tool} process passed its ${limit} limit`, {
      details: { ...details, limit },
    });
  }
  const how = signal ? `signal ${signal}` : `exit code ${code}`;
  return new PluginRuntimeError('plugin_crashed', `the ${tool} process of ${plugin} ended (${how})`, { details });
}

/** A ready process that stopped answering pings: it is killed, its calls fail with this. */
export function unresponsiveError(tool: string, missedPings: number): PluginRuntimeError {
  return new PluginRuntimeError('plugin_crashed', `the ${tool} process stopped answering pings and was killed`, {
    details: { reason: 'unresponsive', missedPings },
  });
}

/** A process whose resident memory passed its limit (V8's heap flag does not cap ArrayBuffers). */
export function rssExceededError(tool: string, rssMb: number, limitMb: number): PluginRuntimeError {
  return new PluginRuntimeError('resource_exhausted', `the ${tool} process passed its memory limit: rss ${rssMb} MB > ${limitMb} MB`, {
    details: { limit: 'rss', rssMb, limitMb },
  });
}

/** A process that broke the protocol: it is killed, its calls fail with this. */
export function violationError(plugin: string, tool: string, violation: Pick<Violation, 'reason' | 'detail'>): PluginRuntimeError {
  return new PluginRuntimeError('protocol_violation', `plugin ${plugin} (${tool}) broke the protocol: ${violation.detail}`, {
    details: { reason: violation.reason },
  });
}

/** A process that failed its launch handshake, with what it said on stderr. */
export function handshakeError(plugin: string, tool: string, reason: HandshakeFailureReason, stderr: string[]): PluginRuntimeError {
  return new PluginRuntimeError('handshake_failed', `plugin ${plugin} (${tool}) failed the launch handshake: ${reason}`, {
    details: { reason, stderr },
  });
}
