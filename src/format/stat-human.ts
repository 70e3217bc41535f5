/**
 * perf stat's human layout (tools/perf/util/stat-display.c), as captured from perf 6.1 in
 * shared/perf-captures/stat-human.txt and stat-repeat.txt. Pure: data in, string out.
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
 */

/** One counter line. */
export interface StatLine {
  readonly event: string;
  /** Mean over the runs. */
  readonly value: number;
  /** perf's unit column: '' for counts, 'msec' for clocks. */
  readonly unit: string;
  /** Standard deviation of the mean as a percentage of the mean (only with several runs). */
  readonly noisePct?: number;
  /** perf's shadow metric after '#', e.g. '0.994 CPUs utilized'. */
  readonly metric?: string;
  /** True for the workload's headline metric (printed with 2 decimals). */
  readonly fractional?: boolean;
}

export interface StatReport {
  /** The command as the header quotes it. */
  readonly command: string;
  readonly runs: number;
  readonly lines: readonly StatLine[];
  readonly elapsedSec: number;
  /** Standard deviation of the elapsed time over the runs, in seconds. */
  readonly elapsedStddevSec: number;
  readonly userSec: number;
  readonly sysSec: number;
  /** Lines printed after the counters (e.g. /proc/vmstat), already formatted. */
  readonly after?: string;
}

const COUNT_WIDTH = 18;
const UNIT_WIDTH = 4;
/** Width of the event column plus perf's empty metric area, so a plain line is 91 characters. */
const EVENT_AREA = 67;
const EVENT_WIDTH = 25;

function fmtValue(l: StatLine): string {
  if (l.unit === 'msec') return l.value.toFixed(2);
  if (l.fractional) return l.value.toFixed(2);
  return Math.round(l.value).toString();
}

/** print_noise_pct(): "  ( +- x.xx% )". */
export function noise(pct: number): string {
  return `  ( +-${pct.toFixed(2).padStart(6)}% )`;
}

export function formatCounterLine(l: StatLine, runs: number): string {
  let s = fmtValue(l).padStart(COUNT_WIDTH) + ' ' + l.unit.padEnd(UNIT_WIDTH) + ' ';
  if (l.metric !== undefined) {
    s += l.event.padEnd(EVENT_WIDTH) + '        #  ' + l.metric.padEnd(EVENT_AREA - EVENT_WIDTH - 11);
  } else {
    s += l.event.padEnd(EVENT_AREA);
  }
  if (runs > 1 && l.noisePct !== undefined && l.value !== 0) s += noise(l.noisePct);
  return s;
}

/** get_precision(): decimals so that the stddev shows its first significant digit. */
function precisionFor(sd: number): number {
  if (sd > 1 || sd <= 0) return 0;
  return Math.round(Math.ceil(-Math.log10(sd)));
}

export function formatStatHuman(r: StatReport): string {
  const out: string[] = [''];
  out.push(` Performance counter stats for '${r.command}'${r.runs > 1 ? ` (${r.runs} runs)` : ''}:`);
  out.push('');
  for (const l of r.lines) out.push(formatCounterLine(l, r.runs));
  out.push('');
  if (r.after !== undefined && r.after !== '') {
    out.push(r.after.replace(/\n$/, ''));
    out.push('');
  }
  if (r.runs > 1) {
    const p = precisionFor(r.elapsedStddevSec) + 2;
    const pct = r.elapsedSec !== 0 ? (100 * r.elapsedStddevSec) / r.elapsedSec : 0;
    out.push(` ${r.elapsedSec.toFixed(p).padStart(17)} +- ${r.elapsedStddevSec.toFixed(p)} seconds time elapsed${noise(pct)}`);
    out.push('');
    return out.join('\n') + '\n';
  }
  out.push(` ${r.elapsedSec.toFixed(9).padStart(17)} seconds time elapsed`);
  out.push('');
  out.push(` ${r.userSec.toFixed(9).padStart(17)} seconds user`);
  out.push(` ${r.sysSec.toFixed(9).padStart(17)} seconds sys`);
  out.push('');
  out.push('');
  return out.join('\n') + '\n';
}
