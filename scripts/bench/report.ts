import { describeTarget, type EvaluatedRow } from './bench-row.ts';

const HEADERS = ['metric', 'runtime', 'floor', 'ratio', 'target', 'met?'] as const;

function formatNumber(value: number | null, digits: number): string {
  if (value === null) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cells(row: EvaluatedRow): string[] {
  return [
    `${row.metric} (${row.unit})`,
    formatNumber(row.runtime, row.digits),
    formatNumber(row.floor, row.digits),
    row.ratio === null ? '—' : `${row.ratio.toFixed(2)}×`,
    describeTarget(row),
    row.met === null ? '—' : row.met ? 'yes' : 'NO',
  ];
}

/** The human table: aligned columns (numbers right-aligned), then what each row includes. */
export function formatTable(rows: readonly EvaluatedRow[]): string {
  const body = rows.map(cells);
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...body.map((line) => line[column]!.length)));
  const numeric = new Set([1, 2, 3]);
  const render = (line: readonly string[]) =>
    line.map((cell, column) => (numeric.has(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ').trimEnd();
  const lines = [render(HEADERS), widths.map((width) => '-'.repeat(width)).join('-|-'), ...body.map(render)];
  lines.push('', 'What each row includes:');
  for (const row of rows) lines.push(`  ${row.metric}: ${row.includes}`);
  return lines.join('\n');
}
