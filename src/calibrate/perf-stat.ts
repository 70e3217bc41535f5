/**
 * A parser of real `perf stat -x SEP` output (perf's CSV layout; the captures in
 * ../shared/perf-captures, stat-csv.txt and friends). Pure: text in, counters out.
 *
 * One line per counter: `value,unit,event,run-time,percent-running[,metric-value,metric-unit]`,
 * with a leading interval timestamp under -I. A counter perf could not read prints `<not
 * counted>` or `<not supported>` as its value. Lines that are not counters (comments, blank
 * lines, an interval's header) are skipped.
 */

export interface PerfCounter {
  readonly event: string;
  /** The count (task-clock: msec, as perf prints it); null for `<not counted>` / `<not supported>`. */
  readonly value: number | null;
  readonly unit: string;
  /** Nanoseconds the counter ran. */
  readonly runtimeNs: number;
  /** Percent of the time the counter was running (multiplexing). */
  readonly runningPct: number;
  /** The `-I` timestamp (seconds), when perf printed one. */
  readonly intervalSec?: number;
  /** Why there is no value (`not counted`, `not supported`). */
  readonly missing?: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Parse one line; null when it is not a counter line. */
export function parsePerfStatLine(line: string, sep = ','): PerfCounter | null {
  const text = line.trim();
  if (text === '' || text.startsWith('#')) return null;
  let fields = text.split(sep);
  let intervalSec: number | undefined;
  // -I: a timestamp first. A counter line's third field is the event name, never a number.
  if (fields.length >= 5 && NUMBER.test(fields[0].trim()) && (NUMBER.test(fields[1].trim()) || fields[1].trim().startsWith('<'))) {
    intervalSec = Number(fields[0].trim());
    fields = fields.slice(1);
  }
  if (fields.length < 3) return null;
  const [rawValue, unit, event, runtime, pct] = fields.map((f) => f.trim());
  if (event === '' || event === undefined) return null;
  let value: number | null = null;
  let missing: string | undefined;
  if (NUMBER.test(rawValue)) value = Number(rawValue);
  else if (/^<not (counted|supported)>$/.test(rawValue)) missing = rawValue.slice(1, -1);
  else return null;
  const out: PerfCounter = {
    event,
    value,
    unit: unit ?? '',
    runtimeNs: runtime !== undefined && NUMBER.test(runtime) ? Number(runtime) : 0,
    runningPct: pct !== undefined && NUMBER.test(pct) ? Number(pct) : 0,
    ...(intervalSec !== undefined ? { intervalSec } : {}),
    ...(missing !== undefined ? { missing } : {}),
  };
  return out;
}

/** Every counter line of a `perf stat -x SEP` output, in order. */
export function parsePerfStat(text: string, sep = ','): PerfCounter[] {
  const out: PerfCounter[] = [];
  for (const line of text.split('\n')) {
    const c = parsePerfStatLine(line, sep);
    if (c !== null) out.push(c);
  }
  return out;
}

/**
 * The whole-run count of each event that has one (the sum over the intervals under -I; perf's
 * aliases kept apart: `faults` and `page-faults` are the names perf was given).
 */
export function perfTotals(counters: readonly PerfCounter[]): Map<string, number> {
  const totals = new Map<string, number>();
  for (const c of counters) {
    if (c.value === null) continue;
    totals.set(c.event, (totals.get(c.event) ?? 0) + c.value);
  }
  return totals;
}
