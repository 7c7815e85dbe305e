import { definePlugin } from 'manasvi-plugins/plugin-sdk';

async function hmacHex(key: string, text: string): Promise<string> {
  const encoder = new TextEncoder();
  const cryptoKey = await crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(text)));
  return Array.from(signature, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

definePlugin({
  tools: {
    sign: async (args: { text: string }, ctx) => ({ signature: await hmacHex(await ctx.secret('API_KEY'), args.text) }),
    peek: async (_args, ctx) => {
      try {
        await ctx.secret('API_KEY');
        return { attempt: 'read API_KEY from a tool whose sandbox does not name it', blocked: false };
      } catch (error) {
        return { attempt: 'read API_KEY from a tool whose sandbox does not name it', blocked: true, error: String((error as Error).message) };
      }
    },
  },
});
