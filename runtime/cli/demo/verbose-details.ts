import type { AuditRecord, PluginLogLine } from '../../index.ts';
import { shellQuote } from '../shell-quote.ts';
import { printableLine } from './demo-row.ts';
import { formatMs } from './render-table.ts';
import { DEMO_SCENARIOS } from './scenario-list.ts';
import type { ScenarioResult } from './scenarios.ts';
import { wrapIndented } from './wrap-text.ts';

/** Audit records an operator learns from; handshake_ok, state changes and shutdown are routine. */
const SHOWN_AUDIT_TYPES = new Set<AuditRecord['type']>([
  'grant_decision',
  'grant_refused',
  'launch',
  'capability_denied',
  'handshake_failed',
  'protocol_violation',
  'kill',
  'exit',
  'setid_stripped',
  'setid_sweep_incomplete',
]);

/**
 * A command as shell lines of at most `width` columns, broken between arguments with a
 * trailing backslash, so the whole can be pasted into a shell as it is printed.
 */
export function commandLines(argv: readonly string[], width: number, indent: number): string[] {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let current = '';
  for (const arg of argv.map((a) => shellQuote(printableLine(a)))) {
    if (current === '') current = arg;
    // Room for " \" at the end of a broken line.
    else if (indent + current.length + 1 + arg.length + 2 <= width) current += ` ${arg}`;
    else {
      lines.push(`${pad}${current} \\`);
      current = `  ${arg}`;
    }
  }
  lines.push(`${pad}${current}`);
  return lines;
}

/** Launch commands already printed in this scenario, so identical ones are named, not repeated. */
type SeenCommands = Map<string, string>;

function commandBlock(label: string, argv: readonly string[], tool: string, seen: SeenCommands, width: number): string[] {
  const key = JSON.stringify([label, argv]);
  const same = seen.get(key);
  if (same !== undefined) return [`    ${label}: as for ${same}`];
  seen.set(key, tool);
  return [`    ${label}:`, ...commandLines(argv, width, 6)];
}

function auditLines(record: AuditRecord, seen: SeenCommands, width: number): string[] {
  const tool = record.tool === undefined ? '' : ` ${record.tool}`;
  const text = (line: string) => wrapIndented(printableLine(line), width, 2, 4);
  switch (record.type) {
    case 'grant_decision':
      return text(`${record.granted ? 'granted' : 'REFUSED'} ${record.capability} ${record.scope} (rule: ${record.rule})`);
    case 'launch':
      return [
        `  launch${tool} (pid ${record.pid ?? 'none'})`,
        ...commandBlock('deno argv', ['deno', ...record.argv], record.tool ?? '', seen, width),
        // The wrapper's own executable is not in the record: these are its arguments, ending with Deno's path.
        ...(record.wrapper.length > 0 ? commandBlock('OS layers, wrapper args', record.wrapper, record.tool ?? '', seen, width) : []),
      ];
    case 'capability_denied':
      return text(`capability_denied${tool}: ${record.capability}${record.scope ? ` ${record.scope}` : ''}: ${record.reason}`);
    case 'exit': {
      const unrecorded = record.denialsUnrecorded ? `, ${record.denialsUnrecorded} denial(s) not recorded` : '';
      return text(`exit${tool}: code ${record.exitCode ?? 'none'}, signal ${record.signal ?? 'none'}${unrecorded}`);
    }
    case 'setid_stripped':
      return text(`setid_stripped${tool}: ${record.path} ${record.oldMode} -> ${record.newMode}`);
    default:
      return text(`${record.type}${tool}: ${record.reason ?? ''}`);
  }
}

/**
 * What `--verbose` adds after the table, one block per scenario: the grant decisions made
 * at each load with their rule, each tool process's exact launch command, the refusals,
 * kills and exits the audit recorded, and the plugin's stderr lines.
 *
 * @param results the scenarios' results, in order
 * @param audit every audit record of the run, in order
 * @param logs the plugins' stderr lines kept
 * @param width the terminal width to fit
 */
export function verboseDetails(
  results: readonly ScenarioResult[],
  audit: readonly AuditRecord[],
  logs: readonly PluginLogLine[],
  width: number,
): string {
  const out = ['', 'Per scenario: grant decisions, launch commands, audit records and plugin stderr'];
  for (const result of results) {
    const summary = DEMO_SCENARIOS.find((scenario) => scenario.name === result.name)?.summary ?? '';
    out.push('', ...wrapIndented(`${result.name} (${formatMs(result.ms)}): ${summary}`, width, 0, 2));
    const records = audit.filter((record) => record.plugin === result.name && SHOWN_AUDIT_TYPES.has(record.type));
    const seen: SeenCommands = new Map();
    for (const record of records) out.push(...auditLines(record, seen, width));
    if (records.length === 0) out.push('  (no audit records)');
    for (const { plugin, tool, line } of logs) {
      if (plugin === result.name) out.push(...wrapIndented(printableLine(`stderr ${tool}: ${line}`), width, 2, 4));
    }
  }
  return `${out.join('\n')}\n`;
}
