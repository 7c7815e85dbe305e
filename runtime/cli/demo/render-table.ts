import type { DemoRow } from './demo-row.ts';

const COLUMNS: { title: string; width: number; cell: (row: DemoRow) => string }[] = [
  { title: 'PLUGIN', width: 12, cell: (row) => row.plugin },
  { title: 'TOOL / ATTEMPT', width: 46, cell: (row) => row.attempt },
  { title: 'OUTCOME', width: 9, cell: (row) => (row.outcome === row.expected ? row.outcome : `${row.outcome.toUpperCase()}!`) },
  { title: 'DECIDED BY', width: 30, cell: (row) => row.layer },
];
const DETAIL_INDENT = 14;
const DETAIL_WIDTH = 100;

function fit(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);
}

/**
 * The rows as a fixed-width text table, each followed by an indented line of detail (the
 * error or value), so the table stays narrow. An upper-case outcome with "!" did not go
 * as expected.
 */
export function renderTable(rows: readonly DemoRow[]): string {
  const widths = COLUMNS.map((column) =>
    Math.min(column.width, Math.max(column.title.length, ...rows.map((row) => column.cell(row).length))),
  );
  const line = (cells: string[]) => cells.map((cell, i) => fit(cell, widths[i]!)).join('  ').trimEnd();
  const out = [line(COLUMNS.map((c) => c.title)), line(widths.map((w) => '-'.repeat(w)))];
  let previous = '';
  for (const row of rows) {
    // The plugin name only where it changes, so each plugin's attempts read as a group.
    const cells = COLUMNS.map((column) => column.cell(row));
    if (row.plugin === previous) cells[0] = '';
    previous = row.plugin;
    out.push(line(cells));
    if (row.detail) out.push(`${' '.repeat(DETAIL_INDENT)}${fit(`↳ ${row.detail}`, DETAIL_WIDTH).trimEnd()}`);
  }
  return `${out.join('\n')}\n`;
}
