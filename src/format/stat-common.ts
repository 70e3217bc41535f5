/**
 * What the perf-stat formatters (stat-human.ts, stat-csv.ts, stat-json.ts) are given, and the
 * number formatting they share. The command builds one StatReport; the formatter is picked once.
 * Field layouts follow tools/perf/util/stat-display.c of perf 6.1, checked against the captures
 * in shared/perf-captures/stat-*.txt.
 */

/** The thread of a --per-thread row (perf's comm-pid column; spfperf prints the tid). */
export interface StatThread {
  readonly comm: string;
  readonly tid: number;
}

/** perf's "shadow" metric of a counter, e.g. task-clock's "0.994 CPUs utilized" (printf "%8.3f"). */
export interface StatMetric {
  readonly value: number;
  readonly unit: string;
  readonly width: number;
  readonly precision: number;
}

/**
 * The rate perf prints on every other counter when a clock (task-clock) is counted: the count per
 * second of that clock, "%8.3f" with convert_unit_double()'s K, M or G (tools/perf/util/
 * stat-shadow.c perf_stat__print_shadow_stats, the STAT_NSECS branch; util/units.c, perf 6.1).
 * Per thread with --per-thread, per interval with -I, of the means with -r.
 */
export function rateMetric(count: number, clockNs: number): StatMetric {
  let ratio = clockNs !== 0 ? (1e9 * count) / clockNs : 0;
  let unit = '';
  for (const u of ['K', 'M', 'G']) {
    if (ratio > 1000) {
      ratio /= 1000;
      unit = u;
    }
  }
  return { value: ratio, unit: `${unit}/sec`, width: 8, precision: 3 };
}

/** One printed counter: a line of the human layout, a CSV line, a JSON object. */
export interface StatRow {
  /** --per-thread: the thread; absent on whole-run rows (workload metric, vmstat). */
  readonly thread?: StatThread;
  /** The (mean) value; null when the counter never ran (perf's `<not counted>`). */
  readonly value: number | null;
  /** perf's unit column: '' for counts, 'msec' for clocks. */
  readonly unit: string;
  readonly event: string;
  /** Printed with two decimals (perf: an event whose scale is not a whole number; workload metrics). */
  readonly fractional: boolean;
  /** perf's event-runtime (ns): the time the counter ran. */
  readonly runtimeNs: number;
  /** With -r: standard deviation of the mean, in percent of the mean. */
  readonly noisePct?: number;
  readonly metric?: StatMetric;
  /** With a null value: perf's `<not supported>` (an event the model does not count) instead of `<not counted>`. */
  readonly notSupported?: boolean;
}

/** The rows of one interval (-I), or of the whole run. */
export interface StatBlock {
  /** -I: end of the interval, ns of simulated time since the start of the run. */
  readonly timeNs?: number;
  readonly rows: readonly StatRow[];
}

export interface StatReport {
  /** The command as the header quotes it. */
  readonly command: string;
  readonly runs: number;
  /** --per-thread: rows carry a thread column. */
  readonly perThread: boolean;
  /** -I: blocks are intervals (each with timeNs); there is no header block or footer. */
  readonly interval: boolean;
  readonly blocks: readonly StatBlock[];
  /**
   * -I printed in parts: the index of the first of `blocks` among all the intervals (the human
   * layout repeats its column header every 25 intervals). Default 0.
   */
  readonly firstBlock?: number;
  /**
   * --vmstat without -I: the run's /proc/vmstat lines (event = the vmstat name, e.g. pgfault).
   * (With -I they are rows `vmstat:<name>` of each interval.)
   */
  readonly vmstat?: readonly StatRow[];
  readonly elapsedSec: number;
  /** Standard deviation of the mean elapsed time over the runs, in seconds. */
  readonly elapsedStddevSec: number;
  readonly userSec: number;
  readonly sysSec: number;
}

export type StatFormatter = (r: StatReport) => string;

/**
 * C's printf("%.<d>f"): JavaScript's toFixed() except that an exact tie rounds to even (glibc
 * rounds the exact binary value, ties to even), and nan/inf spelled as glibc spells them.
 */
export function cfixed(x: number, d: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  const a = Math.abs(x);
  if (a >= 1e21) return x.toFixed(d);
  const full = a.toFixed(100);
  const dot = full.indexOf('.');
  const tail = full.slice(dot + 1 + d);
  if (/^50*$/.test(tail)) {
    const kept = full.slice(0, d === 0 ? dot : dot + 1 + d);
    const last = Number(kept[kept.length - 1]);
    if (last % 2 === 0) return (x < 0 ? '-' : '') + kept;
  }
  return x.toFixed(d);
}

/** printf("%*.*f"). */
export function cfixedWidth(x: number, width: number, d: number): string {
  return cfixed(x, d).padStart(width);
}

/** The counter value as perf prints it: "%.0f", or "%.2f" for scaled counters and metrics. */
export function valueText(r: StatRow): string {
  if (r.value === null) return r.notSupported ? '<not supported>' : '<not counted>';
  return cfixed(r.value, r.fractional ? 2 : 0);
}

/** Whole nanoseconds, for event-runtime and timestamps. */
export function wholeNs(ns: number): number {
  return Math.max(0, Math.round(ns));
}

/** A timestamp as perf's "%lu.%09lu" (no padding). */
export function timestamp(ns: number): string {
  const n = wholeNs(ns);
  const sec = Math.floor(n / 1e9);
  const frac = n - sec * 1e9;
  return `${sec}.${String(frac).padStart(9, '0')}`;
}

/** perf's "comm-pid" text of a thread. */
export function threadName(t: StatThread): string {
  return `${t.comm}-${t.tid}`;
}

/** The event name of a /proc/vmstat line printed as a record (-x, -j, -I). */
export function vmstatEvent(name: string): string {
  return `vmstat:${name}`;
}

/** The event name of a workload's headline metric. */
export function workloadEvent(name: string): string {
  return `workload:${name}`;
}

/** The event name of an event counted in a workload phase (`phase "NAME" { ... }`). */
export function phaseEvent(phase: string, event: string): string {
  return `phase:${phase}:${event}`;
}

/** The event name of a workload counter (`count NAME`, `touch ... count NAME`). */
export function countEvent(name: string): string {
  return `count:${name}`;
}
