import type { LoggingMessageNotification } from '@modelcontextprotocol/sdk/types.js';
import type { PluginLogLine } from '../host/plugin-handle.ts';
import type { Timers } from '../timers.ts';
import { TokenBucket } from '../token-bucket.ts';

export type LogParams = LoggingMessageNotification['params'];

/** Where plugin lines go as MCP log messages: `logger` is `<plugin>/<tool>`, `data` the line. */
export const PLUGIN_LOG_LEVEL = 'info';

/**
 * Plugin stderr lines as MCP `notifications/message`, at most `perSecond` a second for the
 * whole bridge (a token bucket holding one second's worth): a chatty plugin cannot flood
 * the client, whose context may be what a model reads. Lines over the rate are dropped and
 * counted; the next line that gets through is preceded by a warning saying how many. The
 * lines arrive already printable (control characters escaped) and cut to
 * `limits.stderrLineBytes` by the supervisor.
 */
export class LogForwarder {
  readonly #send: (params: LogParams) => void;
  readonly #rate: TokenBucket;
  /** Lines dropped since the last warning about it. */
  #dropped = 0;
  /** Lines dropped in all. */
  droppedTotal = 0;

  constructor(send: (params: LogParams) => void, perSecond: number, clock?: Pick<Timers, 'now'>) {
    this.#send = send;
    this.#rate = new TokenBucket(perSecond, clock);
  }

  /** A plugin's stderr line. */
  line({ plugin, tool, line }: PluginLogLine): void {
    if (!this.#rate.take()) {
      this.#dropped++;
      this.droppedTotal++;
      return;
    }
    if (this.#dropped > 0) {
      const data = `${this.#dropped} plugin log lines dropped: over ${this.#rate.perSecond} a second`;
      this.#send({ level: 'warning', logger: 'manasvi-plugins', data });
      this.#dropped = 0;
    }
    this.#send({ level: PLUGIN_LOG_LEVEL, logger: `${plugin}/${tool}`, data: line });
  }
}
