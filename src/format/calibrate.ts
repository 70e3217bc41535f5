/**
 * calibrate's output: the real twins beside the model, one row per workload and thread count,
 * as a table (src/format/table.ts) or as JSON lines. Pure: rows in, text out.
 */
import { formatTable } from './table.js';

/** One twin at one thread count, real (medians over the runs) and simulated. */
export interface CalibrateRow {
  readonly workload: string;
  readonly threads: number;
  /** The parameters both sides were given besides threads= and the twin's mode (`iterations=2 size=64M`). */
  readonly params: string;
  /** The fixed-work count among them (iterations, or multi-fault's rounds). */
  readonly iterations: number;
  readonly runs: number;
  /** How the real faults and CPU time were counted. */
  readonly source: 'perf' | 'getrusage';
  /** The empty run's faults (median), taken off real_faults. */
  readonly startupFaults: number;
  readonly realFaults: number;
  /** The twin's own count of its tasks' faults inside the rounds (median). */
  readonly realLoopFaults: number;
  /** The model's empty run's faults, taken off sim_faults. */
  readonly simStartupFaults: number;
  /** The model's page-faults with its empty run's taken off. */
  readonly simFaults: number;
  /** Ops per second, median over the runs, and the runs' half-range as a fraction of it. */
  readonly realThroughput: number;
  readonly realSpread: number;
  readonly simThroughput: number;
  /** Throughput against the same workload on one thread. */
  readonly realScaling: number;
  readonly simScaling: number;
  /** CPU time per fault (start-up's taken off, both sides). */
  readonly realNsPerFault: number;
  readonly simNsPerFault: number;
  /**
   * The share of the CPUs' time taken by anything else (other processes, the hypervisor's
   * steal) while this point's real runs ran, from /proc/stat; null where it could not be told.
   */
  readonly otherLoad: number | null;
  /**
   * What `threads` CPUs could do together against one just before the real runs, for pure
   * user-mode work (1 on one thread): the ceiling of the real scaling.
   */
  readonly capacity: number;
}

/** sim / real - 1 (0 when both are 0; null when only the real one is). */
export function relError(sim: number, real: number): number | null {
  if (real === 0) return sim === 0 ? 0 : null;
  return sim / real - 1;
}

const pct = (e: number | null): string => (e === null ? '-' : `${e >= 0 ? '+' : ''}${(100 * e).toFixed(1)}%`);
const fixed = (v: number, d: number): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function formatCalibrateTable(rows: readonly CalibrateRow[]): string {
  return formatTable({
    head: ['Workload', 'Thr', 'Faults real', '(in loop)', 'Faults sim', 'Diff', 'Scaling real', 'Scaling sim', 'Error', 'ns/fault real', 'ns/fault sim', 'Error', 'Others', 'Capacity'],
    rows: rows.map((r) => [
      r.workload,
      r.threads,
      r.realFaults,
      r.realLoopFaults,
      r.simFaults,
      r.simFaults - r.realFaults,
      `${fixed(r.realScaling, 2)} ±${fixed(100 * r.realSpread, 0)}%`,
      fixed(r.simScaling, 2),
      pct(relError(r.simScaling, r.realScaling)),
      fixed(r.realNsPerFault, 0),
      fixed(r.simNsPerFault, 0),
      pct(relError(r.simNsPerFault, r.realNsPerFault)),
      r.otherLoad === null ? '-' : `${Math.round(100 * r.otherLoad)}%`,
      fixed(r.capacity, 2),
    ]),
    align: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  });
}

const round = (v: number, d: number): number | null => (Number.isFinite(v) ? Number(v.toFixed(d)) : null);

/** One JSON object per line, snake_case keys. */
export function formatCalibrateJson(rows: readonly CalibrateRow[]): string {
  return rows
    .map((r) =>
      JSON.stringify({
        workload: r.workload,
        threads: r.threads,
        params: r.params,
        iterations: r.iterations,
        runs: r.runs,
        source: r.source,
        startup_faults: r.startupFaults,
        real_faults: r.realFaults,
        real_loop_faults: r.realLoopFaults,
        sim_startup_faults: r.simStartupFaults,
        sim_faults: r.simFaults,
        faults_diff: r.simFaults - r.realFaults,
        real_throughput: round(r.realThroughput, 1),
        real_spread: round(r.realSpread, 4),
        sim_throughput: round(r.simThroughput, 1),
        real_scaling: round(r.realScaling, 4),
        sim_scaling: round(r.simScaling, 4),
        scaling_error: round(relError(r.simScaling, r.realScaling) ?? NaN, 4),
        real_ns_per_fault: round(r.realNsPerFault, 1),
        sim_ns_per_fault: round(r.simNsPerFault, 1),
        cost_error: round(relError(r.simNsPerFault, r.realNsPerFault) ?? NaN, 4),
        other_load: r.otherLoad === null ? null : round(r.otherLoad, 3),
        real_capacity: round(r.capacity, 3),
      }) + '\n',
    )
    .join('');
}
