import type { DemoRow } from './demo-row.ts';
import { wrapIndented, wrapText } from './wrap-text.ts';

/** Rows are indented under their plugin's name by this much; details by twice as much. */
const ROW_INDENT = 2;
const DETAIL_INDENT = 4;
const GAP = 2;
/** DECIDED BY is wrapped beyond this; the shortest layer names ("Deno permission") fit whole. */
const MAX_LAYER_WIDTH = 24;
/** The attempt column never gets narrower than this, however narrow the terminal. */
const MIN_ATTEMPT_WIDTH = 20;

/** "<1ms", "41ms", "2.3s": short enough for a narrow column. */
export function formatMs(ms: number): string {
  if (ms < 1) return '<1ms';
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function outcomeCell(row: DemoRow): string {
  return row.outcome === row.expected ? row.outcome : `${row.outcome.toUpperCase()}!`;
}

function widest(title: string, cells: string[]): number {
  return Math.max(title.length, ...cells.map((cell) => cell.length));
}

/**
 * The rows as a text table at most `width` columns wide, grouped under each plugin's
 * name: attempt, time, outcome and the layer that decided, then an indented line with
 * the detail (the reason it was blocked, or the value returned). Cells that do not fit
 * are wrapped at spaces, never shortened; a single word wider than its room (a long path)
 * keeps its own line whole. An upper-case outcome with "!" did not go as expected.
 *
 * @param rows the demo's rows, in order; consecutive rows of one plugin form a group
 * @param width the terminal width to fit (80–100 reads well)
 * @returns the table, ending in a newline
 */
export function renderTable(rows: readonly DemoRow[], width: number): string {
  const times = rows.map((row) => (row.ms === undefined ? '' : formatMs(row.ms)));
  const timeWidth = widest('TIME', times);
  const outcomeWidth = widest('OUTCOME', rows.map(outcomeCell));
  const layerWidth = Math.min(MAX_LAYER_WIDTH, widest('DECIDED BY', rows.map((row) => row.layer)));
  const room = width - ROW_INDENT - 3 * GAP - timeWidth - outcomeWidth - layerWidth;
  const attemptWidth = Math.max(MIN_ATTEMPT_WIDTH, Math.min(room, widest('', rows.map((row) => row.attempt))));

  const gap = ' '.repeat(GAP);
  const line = (attempt: string, time: string, outcome: string, layer: string) =>
    `${attempt.padEnd(ROW_INDENT + attemptWidth)}${gap}${time.padStart(timeWidth)}${gap}${outcome.padEnd(outcomeWidth)}${gap}${layer}`.trimEnd();
  const out = [
    line('PLUGIN / ATTEMPT', 'TIME', 'OUTCOME', 'DECIDED BY'),
    line('-'.repeat(ROW_INDENT + attemptWidth), '-'.repeat(timeWidth), '-'.repeat(outcomeWidth), '-'.repeat(layerWidth)),
  ];
  let previous: string | undefined;
  rows.forEach((row, i) => {
    // The plugin's name only where it changes, so each plugin's attempts read as a group.
    if (row.plugin !== previous) out.push(row.plugin);
    previous = row.plugin;
    // Continuation lines of an attempt are indented, so they do not read as rows of their own.
    const [head = '', ...rest] = wrapText(row.attempt, attemptWidth);
    const attempt = [head, ...(rest.length > 0 ? wrapText(rest.join(' '), attemptWidth - 2).map((l) => `  ${l}`) : [])];
    const layer = wrapText(row.layer, layerWidth);
    for (let k = 0; k < Math.max(attempt.length, layer.length); k += 1) {
      const first = k === 0;
      out.push(
        line(
          `${' '.repeat(ROW_INDENT)}${attempt[k] ?? ''}`,
          first ? times[i]! : '',
          first ? outcomeCell(row) : '',
          layer[k] ?? '',
        ),
      );
    }
    if (row.detail) out.push(...wrapIndented(`↳ ${row.detail}`, width, DETAIL_INDENT, 2));
  });
  return `${out.join('\n')}\n`;
}
