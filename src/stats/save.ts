import { createRequire } from 'node:module';
import { EV, EVENTS } from '../events/catalog.js';
import { configLabel } from '../config/kconfig.js';
import { vmstatLines } from '../format/vmstat.js';
import type { PreparedRun } from '../sim/setup.js';
import type { RunResult } from '../sim/run.js';
import { mean } from './aggregate.js';
import { paramsForOutput } from '../workload/params.js';
import { workloadCounters } from '../workload/check.js';

/**
 * The documents spfperf writes for machines: `stat --save` (what `diff` reads) and the header of
 * `record` traces (the same run description, without results). Schema version SAVE_FORMAT.
 */

export const SAVE_FORMAT = 1;

const require = createRequire(import.meta.url);
export const SPFPERF_VERSION: string = (require('../../package.json') as { version: string }).version;

/** What was run: everything needed to run it again. */
export interface RunDescription {
  readonly spfperf: string;
  readonly format: number;
  readonly workload: {
    readonly name: string;
    readonly file: string;
    /** The name=value arguments as given. */
    readonly args: readonly string[];
    /**
     * Every parameter's resolved value (built-ins included: ncpus, seed); a word parameter as its
     * word (older files hold the number it is interned to, internWord(): diff takes both).
     */
    readonly params: Readonly<Record<string, number | string>>;
  };
  readonly arch: string;
  readonly machine: string;
  /** The machine's shape when --sockets/--cores-per-socket/--threads-per-core reshaped it; absent: the machine's own. */
  readonly topology?: string;
  readonly cpus: number;
  readonly config: {
    /** Short name: the last preset given, else 'base' or 'custom'. */
    readonly label: string;
    readonly sources: readonly string[];
    readonly settings: Readonly<Record<string, string>>;
  };
  /** Seeds of the runs (seed..seed+N-1 with -r N). */
  readonly seeds: readonly number[];
}

/** The results of one run. */
export interface RunValues {
  readonly seed: number;
  readonly elapsed: number;
  readonly user: number;
  readonly sys: number;
  /** Every software event and tracepoint the model counts, by perf name. */
  readonly counters: Readonly<Record<string, number>>;
  /** The /proc/vmstat lines the config has. */
  readonly vmstat: Readonly<Record<string, number>>;
  readonly metrics: Readonly<Record<string, { readonly value: number; readonly unit: string }>>;
  /** The workload's counters (`count NAME`), every one the script names, in text order. */
  readonly counts: Readonly<Record<string, number>>;
  /** The workload's phases, in text order (only when the script has some). */
  readonly phases?: Readonly<Record<string, PhaseValues>>;
}

/** One phase of a run: its time, and what its tasks counted meanwhile (as a run's values). */
export interface PhaseValues {
  /** Seconds from the first task's entry to the last one's exit. */
  readonly elapsed: number;
  readonly counters: Readonly<Record<string, number>>;
  readonly vmstat: Readonly<Record<string, number>>;
  readonly counts: Readonly<Record<string, number>>;
}

/**
 * A run's description and its (mean) results: what `diff` compares. A `--save` file is one; a
 * record trace gives one from its header and summary lines.
 */
export interface RunSummary extends RunDescription {
  /** Seconds of simulated time (means over the runs). */
  readonly elapsed: number;
  readonly user: number;
  readonly sys: number;
  /** Every software event and tracepoint, by perf name (task-clock in ns). */
  readonly counters: Readonly<Record<string, number>>;
  readonly vmstat: Readonly<Record<string, number>>;
  /** A metric that cannot be computed (e.g. a division by zero) is null in the JSON. */
  readonly metrics: Readonly<Record<string, { readonly value: number | null; readonly unit: string }>>;
  /** The workload's counters (means over the runs); {} in a file written before they were kept. */
  readonly counts: Readonly<Record<string, number>>;
  /** The workload's phases (means over the runs), when it has some. */
  readonly phases?: Readonly<Record<string, PhaseValues>>;
}

/** `stat --save FILE`: the description, the mean values, and each run's values. */
export interface SavedRun extends RunSummary {
  readonly runs: readonly RunValues[];
}

export function describeRun(p: PreparedRun, seeds: readonly number[] = [p.seed]): RunDescription {
  return {
    spfperf: SPFPERF_VERSION,
    format: SAVE_FORMAT,
    workload: { name: p.workload.name, file: p.workload.file, args: [...p.paramArgs], params: paramsForOutput(p.workload, p.params, p.paramArgs) },
    arch: p.arch.name,
    machine: p.machine.name,
    ...(p.reshaped !== undefined ? { topology: p.reshaped } : {}),
    cpus: p.ncpus,
    config: { label: configLabel(p.config), sources: [...p.config.sources], settings: { ...p.config.settings } },
    seeds: [...seeds],
  };
}

export function runValues(p: PreparedRun, seed: number, r: RunResult): RunValues {
  const { counters, vmstat } = countersOf(p, (id) => r.counts.total(id));
  const metrics: Record<string, { value: number; unit: string }> = {};
  for (const m of r.metrics) metrics[m.name] = { value: metricValue(m.value), unit: m.unit };
  const counts: Record<string, number> = {};
  for (const name of workloadCounters(p.workload)) counts[name] = metricValue(r.counters.get(name) ?? 0);
  const values = { seed, elapsed: secondsOf(r.elapsedNs), user: secondsOf(r.userNs), sys: secondsOf(r.sysNs), counters, vmstat, metrics, counts };
  if (r.phases.length === 0) return values;
  const phases: Record<string, PhaseValues> = {};
  for (const ph of r.phases) {
    const c: Record<string, number> = {};
    for (const name of workloadCounters(p.workload)) c[name] = metricValue(ph.counters.get(name) ?? 0);
    phases[ph.name] = { elapsed: secondsOf(ph.endNs - ph.startNs), ...countersOf(p, (id) => ph.counts[id]), counts: c };
  }
  return { ...values, phases };
}

/** Every software event and tracepoint by perf name, and the config's vmstat lines, from `total`. */
function countersOf(p: PreparedRun, total: (id: number) => number): { counters: Record<string, number>; vmstat: Record<string, number> } {
  const counters: Record<string, number> = {};
  // Counts are whole; task-clock (ns of CPU time, summed from fractional costs) to the ns;
  // cpu-clock is task-clock again for a workload's tasks, so it is left out.
  for (const e of EVENTS) if (e.kind !== 'vmstat' && e.id !== EV.CPU_CLOCK && e.callEvent !== true) counters[e.name] = Math.round(total(e.id));
  const vmstat: Record<string, number> = {};
  for (const l of vmstatLines(p.config, total)) vmstat[l.name] = Math.round(l.value);
  return { counters, vmstat };
}

/*
 * The numbers of a saved run or trace summary are written with a fixed precision, not with the
 * float noise of their arithmetic ("elapsed":0.00612091583999295): seconds to the ns (9
 * decimals), counts and task-clock's ns whole, a workload's metric and counter to 9 significant
 * digits, a mean over runs of counts to 3 decimals (-r takes at most 1000 runs).
 */

/** Simulated ns as seconds, to the ns. */
export function secondsOf(ns: number): number {
  return Math.round(ns) / 1e9;
}

/** A workload metric: 9 significant digits (NaN, a metric that could not be computed, stays). */
export function metricValue(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(9)) : v;
}

/** A mean of counts over runs: 3 decimals. */
function meanCount(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** A mean of seconds over runs: to the ns. */
function meanSeconds(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

function meanRecord(rs: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(rs[0] ?? {})) out[k] = meanCount(mean(rs.map((r) => r[k])));
  return out;
}

export function savedRun(p: PreparedRun, runs: readonly RunValues[]): SavedRun {
  const metrics: Record<string, { value: number; unit: string }> = {};
  for (const [k, m] of Object.entries(runs[0]?.metrics ?? {})) metrics[k] = { value: metricValue(mean(runs.map((r) => r.metrics[k].value))), unit: m.unit };
  return {
    ...describeRun(p, runs.map((r) => r.seed)),
    elapsed: meanSeconds(mean(runs.map((r) => r.elapsed))),
    user: meanSeconds(mean(runs.map((r) => r.user))),
    sys: meanSeconds(mean(runs.map((r) => r.sys))),
    counters: meanRecord(runs.map((r) => r.counters)),
    vmstat: meanRecord(runs.map((r) => r.vmstat)),
    metrics,
    counts: meanRecord(runs.map((r) => r.counts)),
    ...(runs[0]?.phases !== undefined ? { phases: meanPhases(runs.map((r) => r.phases ?? {})) } : {}),
    runs,
  };
}

/** The phases' values, means over the runs. */
function meanPhases(rs: readonly Readonly<Record<string, PhaseValues>>[]): Record<string, PhaseValues> {
  const out: Record<string, PhaseValues> = {};
  for (const k of Object.keys(rs[0] ?? {})) {
    const ps = rs.map((r) => r[k]);
    out[k] = {
      elapsed: meanSeconds(mean(ps.map((p) => p.elapsed))),
      counters: meanRecord(ps.map((p) => p.counters)),
      vmstat: meanRecord(ps.map((p) => p.vmstat)),
      counts: meanRecord(ps.map((p) => p.counts)),
    };
  }
  return out;
}
