/**
 * What `plot --y` reads of a run: the workload's metric (the default, as `stat` prints it:
 * `workload:ops/s`), a workload counter (`count:ops`), any event the saved run counts, by its perf
 * name or alias (`faults`, `spf`, `pagefault:spf_vma_changed`, `task-clock`), a /proc/vmstat line
 * (`pgfault`, `vmstat:speculative_pgfault`), or the times (`elapsed`, `user`, `sys`). Pure.
 */
import { UsageError } from '../errors.js';
import { findEvent } from '../events/catalog.js';
import { countEvent, vmstatEvent, workloadEvent } from '../format/stat-common.js';
import type { RunSummary } from '../stats/save.js';

export interface Measure {
  /** The name as stat prints it (`workload:ops/s`, `page-faults`, `vmstat:pgfault`, `elapsed`). */
  readonly key: string;
  /** The axis title: the name, with its unit when it has one (`task-clock (msec)`). */
  readonly title: string;
  /** The value of one run; undefined when the run does not have it (a vmstat line of another config). */
  readonly of: (r: RunSummary) => number | undefined;
}

const TIMES = ['elapsed', 'user', 'sys'] as const;

const finite = (v: number | null | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Every name the runs have, in stat's order: metrics, counters, workload counts, vmstat, times. */
export function measureNames(runs: readonly RunSummary[]): string[] {
  const out = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r.metrics)) out.add(workloadEvent(k));
  for (const r of runs) for (const k of Object.keys(r.counters)) out.add(k);
  for (const r of runs) for (const k of Object.keys(r.counts)) out.add(countEvent(k));
  for (const r of runs) for (const k of Object.keys(r.vmstat)) out.add(vmstatEvent(k));
  for (const t of TIMES) out.add(t);
  return [...out];
}

function metric(name: string): Measure {
  return { key: workloadEvent(name), title: name, of: (r) => finite(r.metrics[name]?.value) };
}

/**
 * The measure `--y NAME` names (undefined: the workload's first metric, else elapsed), looked up
 * in the runs' own fields. A bare name is tried as a metric, an event (aliases included), a
 * workload counter, then a vmstat line. An unknown name is a UsageError listing what there is.
 */
export function resolveMeasure(name: string | undefined, runs: readonly RunSummary[]): Measure {
  const has = (pick: (r: RunSummary) => Readonly<Record<string, unknown>>, k: string): boolean => runs.some((r) => pick(r)[k] !== undefined);
  if (name === undefined) {
    const first = runs.map((r) => Object.keys(r.metrics)[0]).find((k) => k !== undefined);
    return first !== undefined ? metric(first) : resolveMeasure('elapsed', runs);
  }
  if ((TIMES as readonly string[]).includes(name)) {
    const t = name as (typeof TIMES)[number];
    return { key: t, title: `${t} (s)`, of: (r) => finite(r[t]) };
  }
  const m = /^(workload|count|vmstat):(.+)$/.exec(name);
  const tries = m !== null ? [m[1]] : ['workload', 'event', 'count', 'vmstat'];
  const n = m !== null ? m[2] : name;
  for (const kind of tries) {
    if (kind === 'workload' && has((r) => r.metrics, n)) return metric(n);
    if (kind === 'count' && has((r) => r.counts, n)) return { key: countEvent(n), title: countEvent(n), of: (r) => finite(r.counts[n]) };
    if (kind === 'vmstat' && has((r) => r.vmstat, n)) return { key: vmstatEvent(n), title: vmstatEvent(n), of: (r) => finite(r.vmstat[n]) };
    const ev = findEvent(n)?.name ?? n;
    if (kind === 'event' && has((r) => r.counters, ev)) {
      // task-clock is kept in ns; stat prints it in msec.
      if (ev === 'task-clock') return { key: ev, title: 'task-clock (msec)', of: (r) => (r.counters[ev] === undefined ? undefined : r.counters[ev] / 1e6) };
      return { key: ev, title: ev, of: (r) => finite(r.counters[ev]) };
    }
  }
  throw new UsageError(`--y: '${name}' is not counted in this sweep; it has: ${measureNames(runs).join(', ')}`);
}
