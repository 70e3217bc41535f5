/**
 * Helpers for the tests of the shipped workloads: run one the way `spfperf stat` does (machine,
 * config, cpus, seed as on the command line), optionally keeping the address spaces and
 * recording what the model emits.
 */
import { EV } from '../../src/events/catalog.js';
import type { Thread } from '../../src/mm/kernel.js';
import type { Vma } from '../../src/mm/vma.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf, type CommonRunOptions } from '../../src/sim/setup.js';
import { RecordingSink } from '../sim/helpers.js';

export interface ShippedRunOptions extends CommonRunOptions {
  /** Keep the processes' address spaces after the run and record the threads (for `vmas`). */
  readonly inspect?: boolean;
}

export interface ShippedRun extends RunResult {
  /** The model's threads (only with `inspect`), by creation order. */
  readonly modelThreads: readonly Thread[];
}

/** Run shipped workload `name` with `name=value` parameters. */
export function runShipped(name: string, params: readonly string[], o: ShippedRunOptions = {}): ShippedRun {
  const p = prepareRun(name, params, o);
  const sink = new RecordingSink();
  const r = runWorkload({ ...runOptionsOf(p), ...(o.inspect ? { sinks: [sink], keepAddressSpaces: true } : {}) });
  const modelThreads = o.inspect ? sink.threads().sort((a, b) => a.idx - b.idx) : [];
  return { ...r, modelThreads };
}

/** The totals the tests look at. */
export function totals(r: RunResult) {
  const t = (id: number): number => r.counts.total(id);
  return {
    faults: t(EV.PAGE_FAULTS),
    minor: t(EV.MINOR_FAULTS),
    major: t(EV.MAJOR_FAULTS),
    spf: t(EV.SPF),
    pgfault: t(EV.PGFAULT),
    pgmajfault: t(EV.PGMAJFAULT),
    pgalloc: t(EV.PGALLOC),
    pgfree: t(EV.PGFREE),
    thpAlloc: t(EV.THP_FAULT_ALLOC),
  };
}

/** The value of metric `name`. */
export function metric(r: RunResult, name: string): number {
  const m = r.metrics.find((x) => x.name === name);
  if (m === undefined) throw new Error(`no metric '${name}' (have: ${r.metrics.map((x) => x.name).join(', ')})`);
  return m.value;
}

/** The VMAs of a thread's mm at the end of the run (needs `inspect`). */
export function vmas(th: Thread): readonly Vma[] {
  return th.mm.vmas.all();
}

/** Distinct pids of the threads that ran (workers and parents). */
export function pids(r: RunResult): number[] {
  return [...new Set(r.threads.map((t) => t.pid))].sort((a, b) => a - b);
}
