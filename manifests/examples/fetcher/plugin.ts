import { definePlugin, type ToolContext } from 'manasvi-plugins/plugin-sdk';

const MAX_BODY_CHARS = 2000;

definePlugin({
  tools: {
    // Deno's --allow-net (from the tool's sandbox) decides which hosts this can reach;
    // the plugin itself applies no list of its own.
    fetch_url: async (args: { url: string }, ctx: ToolContext) => {
      const response = await fetch(args.url, { signal: ctx.signal, redirect: 'manual' });
      const body = await response.text();
      return { status: response.status, body: body.slice(0, MAX_BODY_CHARS), truncated: body.length > MAX_BODY_CHARS };
    },
  },
});
