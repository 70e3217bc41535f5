/**
 * Helpers for the memory-model tests under test/mm (THP, khugepaged, fork, swap, stacks and
 * mremap, files, arches): RunOptions for an inline DSL source on any arch profile or machine
 * preset, under any kernel config preset, with the mm knobs (thp, khugepaged, fault_completed)
 * and the choice of keeping the address spaces after the run; and small inspectors of the
 * kernel state a run leaves behind.
 */
import { getArch, type ArchProfile } from '../../src/config/arch.js';
import { resolveConfig } from '../../src/config/kconfig.js';
import { genericMachine, getMachine, type Machine } from '../../src/config/machine.js';
import { EV } from '../../src/events/catalog.js';
import type { Thread } from '../../src/mm/kernel.js';
import { lookupPteTable, type PteTable } from '../../src/mm/pgtable.js';
import { strategyFor } from '../../src/mm/spf/index.js';
import { PTE_PRESENT, PTE_SHIFT } from '../../src/mm/types.js';
import type { Vma } from '../../src/mm/vma.js';
import { runWorkload, type RunOptions, type RunResult } from '../../src/sim/run.js';
import type { EventSource, TraceSink } from '../../src/trace/sink.js';
import { inlineOptions, RecordingSink } from '../sim/helpers.js';

export { KiB, MiB, PAGE, RecordingSink, faults, pteAt, mainThread } from '../sim/helpers.js';

export interface MmRunOptions {
  readonly ncpus?: number;
  readonly seed?: number;
  readonly sinks?: readonly TraceSink[];
  /** An arch profile (x86, arm64, powerpc-radix, powerpc-hash) on a generic one-socket machine. */
  readonly profile?: string;
  /** A machine preset (its arch profile and cost overrides, as `--machine` gives them). */
  readonly machine?: string;
  /** A kernel config preset (base, dufour-v11, per-vma-lock, lespinasse, ...). */
  readonly design?: string;
  readonly thp?: 'always' | 'madvise' | 'never';
  readonly khugepaged?: { readonly sleepMs: number; readonly pages: number };
  readonly faultCompleted?: boolean;
  /** Keep the address spaces after the run (default true); false runs exit_mmap as stat does. */
  readonly keep?: boolean;
}

/** The arch profile of a machine with the machine's own cost overrides (as prepareRun does). */
export function archOf(m: Machine): ArchProfile {
  const base = getArch(m.profile);
  return m.costs ? { ...base, costs: { ...base.costs, ...m.costs } } : base;
}

/** RunOptions for an inline DSL source. */
export function mmOptions(source: string, o: MmRunOptions = {}): RunOptions {
  const ncpus = o.ncpus ?? 1;
  const base = inlineOptions(source, { ncpus, seed: o.seed, sinks: o.sinks });
  let machine: Machine = base.machine;
  let arch: ArchProfile = base.arch;
  if (o.machine !== undefined) {
    machine = getMachine(o.machine);
    arch = archOf(machine);
  } else if (o.profile !== undefined) {
    arch = getArch(o.profile);
    machine = genericMachine(arch.name, arch.profile, Math.max(16, ncpus));
  }
  const config = resolveConfig([o.design ?? 'base']);
  return {
    ...base,
    arch,
    machine,
    spf: strategyFor(config, arch),
    vmaLockAnonVma: config.vmaLockAnonVma,
    thp: o.thp,
    khugepaged: o.khugepaged ?? null,
    faultCompleted: o.faultCompleted ?? false,
    keepAddressSpaces: o.keep ?? true,
  };
}

/** Run an inline DSL source. */
export function runMm(source: string, o: MmRunOptions = {}): RunResult {
  return runWorkload(mmOptions(source, o));
}

// proc(), total() and totals() are the spf tests' helpers.
export { proc, total, totals } from './spf/helpers.js';

/** The events most of these tests look at. */
export const MM_EVENTS = [
  EV.PAGE_FAULTS, EV.MINOR_FAULTS, EV.MAJOR_FAULTS, EV.PGFAULT, EV.PGMAJFAULT, EV.PGALLOC, EV.PGFREE,
  EV.PSWPIN, EV.PSWPOUT, EV.THP_FAULT_ALLOC, EV.THP_ZERO_PAGE_ALLOC, EV.THP_SPLIT_PMD, EV.THP_COLLAPSE_ALLOC,
] as const;

/** The PTE table mapping addr in th's mm (null when an upper level or the PMD is none). */
export function tableAt(th: Thread, addr: number): PteTable | null {
  return lookupPteTable(th.k.geo, th.mm.pgd, addr);
}

/** The PTE mapping addr in th's mm (0 when none). */
export function pte(th: Thread, addr: number): number {
  const pt = tableAt(th, addr);
  return pt === null ? 0 : pt.ptes[th.k.geo.index(th.k.geo.levels - 1, addr)]!;
}

/** The pfn a present PTE maps at addr, or -1 when not present. */
export function pfnAt(th: Thread, addr: number): number {
  const p = pte(th, addr);
  return p & PTE_PRESENT ? p >>> PTE_SHIFT : -1;
}

/** The VMA containing addr, or null. */
export function vmaAt(th: Thread, addr: number): Vma | null {
  const v = th.mm.vmas.find(addr);
  return v !== null && v.start <= addr ? v : null;
}

/** The workload threads a recording sink saw, in creation order (kernel threads left out). */
export function workloadThreads(s: RecordingSink): Thread[] {
  return s.threads().filter((t) => !t.kernel).sort((a, b) => a.idx - b.idx);
}

/** The main thread of each process, in pid order. */
export function processMains(s: RecordingSink): Thread[] {
  const byPid = new Map<number, Thread>();
  for (const t of workloadThreads(s)) if (!byPid.has(t.pid)) byPid.set(t.pid, t);
  return [...byPid.values()].sort((a, b) => a.pid - b.pid);
}

/** A sink that remembers when (simulated ns) chosen events happened, and who emitted them. */
export class TimelineSink implements TraceSink {
  readonly at = new Map<number, number[]>();
  readonly sources = new Set<EventSource>();
  constructor(readonly ids: readonly number[]) {
    for (const id of ids) this.at.set(id, []);
  }
  count(id: number, src: EventSource, n: number): void {
    this.sources.add(src);
    const times = this.at.get(id);
    if (times !== undefined) for (let i = 0; i < n; i++) times.push(src.timeNow());
  }
  times(id: number): number[] {
    return this.at.get(id) ?? [];
  }
  threads(): Thread[] {
    return ([...this.sources] as Thread[]).filter((t) => !t.kernel).sort((a, b) => a.idx - b.idx);
  }
}
