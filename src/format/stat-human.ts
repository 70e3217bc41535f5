/**
 * perf stat's human layout (tools/perf/util/stat-display.c, perf 6.1), as captured in
 * shared/perf-captures/stat-human.txt, stat-repeat.txt, stat-interval-human.txt and
 * stat-per-thread.txt. Pure: data in, string out.
 *
 *  Performance counter stats for './touch 100':
 *
 *              25652      faults
 *                  0      major-faults
 *
 *        0.048432019 seconds time elapsed
 *
 *        0.000000000 seconds user
 *        0.048388000 seconds sys
 *
 * A counter line is "%18.0f " (or "%18.2f " for a scaled counter), the unit as "%-*s " (unit
 * width at least 4), the event as "%-32s", then the metric area of 35 characters: blank, or
 * " # " + "%8.3f" + " " + the metric's unit padded to the rest; with -r the noise
 * "  ( +- x.xx% )" follows when it is not zero. A `<not counted>` line pads the event to 25.
 * --per-thread puts "%16s-%-8d " (comm-tid) in front; -I puts "%6lu.%09lu " in front and prints
 * the column header every 25 intervals.
 */
import { cfixed, cfixedWidth, valueText, type StatReport, type StatRow } from './stat-common.js';

const COUNTS_LEN = 18;
const EVNAME_LEN = 32;
/** The event width of a `<not counted>` line in perf 6.1 (the old width survived on that path). */
const EVNAME_LEN_NOT_COUNTED = 25;
const METRIC_LEN = 35;
const COMM_LEN = 16;
const PID_LEN = 8;
/** perf prints the interval column header again every 25 intervals. */
const HEADER_EVERY = 25;

/** print_noise_pct() for the human layout: "  ( +- x.xx% )" when the noise is not 0. */
export function noise(pct: number): string {
  return pct ? `  ( +-${cfixedWidth(pct, 6, 2)}% )` : '';
}

/** The unit column's width: the longest unit, at least 4 (perf's unit_width). */
export function unitWidth(rows: Iterable<StatRow>): number {
  let w = 4;
  for (const r of rows) w = Math.max(w, r.unit.length);
  return w;
}

function threadColumn(r: StatRow): string {
  if (r.thread === undefined) return ' '.repeat(COMM_LEN + 1 + PID_LEN + 1);
  return `${r.thread.comm.padStart(COMM_LEN)}-${String(r.thread.tid).padEnd(PID_LEN)} `;
}

/** One counter line (without the interval and thread columns). */
export function formatCounterLine(r: StatRow, runs: number, uw = 4): string {
  let s = valueText(r).padStart(COUNTS_LEN) + ' ' + r.unit.padEnd(uw) + ' ';
  if (r.value === null) return s + r.event.padEnd(EVNAME_LEN_NOT_COUNTED) + ' '.repeat(METRIC_LEN);
  s += r.event.padEnd(EVNAME_LEN);
  if (r.metric !== undefined) {
    const m = ' # ' + cfixedWidth(r.metric.value, r.metric.width, r.metric.precision);
    s += m + ' ' + r.metric.unit.padEnd(METRIC_LEN - m.length - 1);
  } else {
    s += ' '.repeat(METRIC_LEN);
  }
  if (runs > 1 && r.noisePct !== undefined) s += noise(r.noisePct);
  return s;
}

/** get_precision(): decimals so that the stddev shows its first significant digit. */
function precisionFor(sd: number): number {
  if (sd > 1 || sd <= 0) return 0;
  return Math.round(Math.ceil(-Math.log10(sd)));
}

function allRows(r: StatReport): StatRow[] {
  return [...r.blocks.flatMap((b) => b.rows), ...(r.vmstat ?? [])];
}

function intervalPrefix(ns: number): string {
  const n = Math.max(0, Math.round(ns));
  const sec = Math.floor(n / 1e9);
  return `${String(sec).padStart(6)}.${String(n - sec * 1e9).padStart(9, '0')} `;
}

function formatIntervals(r: StatReport, uw: number): string {
  const out: string[] = [];
  const first = r.firstBlock ?? 0;
  r.blocks.forEach((b, i) => {
    if ((first + i) % HEADER_EVERY === 0) {
      out.push(
        r.perThread
          ? `#           time             comm-pid                  counts ${'unit'.padStart(uw)} events`
          : `#           time             counts ${'unit'.padStart(uw)} events`,
      );
    }
    const prefix = intervalPrefix(b.timeNs ?? 0);
    for (const row of b.rows) out.push(prefix + (r.perThread ? threadColumn(row) : '') + formatCounterLine(row, r.runs, uw));
  });
  return out.map((l) => l + '\n').join('');
}

/** /proc/vmstat "name value" lines, as `--vmstat` prints them after the counters. */
function vmstatBlock(rows: readonly StatRow[]): string {
  return rows.map((v) => `${v.event} ${v.value === null ? 0 : cfixed(v.value, Number.isInteger(v.value) ? 0 : 2)}`).join('\n');
}

export function formatStatHuman(r: StatReport): string {
  const uw = unitWidth(allRows(r));
  if (r.interval) return formatIntervals(r, uw);
  const out: string[] = [''];
  out.push(` Performance counter stats for '${r.command}'${r.runs > 1 ? ` (${r.runs} runs)` : ''}:`);
  out.push('');
  for (const b of r.blocks) for (const row of b.rows) out.push((r.perThread ? threadColumn(row) : '') + formatCounterLine(row, r.runs, uw));
  out.push('');
  if (r.vmstat !== undefined && r.vmstat.length > 0) {
    out.push(vmstatBlock(r.vmstat));
    out.push('');
  }
  if (r.runs > 1) {
    const p = precisionFor(r.elapsedStddevSec) + 2;
    const pct = r.elapsedSec !== 0 ? (100 * r.elapsedStddevSec) / r.elapsedSec : 0;
    out.push(` ${cfixedWidth(r.elapsedSec, 17, p)} +- ${cfixed(r.elapsedStddevSec, p)} seconds time elapsed${noise(pct)}`);
    out.push('');
    return out.join('\n') + '\n';
  }
  out.push(` ${cfixedWidth(r.elapsedSec, 17, 9)} seconds time elapsed`);
  out.push('');
  out.push(` ${cfixedWidth(r.userSec, 17, 9)} seconds user`);
  out.push(` ${cfixedWidth(r.sysSec, 17, 9)} seconds sys`);
  out.push('');
  out.push('');
  return out.join('\n') + '\n';
}
