/**
 * perf stat -x SEP (tools/perf/util/stat-display.c, perf 6.1), as captured in
 * shared/perf-captures/stat-csv.txt and stat-interval-csv.txt. Pure.
 *
 *   25651,,faults,36693208,100.00,,
 *
 * The fields: counter value ("%.0f", "%.2f" for a scaled counter, or "<not counted>"), unit,
 * event, [with -r: the noise "x.xx%"], event run time (ns), percentage of that time the counter
 * ran ("%.2f"), metric value, metric unit. --per-thread puts "comm-tid" first; -I puts the time,
 * "%6lu.%09lu", before everything (perf 6.1 pads the seconds to 6 characters in CSV too). No
 * header, no footer. After the counters come the workload's metric (`workload:<name>`) and, with
 * --vmstat, one record per /proc/vmstat line (`vmstat:<name>`), in the same seven fields.
 */
import { cfixed, cfixedWidth, timestamp, threadName, valueText, vmstatEvent, wholeNs, type StatFormatter, type StatReport, type StatRow } from './stat-common.js';

/** print_metric_csv(): the metric printed with its format, trimmed to its leading number. */
function metricFields(r: StatRow, sep: string): string {
  if (r.metric === undefined) return sep + sep;
  const text = cfixedWidth(r.metric.value, r.metric.width, r.metric.precision).trim();
  const num = /^[0-9.]*/.exec(text)![0];
  return sep + num + sep + r.metric.unit.trim();
}

function intervalPrefix(ns: number, sep: string): string {
  const [sec, frac] = timestamp(ns).split('.');
  return `${sec.padStart(6)}.${frac}${sep}`;
}

export function csvLine(r: StatRow, sep: string, runs: number, perThread: boolean, timeNs?: number): string {
  let s = timeNs !== undefined ? intervalPrefix(timeNs, sep) : '';
  if (perThread) s += (r.thread !== undefined ? threadName(r.thread) : '') + sep;
  s += valueText(r) + sep + r.unit + sep + r.event;
  if (runs > 1) s += sep + cfixed(r.noisePct ?? 0, 2) + '%';
  s += sep + wholeNs(r.value === null ? 0 : r.runtimeNs) + sep + '100.00';
  return s + metricFields(r, sep);
}

export function formatStatCsv(sep: string): StatFormatter {
  return (r: StatReport): string => {
    const out: string[] = [];
    for (const b of r.blocks) for (const row of b.rows) out.push(csvLine(row, sep, r.runs, r.perThread, b.timeNs));
    for (const v of r.vmstat ?? []) out.push(csvLine({ ...v, event: vmstatEvent(v.event) }, sep, r.runs, r.perThread));
    return out.map((l) => l + '\n').join('');
  };
}
