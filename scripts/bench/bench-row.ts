/**
 * One line of the bench table. Sections produce rows; the report prints or serialises them.
 * A row without a floor (for example a fleet measurement of the runtime alone) has no ratio;
 * its target, if any, is then an absolute bound.
 */

/**
 * A goal for a row. `ratio` bounds runtime ÷ floor (`max`: at most, `min`: at least);
 * `absolute` bounds the runtime number itself, in the row's unit.
 */
export type Target =
  | { kind: 'ratio'; bound: 'max' | 'min'; value: number }
  | { kind: 'absolute'; bound: 'max' | 'min'; value: number }
  /** Bounds runtime − floor, in the row's unit (what a layer adds). */
  | { kind: 'delta'; bound: 'max' | 'min'; value: number };

export interface BenchRow {
  /** Stable key for `--json` consumers. */
  id: string;
  metric: string;
  unit: string;
  /** Decimal places to print (JSON keeps full precision). */
  digits: number;
  runtime: number | null;
  floor: number | null;
  target?: Target;
  /** What the number includes, printed under the table. */
  includes: string;
  /** The raw samples or extra readings behind the number. */
  detail?: Record<string, unknown>;
}

export interface EvaluatedRow extends BenchRow {
  /** runtime ÷ floor, when both are known. */
  ratio: number | null;
  /** Whether the target is met; null when there is no target or nothing to judge. */
  met: boolean | null;
}

export function evaluateRow(row: BenchRow): EvaluatedRow {
  const ratio = row.runtime !== null && row.floor !== null && row.floor > 0 ? row.runtime / row.floor : null;
  let met: boolean | null = null;
  const target = row.target;
  if (target) {
    const delta = row.runtime !== null && row.floor !== null ? row.runtime - row.floor : null;
    const measured = target.kind === 'ratio' ? ratio : target.kind === 'delta' ? delta : row.runtime;
    if (measured !== null) met = target.bound === 'max' ? measured <= target.value : measured >= target.value;
  }
  return { ...row, ratio, met };
}

export function describeTarget(row: BenchRow): string {
  const target = row.target;
  if (!target) return '—';
  const sign = target.bound === 'max' ? '≤' : '≥';
  if (target.kind === 'delta') return `${sign} floor + ${target.value} ${row.unit}`;
  return target.kind === 'ratio' ? `${sign} ${target.value}× floor` : `${sign} ${target.value} ${row.unit}`;
}
