import { definePlugin, type ToolContext } from 'manasvi-plugins/plugin-sdk';

const NOTE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const SUFFIX = '.txt';

// The host validates names against the input schema first; checking again here means the
// plugin stays safe even under a host or schema that lets a "../" through.
function noteFile(folder: string, name: unknown): string {
  if (typeof name !== 'string' || !NOTE_NAME.test(name)) {
    throw new Error('a note name is 1-64 letters, digits, "-" or "_" (no slashes, no dots)');
  }
  return `${folder}/${name}${SUFFIX}`;
}

// The data folder is whatever the host granted this tool: the plugin never guesses its cwd.
function dataFolder(paths: readonly string[]): string {
  const folder = paths[0];
  if (!folder) throw new Error('no data folder is granted to this tool');
  return folder;
}

definePlugin({
  tools: {
    write_note: async (args: { name: string; text: string }, ctx: ToolContext) => {
      const file = noteFile(dataFolder(ctx.grants.write), args.name);
      await Deno.writeTextFile(file, args.text);
      return { name: args.name, bytes: new TextEncoder().encode(args.text).length };
    },
    read_note: async (args: { name: string }, ctx: ToolContext) => {
      const file = noteFile(dataFolder(ctx.grants.read), args.name);
      try {
        return { name: args.name, text: await Deno.readTextFile(file) };
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) throw new Error(`no note named "${args.name}"`);
        throw error;
      }
    },
    list_notes: async (_args: unknown, ctx: ToolContext) => {
      const names: string[] = [];
      for await (const entry of Deno.readDir(dataFolder(ctx.grants.read))) {
        if (entry.isFile && entry.name.endsWith(SUFFIX)) names.push(entry.name.slice(0, -SUFFIX.length));
      }
      return { notes: names.sort() };
    },
  },
});
