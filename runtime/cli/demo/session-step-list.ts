/**
 * The MCP session's steps, in the order it runs and prints them. mcp-steps.ts keys its
 * runners by these labels (a label without a runner, or a runner without a label, does not
 * compile) and `demo --help` lists them. Kept apart from the runners so the help text does
 * not load the MCP SDK.
 */
export const SESSION_STEPS = [
  { label: 'initialize', summary: "the server's name and version" },
  { label: 'refused at load', summary: 'notes, refused under the policy, is left out and the client is told why' },
  { label: 'tools/list', summary: 'the tools of echo, rogue and counter, none of notes' },
  { label: 'tools/call', summary: 'echo__echo answers' },
  { label: 'escape attempt', summary: 'rogue__reach_host is blocked; the server nobody is granted receives nothing' },
  { label: 'bad arguments', summary: 'JSON-RPC error -32602, data.issues naming the field' },
  { label: 'progress', summary: "counter__count's ctx.progress reports arrive as notifications/progress" },
  { label: 'plugin log', summary: "counter's stderr line arrives as notifications/message" },
  { label: 'close', summary: 'the bridge exits, and every tool process its audit recorded is gone' },
] as const;

/** The label of one of the session's steps. */
export type SessionStepLabel = (typeof SESSION_STEPS)[number]['label'];
