import { DEMO_SCENARIOS } from './demo/scenario-list.ts';
import { SESSION_STEPS } from './demo/session-step-list.ts';
import { wrapText } from './demo/wrap-text.ts';

const HELP_WIDTH = 80;

/** `items` as help lines: each name in a column, its summary wrapped beside it. */
function namedLines(items: readonly { name: string; summary: string }[]): string[] {
  const nameWidth = Math.max(...items.map(({ name }) => name.length)) + 2;
  return items.flatMap(({ name, summary }) =>
    wrapText(summary, HELP_WIDTH - 2 - nameWidth).map((line, i) => `  ${(i === 0 ? name : '').padEnd(nameWidth)}${line}`),
  );
}

/** Lists every scenario and every MCP session step the demo runs, from the lists it runs them from. */
function demoHelp(): string {
  const scenarios = namedLines(DEMO_SCENARIOS);
  const steps = namedLines(SESSION_STEPS.map(({ label, summary }) => ({ name: label, summary })));
  return `Usage: manasvi-plugins demo [options]

Starts two loopback servers, loads the example plugins, calls their tools and prints
what was allowed, what was blocked and by which layer, with each row's time and the
total elapsed time. Then it serves examples over MCP: \`manasvi-plugins mcp\` as a
child process, driven by the official MCP SDK's client over stdio, as any MCP client
would. Exits 1 if anything did not behave as expected (above all, an escape
that was not blocked). Everything the demo writes goes to a temporary folder it
removes, never into the package's own folder.

Scenarios of the table, one per example plugin but counter, in the order they are
printed:
${scenarios.join('\n')}

Steps of the MCP session (echo, rogue, counter, and notes to be refused, under the
demo's policy), in the order they are printed:
${steps.join('\n')}

The bridge is this same CLI under this Node: dist/cli.js when the demo runs compiled
(the bin), or the same TypeScript sources under the same loader when it runs from
source (npm start), so it never runs a stale or missing dist/.

Options:
  --mcp        run the MCP session only, not the table
  --verbose    also print, per scenario: each grant decision made at load with the
               rule that decided, each tool process's exact launch command (Deno's
               argv, and the OS layers around it), the refusals, kills and exits the
               audit recorded, and the plugin's stderr lines; and, for the MCP
               session, the bridge's exact command and its stderr
  -h, --help   show this help

The output fits the terminal's width (or $COLUMNS), between 80 and 100 columns.
`;
}

/** Help text, one entry per subcommand; `main` is the overview. */
export const HELP = {
  main: `Usage: manasvi-plugins <command> [options]

Hosts untrusted plugins, each tool in its own Deno process with the permissions its
manifest declares and the operator grants.

Commands:
  call <manifest> <tool>   run one tool and print its result
  validate <manifest>...   check manifests (schema, tool sandboxes, confined bundle)
  inspect <manifest>       show grants, refusals and the exact Deno argv of each tool
  init <folder>            scaffold a plugin that validates and runs at once
  mcp <manifest>...        serve the plugins' granted tools as one MCP server on stdio
  demo                     run the example plugins, rogue ones included, then over
                           MCP (npm start)
  doctor                   prove each enforcement layer on this host with probe plugins

<manifest> is a plugin's manifest.json, or its folder.
Run "manasvi-plugins <command> --help" for a command's options.
`,
  call: `Usage: manasvi-plugins call <manifest> <tool> [options]

Loads the plugin, calls one tool in its own sandboxed Deno process, prints the result.

Options:
  --args JSON        the tool's arguments (default {})
  --timeout MS       deadline for the call in milliseconds
  --json             print exactly {"ok":true,"value":...} or {"ok":false,"error":{"code","message"}}
  --policy FILE      the operator policy (default: nothing but provide-tools is granted)
  --audit FILE       append every audit record to FILE as JSON lines
  --allow-declared   DEVELOPMENT ONLY: grant everything the manifest declares
  -h, --help         show this help

Exit status: 0 the call succeeded, 1 it failed, 2 usage error.
`,
  init: `Usage: manasvi-plugins init <folder> [options]

Scaffolds a plugin in <folder> (created if missing; an existing one must be empty,
nothing is ever overwritten): manifest.json with its $schema, plugin.ts with one typed
tool handler, deno.json and tsconfig.json that map manasvi-plugins/plugin-sdk for
\`deno check\` and \`tsc\`, plugin.test.mjs for \`node --test\`, and a README. It
validates and runs as written; it prints the next three commands.

Options:
  --name N           the plugin name (default: from the folder's name); [a-z0-9-]{1,64}
  --tool T           the tool's name (default hello); [a-z][a-z0-9_-]{0,63}
  --capability NAME  also declare access-filesystem (./data), access-network or
                     access-secret (API_KEY); repeatable. The tool's sandbox stays
                     empty, so it runs without a policy.
  -h, --help         show this help

Exit status: 0 created, 2 usage error (a bad flag, a folder that is not empty).
`,
  mcp: `Usage: manasvi-plugins mcp <manifest>... [options]

Serves the granted tools of the listed plugins as one MCP (Model Context Protocol)
server over stdin/stdout, for Claude Desktop, VS Code, Claude Code or any MCP client.
Each tool is named <plugin>__<tool>, with its manifest's description and input schema;
each call runs in the tool's own sandboxed Deno process, through every host check.
A plugin that cannot be loaded is left out; why is said on stderr, in the audit, and
to the client as a log message. stdout carries nothing but MCP; everything else goes
to stderr. The session ends when the client closes stdin, or on SIGINT or SIGTERM,
and every tool process is stopped with it.

Options:
  --policy FILE      the operator policy (default: nothing but provide-tools is granted)
  --audit FILE       append every audit record to FILE as JSON lines
  --allow-declared   DEVELOPMENT ONLY: grant everything each manifest declares
  -h, --help         show this help

Exit status: 0 the session ended, 1 it could not start (every plugin listed was
refused, or two plugins claim one tool name), 2 usage error.
`,
  validate: `Usage: manasvi-plugins validate <manifest>... [options]

Validates each manifest (every issue named by its field path), checks each tool's
sandbox against what the manifest declares, and bundles the entry with resolution
confined to the plugin's folder, so an import that escapes it is reported.

Options:
  --json       print {"ok":bool,"manifests":[{"manifest","ok","issues":[{"path","message"}]}]}
  -h, --help   show this help

Exit status: 0 all valid, 1 any invalid, 2 usage error.
`,
  inspect: `Usage: manasvi-plugins inspect <manifest> [options]

Shows what loading the plugin would grant and launch, without starting anything: each
declared scope granted or refused with the rule that decided, and for each tool its
grants and the exact Deno argv of its process.

Options:
  --policy FILE      the operator policy (default: nothing but provide-tools is granted)
  --against FILE     an approved manifest: list every scope this one widens
  --audit FILE       append every audit record to FILE as JSON lines
  --allow-declared   DEVELOPMENT ONLY: grant everything the manifest declares
  --json             print the same as JSON
  -h, --help         show this help

Exit status: 0 shown, 1 the plugin cannot be loaded or (with --against) the update
widens something, 2 usage error.
`,
  demo: demoHelp(),
  doctor: `Usage: manasvi-plugins doctor [options]

Proves each enforcement layer on this host. A probe plugin tries real escapes (files
outside its grants, /proc of the host, signals to the host and a sibling tool, sockets,
FFI) three ways: with Deno's flags in force and no namespaces; with Deno's flags
stripped under the OS layers alone; and with both gone, which must let every escape
through (the positive control). Each layer is then active, unavailable (with the
reason and what would enable it) or failed.

Options:
  --require LAYERS   comma-separated layers that must be active (added to
                     deno-launch.json's layers.require): ${'hostChecks, denoPermissions, osLimits, dieWithHost, networkNamespace, mountNamespace'}
  --json             print the report as JSON
  -h, --help         show this help

Exit status: 0 every layer active or unavailable and every required one active,
1 a layer failed or a required one is not active, 2 usage error.
`,
} as const;

export type CommandName = Exclude<keyof typeof HELP, 'main'>;

/** Prints a command's help to stdout; returns exit status 0. */
export function printHelp(name: CommandName): number {
  process.stdout.write(HELP[name]);
  return 0;
}
