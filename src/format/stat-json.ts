/**
 * perf stat -j (tools/perf/util/stat-display.c, perf 6.1), as captured in
 * shared/perf-captures/stat-json.txt and stat-interval-json.txt: one JSON object per line, with
 * perf's keys, order and spacing. Pure.
 *
 *   {"counter-value" : "25652.000000", "unit" : "", "event" : "faults", "event-runtime" : 36464878, "pcnt-running" : 100.00, "metric-value" : 0.000000, "metric-unit" : "(null)"}
 *
 * -I adds "interval" first, --per-thread adds "thread" ("comm-tid"), -r adds "variance" (the noise
 * in percent) after "event". A counter without a metric has perf's "metric-unit" : "(null)".
 * After the counters come the workload's metric (`workload:<name>`) and, with --vmstat, one
 * object per /proc/vmstat line (`vmstat:<name>`), with the same keys.
 */
import { cfixed, threadName, timestamp, valueText, vmstatEvent, wholeNs, type StatFormatter, type StatReport, type StatRow } from './stat-common.js';

const str = (s: string): string => JSON.stringify(s);

export function jsonLine(r: StatRow, runs: number, timeNs?: number): string {
  let s = '{';
  if (timeNs !== undefined) s += `"interval" : ${timestamp(timeNs)}, `;
  if (r.thread !== undefined) s += `"thread" : ${str(threadName(r.thread))}, `;
  s += `"counter-value" : ${str(r.value === null ? valueText(r) : cfixed(r.value, 6))}, `;
  s += `"unit" : ${str(r.unit)}, `;
  s += `"event" : ${str(r.event)}, `;
  if (runs > 1) s += `"variance" : ${cfixed(r.noisePct ?? 0, 2)}, `;
  s += `"event-runtime" : ${wholeNs(r.value === null ? 0 : r.runtimeNs)}, "pcnt-running" : 100.00, `;
  if (r.metric !== undefined) s += `"metric-value" : ${cfixed(r.metric.value, 6)}, "metric-unit" : ${str(r.metric.unit)}`;
  else s += `"metric-value" : 0.000000, "metric-unit" : ${r.value === null ? '""' : '"(null)"'}`;
  return s + '}';
}

export const formatStatJson: StatFormatter = (r: StatReport): string => {
  const out: string[] = [];
  for (const b of r.blocks) for (const row of b.rows) out.push(jsonLine(row, r.runs, b.timeNs));
  for (const v of r.vmstat ?? []) out.push(jsonLine({ ...v, event: vmstatEvent(v.event) }, r.runs));
  return out.map((l) => l + '\n').join('');
};
