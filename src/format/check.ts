import { formatViolation, type Violation } from '../check/violation.js';

/**
 * `spfperf check`'s report of a violation (pure: data in, text out): the schedule's id, the
 * violation in one line, and the interleaving around it, one row per step:
 *
 *   schedule pct:d3:s1:i9:k1
 *   invariant violated: no-task-waits-forever by split-merge/1002 in invalidate_vma_before_free ...
 *          step    time (ns)  task                 function                     address
 *           355        47617  split-merge/1003  handle_pte_fault             0x7ffff7c02000
 *     >     357        48406  split-merge/1002  invalidate_vma_before_free   -
 *
 * The marked row is the last step of the violation's task (the step that broke the invariant, or
 * the one after which the task never ran again); the rows before and after it are whatever ran
 * around it.
 */

/** One row of the interleaving. */
export interface StepRow {
  readonly step: number;
  readonly timeNs: number;
  /** 'comm/tid'. */
  readonly task: string;
  readonly fn: string;
  readonly addr: number | null;
}

/** Rows shown before and after the marked one. */
export const ROWS_BEFORE = 8;
export const ROWS_AFTER = 4;

/** The index of the row to mark: the violation's task's last step (or the last row). */
function markedRow(rows: readonly StepRow[], v: Violation): number {
  for (let i = rows.length - 1; i >= 0; i--) if (rows[i].task === v.task) return i;
  return rows.length - 1;
}

export function formatInterleaving(rows: readonly StepRow[], v: Violation): string {
  if (rows.length === 0) return '  (no step was taken)\n';
  const mark = markedRow(rows, v);
  const shown = rows.slice(Math.max(0, mark - ROWS_BEFORE), mark + ROWS_AFTER + 1);
  const cells = shown.map((r) => [String(r.step), String(Math.round(r.timeNs)), r.task, r.fn === '' ? '?' : r.fn, r.addr === null ? '-' : `0x${r.addr.toString(16)}`]);
  const head = ['step', 'time (ns)', 'task', 'function', 'address'];
  const w = head.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c].length)));
  const line = (marker: string, row: readonly string[]): string =>
    `  ${marker} ${row[0].padStart(w[0])}  ${row[1].padStart(w[1])}  ${row[2].padEnd(w[2])}  ${row[3].padEnd(w[3])}  ${row[4]}`.trimEnd() + '\n';
  return line(' ', head) + shown.map((r, i) => line(r === rows[mark] ? '>' : ' ', cells[i])).join('');
}

/** The report of one failing schedule: what --replay of it prints, byte for byte. */
export function formatViolationReport(id: string, v: Violation, rows: readonly StepRow[]): string {
  return `schedule ${id}\n${formatViolation(v)}\n${formatInterleaving(rows, v)}`;
}
