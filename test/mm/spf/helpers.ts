/**
 * Helpers for the page-fault design tests: run an inline workload (or a shipped one) under a
 * kernel config preset, and record the pagefault:* tracepoints with their fields.
 */
import { getArch } from '../../../src/config/arch.js';
import { resolveConfig } from '../../../src/config/kconfig.js';
import { EV, eventById } from '../../../src/events/catalog.js';
import { strategyFor } from '../../../src/mm/spf/index.js';
import { ksymName as siteName } from '../../../src/events/ksym.js';
import { PRESETS } from '../../../src/config/kconfig.js';
import { runWorkload, type RunResult } from '../../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../../src/sim/setup.js';
import type { EventSource, TraceSink } from '../../../src/trace/sink.js';
import { inlineOptions, type InlineOptions } from '../../sim/helpers.js';

export { KiB, MiB, PAGE } from '../../sim/helpers.js';

/** Every design preset, from the design registry (a new design's presets join every test here). */
export const DESIGNS: readonly string[] = Object.keys(PRESETS);
export type DesignName = string;

/** The presets whose design counts speculative-faults (the SPF series and the 2009 RFC). */
export const SPECULATIVE: readonly string[] = DESIGNS.filter((p) => PRESETS[p].design.events?.includes('speculative-faults'));

/** The Dufour series' tracepoints (pagefault:*). */
export const PAGEFAULT_TPS = [
  EV.SPF_VMA_CHANGED, EV.SPF_VMA_NOANON, EV.SPF_VMA_NOTSUP, EV.SPF_VMA_ACCESS, EV.SPF_PMD_CHANGED, EV.SPF_PTE_LOCK,
] as const;

/** Lespinasse's SPF_ABORT_* reasons (the ones the model counts). */
export const LESPINASSE_ABORTS = [
  EV.SPF_ABORT_ODD, EV.SPF_ABORT_UNMAPPED, EV.SPF_ABORT_NO_SPECULATE, EV.SPF_ABORT_VMA_COPY,
  EV.SPF_ABORT_ACCESS_ERROR, EV.SPF_ABORT_PUD, EV.SPF_ABORT_PMD, EV.SPF_ABORT_ANON_VMA,
  EV.SPF_ABORT_PTE_MAP_LOCK_SEQ1, EV.SPF_ABORT_PTE_MAP_LOCK_PMD, EV.SPF_ABORT_PTE_MAP_LOCK_PTL,
  EV.SPF_ABORT_PTE_MAP_LOCK_SEQ2,
] as const;

/** One recorded pagefault:* hit. */
export interface SpfSample {
  readonly id: number;
  /** Event name without the `pagefault:` prefix (e.g. 'spf_vma_changed'). */
  readonly event: string;
  /** `function+0xoff` of the caller ip. */
  readonly site: string;
  readonly vmStart: number;
  readonly vmEnd: number;
  readonly address: number;
  readonly tid: number;
}

/** A sink that records the fields of every pagefault:* tracepoint. */
export class SpfSink implements TraceSink {
  readonly traced: ReadonlySet<number> = new Set<number>(PAGEFAULT_TPS);
  readonly samples: SpfSample[] = [];

  count(): void {}

  sample(id: number, src: EventSource, fields: readonly number[]): void {
    const [caller, vmStart, vmEnd, address] = fields as [number, number, number, number];
    this.samples.push({
      id,
      event: eventById(id).name.replace(/^pagefault:/, ''),
      site: siteName(caller) ?? `?${caller.toString(16)}`,
      vmStart,
      vmEnd,
      address,
      tid: src.tid,
    });
  }

  of(id: number): SpfSample[] {
    return this.samples.filter((s) => s.id === id);
  }

  /** How many hits per abort site, e.g. { '__handle_speculative_fault+0x5c': 3 }. */
  sites(id?: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.samples) if (id === undefined || s.id === id) out[s.site] = (out[s.site] ?? 0) + 1;
    return out;
  }
}

export interface DesignRunOptions extends InlineOptions {
  /** Extra config items after the preset (KEY=VALUE). */
  readonly extra?: readonly string[];
}

/** Run an inline DSL source under a config preset (x86, as `spfperf stat --config <design>`). */
export function runDesign(design: DesignName, source: string, o: DesignRunOptions = {}): RunResult {
  const opts = inlineOptions(source, o);
  const config = resolveConfig([design, ...(o.extra ?? [])]);
  return runWorkload({ ...opts, vmaLockAnonVma: config.vmaLockAnonVma, spf: strategyFor(config, getArch('x86')) });
}

/** Run a shipped workload under a config preset, the way `spfperf stat --config` does. */
export function runShippedDesign(name: string, design: DesignName, params: readonly string[], cpus: number, seed = 1, sinks?: readonly TraceSink[]): RunResult {
  const p = prepareRun(name, params, { cpus: String(cpus), seed: String(seed), config: [design] });
  return runWorkload({ ...runOptionsOf(p), sinks });
}

/** A process block from lines. */
export function proc(...body: string[]): string {
  return `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

/** Total of an event over the run. */
export function total(r: RunResult, id: number): number {
  return r.counts.total(id);
}

/** Totals of several events, keyed by catalog name (handy in failure messages). */
export function totals(r: RunResult, ids: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) out[eventById(id).name] = r.counts.total(id);
  return out;
}

/** The sum of the pagefault:* tracepoints of a run. */
export function pagefaultEvents(r: RunResult): number {
  return PAGEFAULT_TPS.reduce((s, id) => s + r.counts.total(id), 0);
}

/** The sum of Lespinasse's SPF_ABORT_* reasons. */
export function lespinasseAbortReasons(r: RunResult): number {
  return LESPINASSE_ABORTS.reduce((s, id) => s + r.counts.total(id), 0);
}

/** The number of faults taken by the threads other than the main one (index 0). */
export function workerTotal(r: RunResult, id: number): number {
  return r.counts.total(id) - r.counts.of(0, id);
}

/** Is the sample's address inside the VMA it reports ([vm_start, vm_end))? */
export function inside(s: SpfSample): boolean {
  return s.vmStart <= s.address && s.address < s.vmEnd;
}

export const PTE_TABLE_SPAN = 2 * 1024 * 1024;

/** How many 2 MiB PTE tables the range [start, end) touches. */
export function tablesSpanned(start: number, end: number): number {
  return Math.floor((end - 1) / PTE_TABLE_SPAN) - Math.floor(start / PTE_TABLE_SPAN) + 1;
}

/**
 * Small workloads that provoke the abort paths. "Prepared" means the main thread, alone in its
 * process (so no design speculates), writes the first page first: the VMA then has its anon_vma
 * and the PTE table of its first page exists.
 */
export const W = {
  /**
   * A writer thread splits and re-merges a VMA with mprotect while `threads - 1` (at most 14)
   * threads fault in its upper part, 1 MiB each.
   */
  mprotectWriter: (rounds = 50, threads = 4): string => proc(
    'buf = mmap 16M',
    'touch buf write length 4K',
    `threads ${threads} {`,
    '  if $tid == 0 {',
    `    loop ${rounds} {`,
    '      mprotect buf r offset 1M length 1M',
    '      mprotect buf rw offset 1M length 1M',
    '    }',
    '  } else {',
    '    touch buf write offset 2M + ($tid - 1) * 1M length 1M',
    '  }',
    '}',
  ),
  /**
   * A writer thread maps and unmaps 64 KiB right below a VMA that 3 threads fault in: the new
   * mapping merges into the VMA (its start moves down), the munmap splits it again. The VMA is
   * the process's first mapping and smaller than a PMD, so that top-down placement puts each
   * new mapping right below it (mappings of 2 MiB or more may be PMD-aligned, leaving a gap).
   */
  mmapWriter: (rounds = 100): string => proc(
    'buf = mmap 1536K',
    'touch buf write length 4K',
    'threads 4 {',
    '  if $tid == 0 {',
    `    loop ${rounds} {`,
    '      x = mmap 64K',
    '      munmap x',
    '    }',
    '  } else {',
    '    touch buf write offset 4K + ($tid - 1) * 512K length 508K',
    '  }',
    '}',
  ),
  /** As mprotectWriter / mmapWriter, but thread 0 only computes: the control run. */
  noWriter: (): string => proc(
    'buf = mmap 16M',
    'touch buf write length 4K',
    'threads 4 {',
    '  if $tid == 0 {',
    '    compute 500us',
    '  } else {',
    '    touch buf write offset 2M + ($tid - 1) * 1M length 1M',
    '  }',
    '}',
  ),
  /**
   * `n` threads start together (barrier) and write interleaved pages of one prepared 1 MiB
   * range: one PTE table, so one PTE lock for all of them.
   */
  samePteTable: (n: number): string => proc(
    'buf = mmap 1M',
    'touch buf write length 4K',
    `threads ${n} {`,
    '  barrier',
    '  touch buf write offset 4K + $tid * 4K stride $nthreads * 4K',
    '}',
  ),
  /** One thread of a two-thread process maps 8 MiB and writes every page: a fresh mapping. */
  fresh: (): string => proc('threads 1 {', '  m = mmap 8M', '  touch m write', '}'),
  /** As `fresh`, but read faults only (the zero page; no anon_vma is ever needed). */
  freshRead: (): string => proc('threads 1 {', '  m = mmap 64K', '  touch m read', '}'),
  /** A prepared 8 MiB mapping (anon_vma and first PTE table exist); one thread writes every page. */
  preparedNoTables: (): string => proc('m = mmap 8M', 'touch m write length 4K', 'threads 1 {', '  touch m write offset 4K', '}'),
  /** A written mapping made read-only; a thread of a multithreaded process writes to it. */
  writeReadOnly: (): string => proc(
    'buf = mmap 1M',
    'touch buf write',
    'mprotect buf r',
    'threads 1 {',
    '  touch buf write offset 8K length 4K',
    '}',
  ),
  /** A fresh read-only mapping (no anon_vma); a thread of a multithreaded process writes to it. */
  writeReadOnlyFresh: (): string => proc('buf = mmap 1M r', 'threads 1 {', '  touch buf write offset 8K length 4K', '}'),
  /**
   * A thread of a multithreaded process reads then writes (private COW) a tmpfs file mapping,
   * and writes a shared anonymous one (shmem): VMAs with vm_ops, never anonymous.
   */
  fileBacked: (): string => proc(
    'f = mmap 256K rw private file "/dev/shm/spf-test"',
    's = mmap 256K rw shared anon',
    'threads 1 {',
    '  touch f read length 64K',
    '  touch f write length 64K',
    '  touch s write length 64K',
    '}',
  ),
  /** A thread writes to a mapping after unmapping it (no VMA at the address any more). */
  useAfterMunmap: (): string => proc(
    'keep = mmap 1M',
    'touch keep write length 4K',
    'threads 1 {',
    '  m = mmap 64K',
    '  touch m write length 4K',
    '  munmap m',
    '  touch m write length 4K',
    '}',
  ),
  /** A single-threaded process: maps, writes, reads, mprotects, unmaps; never more than one thread. */
  singleThreaded: (): string => proc(
    'buf = mmap 4M',
    'touch buf write',
    'x = mmap 1M',
    'touch x write',
    'mprotect x r offset 256K length 256K',
    'touch buf read',
    'touch x read',
    'munmap x',
  ),
  /** The same work in the one thread of a `threads 1` block: mm_users is 2 while it runs. */
  singleWorkerThread: (): string => proc(
    'threads 1 {',
    '  buf = mmap 4M',
    '  touch buf write',
    '  x = mmap 1M',
    '  touch x write',
    '  mprotect x r offset 256K length 256K',
    '  touch buf read',
    '  touch x read',
    '  munmap x',
    '}',
  ),
} as const;
