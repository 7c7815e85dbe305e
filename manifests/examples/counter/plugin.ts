import { definePlugin, type ToolContext } from 'manasvi-plugins/plugin-sdk';

/** After each count: slower than the host forwards progress, so no report is coalesced away. */
const STEP_MS = 100;

/** Waits `ms`; rejects at once if the call is cancelled meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

definePlugin({
  tools: {
    count: async (args: { to: number }, ctx: ToolContext) => {
      // stderr is the plugin's log: the host tags each line with plugin and tool (over MCP, a log message).
      console.error(`counting to ${args.to}`);
      // Report, then pause: the pause after the last report also keeps it apart from the
      // result. The TypeScript SDK's client handles a notification a microtask after a
      // response read with it, by when the call's progress handler is gone.
      for (let done = 1; done <= args.to; done += 1) {
        ctx.progress(done, args.to, `counted ${done}`);
        await pause(STEP_MS, ctx.signal);
      }
      return { counted: args.to };
    },
  },
});
