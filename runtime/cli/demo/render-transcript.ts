import path from 'node:path';
import { PACKAGE_ROOT } from '../../package-root.ts';
import { shellLine, shellLines } from '../shell-quote.ts';
import { printableLine } from './demo-row.ts';
import type { McpSessionResult, StepResult } from './mcp-session.ts';
import { formatMs } from './render-table.ts';
import { wrapIndented } from './wrap-text.ts';

/** A failed step is marked the way the table marks an unexpected outcome, so it cannot be missed. */
const FAILED = 'FAILED!';

/** A path as the reader knows it: inside the package, or inside the demo's temporary folder. */
function shortPath(arg: string, root: string): string {
  if (!path.isAbsolute(arg)) return arg;
  for (const base of [root, PACKAGE_ROOT]) {
    const relative = path.relative(base, arg);
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return relative;
  }
  return arg;
}

function stepLines(step: StepResult, width: number): string[] {
  return wrapIndented(`${step.ok ? 'ok' : FAILED} ${step.label} (${formatMs(step.ms)}): ${step.detail}`, width, 2, 4);
}

/**
 * The MCP section: the bridge's command line, one entry per step (wrapped at spaces to
 * `width`, nothing shortened), and the verdict. `verbose`, or any failed step, adds the
 * bridge's exact argv and its stderr.
 */
export function renderTranscript(session: McpSessionResult, root: string, width: number, verbose: boolean): string {
  const failed = session.steps.filter((step) => !step.ok).length;
  const command = shellLine(['manasvi-plugins', ...session.argv.map((arg) => shortPath(arg, root))]);
  const lines = [
    '',
    ...wrapIndented(`MCP session: ${command}`, width, 0, 2),
    ...wrapIndented(
      "run as a child process (policy.json, the audit file and the notes copy are in the demo's temporary folder), " +
        "driven by the official MCP SDK's Client over stdio:",
      width,
      2,
    ),
    ...session.steps.flatMap((step) => stepLines(step, width)),
  ];
  if (verbose || failed > 0) {
    if (session.command) lines.push('  bridge command:', ...shellLines(session.command, '    '));
    lines.push(`  bridge stderr (${session.stderr.length} line${session.stderr.length === 1 ? '' : 's'}):`);
    for (const line of session.stderr) lines.push(...wrapIndented(printableLine(line), width, 4, 2));
  }
  const total = session.steps.length;
  lines.push(
    ...wrapIndented(
      failed === 0
        ? `MCP session: all ${total} steps behaved as expected.`
        : `MCP session: ${failed} of ${total} step(s) marked "${FAILED}" did not behave as expected.`,
      width,
      0,
      2,
    ),
  );
  return `${lines.join('\n')}\n`;
}
