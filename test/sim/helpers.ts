/**
 * Helpers for tests that run workloads on the model: build RunOptions from an inline DSL source
 * (no files needed) or from a shipped workload, and a sink that records what the model emits.
 */
import { getArch } from '../../src/config/arch.js';
import { genericMachine, getMachine } from '../../src/config/machine.js';
import { EV } from '../../src/events/catalog.js';
import type { Thread } from '../../src/mm/kernel.js';
import { lookupPteTable } from '../../src/mm/pgtable.js';
import { runWorkload, type RunOptions, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import type { EventSource, TraceSink } from '../../src/trace/sink.js';
import { checkWorkload } from '../../src/workload/check.js';
import { parseWorkload } from '../../src/workload/parser.js';
import { resolveParams } from '../../src/workload/params.js';

export const KiB = 1024;
export const MiB = 1024 * 1024;
export const PAGE = 4096;

export interface InlineOptions {
  readonly ncpus?: number;
  readonly seed?: number;
  /** `name=value` overrides, as on the command line. */
  readonly params?: readonly string[];
  readonly sinks?: readonly TraceSink[];
}

/** RunOptions for a DSL source given inline (parsed and checked as a file would be). */
export function inlineOptions(source: string, o: InlineOptions = {}, file = 'inline.spf'): RunOptions {
  const workload = parseWorkload(source, file);
  checkWorkload(workload);
  const ncpus = o.ncpus ?? 1;
  const seed = o.seed ?? 1;
  const params = resolveParams(workload, o.params ?? [], { ncpus, seed });
  return {
    workload,
    params,
    arch: getArch('x86'),
    machine: ncpus <= 16 ? getMachine('x86-vm16') : genericMachine('x86', 'x86', ncpus),
    ncpus,
    seed,
    sinks: o.sinks,
    // The tests inspect the address spaces after the run.
    keepAddressSpaces: true,
  };
}

/** Run an inline DSL source. */
export function runInline(source: string, o: InlineOptions = {}): RunResult {
  return runWorkload(inlineOptions(source, o));
}

/** Run a shipped workload (by name) the way `spfperf stat` does. */
export function runShipped(name: string, params: readonly string[], cpus: number, seed?: number): RunResult {
  const p = prepareRun(name, params, { cpus: String(cpus), seed: seed === undefined ? undefined : String(seed) });
  return runWorkload(runOptionsOf(p));
}

/** A recorded exceptions:page_fault_user sample. */
export interface FaultSample {
  readonly addr: number;
  readonly ip: number;
  readonly err: number;
  readonly tid: number;
}

/**
 * A sink that records every page_fault_user tracepoint (address, ip, error code) and remembers
 * the event sources it saw (the model's Thread objects, through which a test can inspect the
 * kernel state at the end of a run).
 */
export class RecordingSink implements TraceSink {
  readonly traced: ReadonlySet<number> = new Set([EV.PAGE_FAULT_USER]);
  readonly faults: FaultSample[] = [];
  readonly sources = new Set<EventSource>();

  count(_id: number, src: EventSource): void {
    this.sources.add(src);
  }

  sample(id: number, src: EventSource, fields: readonly number[]): void {
    if (id !== EV.PAGE_FAULT_USER) return;
    this.faults.push({ addr: fields[0]!, ip: fields[1]!, err: fields[2]!, tid: src.tid });
  }

  /** The model threads that emitted events (the EventSource is the kernel's Thread). */
  threads(): Thread[] {
    return [...this.sources] as Thread[];
  }
}

/** The totals most tests look at. */
export function faults(r: RunResult): { pf: number; minor: number; major: number; pgfault: number; alloc: number; free: number } {
  return {
    pf: r.counts.total(EV.PAGE_FAULTS),
    minor: r.counts.total(EV.MINOR_FAULTS),
    major: r.counts.total(EV.MAJOR_FAULTS),
    pgfault: r.counts.total(EV.PGFAULT),
    alloc: r.counts.total(EV.PGALLOC),
    free: r.counts.total(EV.PGFREE),
  };
}

/** The PTE mapping `addr` in `th`'s mm at the end of a run (0 when no table or pte_none). */
export function pteAt(th: Thread, addr: number): number {
  const geo = th.k.geo;
  const pt = lookupPteTable(geo, th.mm.pgd, addr);
  return pt === null ? 0 : pt.ptes[geo.index(geo.levels - 1, addr)]!;
}

/** The main thread (first thread of the first process) among those a RecordingSink saw. */
export function mainThread(s: RecordingSink): Thread {
  const ths = s.threads().sort((a, b) => a.idx - b.idx);
  if (ths.length === 0) throw new Error('the sink saw no thread');
  return ths[0]!;
}
