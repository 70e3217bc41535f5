/**
 * Laurent Dufour's speculative page faults (src/mm/spf/dufour.ts): one test per pagefault:*
 * abort reason, each provoked by a small workload running on the engine (real interleavings,
 * no poking at internals), with the tracepoint fields (caller site, vm_start, vm_end, address).
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../../src/events/catalog.js';
import type { RunResult } from '../../../src/sim/run.js';
import { SIGSEGV } from '../../../src/mm/types.js';
import {
  inside, MiB, pagefaultEvents, PTE_TABLE_SPAN, runDesign, SpfSink, tablesSpanned, total, W, workerTotal,
  type DesignName, type SpfSample,
} from './helpers.js';
import { mainThread, RecordingSink } from '../../sim/helpers.js';

/** The abort sites that trace spf_vma_changed (AT table of dufour.ts). */
const VMA_CHANGED_SITES = [
  '__handle_speculative_fault+0x5c', // sequence count odd: a writer is inside
  '__handle_speculative_fault+0xd4', // address outside [vm_start, vm_end)
  '__handle_speculative_fault+0x1f8', // read_seqcount_retry after the walk
  'pte_map_lock+0x4c', // vma_has_changed before the PTE lock
  'pte_map_lock+0xf2', // vma_has_changed after the PTE lock
];
const NOTSUP_VMA = '__handle_speculative_fault+0x9a';
const NOTSUP_WALK = '__handle_speculative_fault+0x1a0';
const ACCESS = '__handle_speculative_fault+0x112';
const PTE_LOCK = 'pte_map_lock+0xc0';

interface Traced {
  readonly r: RunResult;
  readonly s: SpfSink;
}

/**
 * Run under a Dufour preset and check what must hold in every Dufour run: spf_vma_noanon never
 * fires (the series traces the missing anon_vma as notsup), v11 and the SRCU variant never
 * trace spf_pte_lock (they loop on a busy PTE lock), the perf and vmstat counts agree.
 */
function dufour(design: DesignName, source: string, ncpus: number, seed = 1): Traced {
  const s = new SpfSink();
  const r = runDesign(design, source, { ncpus, seed, sinks: [s] });
  expect(total(r, EV.SPF_VMA_NOANON)).toBe(0);
  if (design !== 'dufour-v9') expect(total(r, EV.SPF_PTE_LOCK)).toBe(0);
  expect(total(r, EV.SPECULATIVE_PGFAULT)).toBe(total(r, EV.SPF));
  // The sink saw every hit the counting sink counted.
  expect(s.samples.length).toBe(pagefaultEvents(r));
  return { r, s };
}

const fmt = (x: SpfSample): string => `${x.event} ${x.site} vma:${x.vmStart.toString(16)}-${x.vmEnd.toString(16)} address:${x.address.toString(16)}`;

describe('dufour: spf_vma_changed', () => {
  test('a writer thread splitting and re-merging the VMA with mprotect aborts faults in it', () => {
    const { r, s } = dufour('dufour-v11', W.mprotectWriter(), 4);
    const changed = s.of(EV.SPF_VMA_CHANGED);
    expect(changed.length).toBeGreaterThan(0);
    expect(total(r, EV.SPF_VMA_CHANGED)).toBe(changed.length);
    for (const x of changed) expect(VMA_CHANGED_SITES, fmt(x)).toContain(x.site);
    // The faulting threads saw the writer inside its vm_write_begin/end section, or the VMA
    // change under them before they could commit.
    const sites = s.sites(EV.SPF_VMA_CHANGED);
    expect((sites['__handle_speculative_fault+0x5c'] ?? 0) + (sites['pte_map_lock+0x4c'] ?? 0)).toBeGreaterThan(0);
    // The bounds check fires only for addresses outside the VMA read.
    for (const x of changed.filter((c) => c.site === '__handle_speculative_fault+0xd4')) expect(inside(x), fmt(x)).toBe(false);
    // Every abort falls back to the classic path: no fault is lost, nobody is killed.
    expect(r.signals).toEqual([]);
    expect(workerTotal(r, EV.PAGE_FAULTS) - total(r, EV.SPF)).toBeGreaterThanOrEqual(pagefaultEvents(r));
    expect(total(r, EV.SPF)).toBeGreaterThan(0);
  });

  test('a writer thread mmap-ing and munmap-ing right next to the VMA aborts faults in it', () => {
    const { r, s } = dufour('dufour-v11', W.mmapWriter(), 4);
    const changed = s.of(EV.SPF_VMA_CHANGED);
    expect(changed.length).toBeGreaterThan(0);
    for (const x of changed) expect(VMA_CHANGED_SITES, fmt(x)).toContain(x.site);
    // The fields show the VMA as it is when the abort is traced: the one holding the address,
    // or, when munmap is splitting the 64 KiB piece off the merged VMA, that piece (the
    // original vm_area_struct keeps the lower part in __split_vma, so the fault's VMA shrank).
    for (const x of changed) expect(inside(x) || (x.vmEnd - x.vmStart === 64 * 1024 && x.vmEnd <= x.address), fmt(x)).toBe(true);
    expect(changed.some(inside)).toBe(true);
    expect(r.signals).toEqual([]);
  });

  test('without a writer the same faults never see the VMA change', () => {
    const { r } = dufour('dufour-v11', W.noWriter(), 4);
    expect(total(r, EV.SPF_VMA_CHANGED)).toBe(0);
    // Only the walk aborts of the two PTE tables nobody had populated yet remain.
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS) - total(r, EV.SPF_VMA_NOTSUP));
  });
});

describe('dufour: spf_vma_notsup', () => {
  test('the first fault of a fresh mapping has no anon_vma yet', () => {
    const { r, s } = dufour('dufour-v11', W.fresh(), 2);
    const noAnon = s.of(EV.SPF_VMA_NOTSUP).filter((x) => x.site === NOTSUP_VMA);
    expect(noAnon).toHaveLength(1);
    const [x] = noAnon;
    // It is the very first write, at the start of the mapping.
    expect(x.address).toBe(x.vmStart);
    expect(inside(x)).toBe(true);
    expect(x.vmEnd - x.vmStart).toBe(8 * MiB);
    // The classic path attached the anon_vma: every later fault in the same PTE table is speculative.
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS) - total(r, EV.SPF_VMA_NOTSUP));
  });

  test('a fault whose PTE table does not exist yet aborts in the walk (one per new table)', () => {
    const { r, s } = dufour('dufour-v11', W.preparedNoTables(), 2);
    const notsup = s.of(EV.SPF_VMA_NOTSUP);
    expect(notsup.length).toBeGreaterThan(0);
    for (const x of notsup) {
      expect(x.site, fmt(x)).toBe(NOTSUP_WALK);
      expect(inside(x), fmt(x)).toBe(true);
      // The first page of each 2 MiB table is the one that finds no table.
      expect(x.address % PTE_TABLE_SPAN, fmt(x)).toBe(0);
    }
    // "We take at least one !speculative fault per PMD": every table but the prepared one.
    const { vmStart, vmEnd } = notsup[0];
    expect(notsup).toHaveLength(tablesSpanned(vmStart, vmEnd) - 1);
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS) - notsup.length);
  });
});

describe('dufour: spf_vma_notsup (VMA types)', () => {
  test('file-backed and shmem VMAs (vm_ops set) are never handled speculatively', () => {
    const { r, s } = dufour('dufour-v11', W.fileBacked(), 2);
    const notsup = s.of(EV.SPF_VMA_NOTSUP);
    expect(notsup.length).toBeGreaterThan(0);
    for (const x of notsup) {
      expect(x.site, fmt(x)).toBe(NOTSUP_VMA);
      expect(inside(x), fmt(x)).toBe(true);
      expect(x.vmEnd - x.vmStart, fmt(x)).toBe(256 * 1024);
    }
    // Every worker fault fell back: none is speculative, each is traced once.
    expect(total(r, EV.SPF)).toBe(0);
    expect(notsup).toHaveLength(workerTotal(r, EV.PAGE_FAULTS));
    expect(r.signals).toEqual([]);
  });
});

describe('dufour: spf_vma_access', () => {
  test('a write to a read-only mapping ends in SIGSEGV, completed speculatively (spf counts it)', () => {
    const { r, s } = dufour('dufour-v11', W.writeReadOnly(), 2);
    const acc = s.of(EV.SPF_VMA_ACCESS);
    expect(acc).toHaveLength(1);
    expect(acc[0].site).toBe(ACCESS);
    expect(inside(acc[0])).toBe(true);
    expect(acc[0].address - acc[0].vmStart).toBe(8192);
    // Not a fallback: perf counts it as a speculative fault, and the signal is the result.
    expect(workerTotal(r, EV.PAGE_FAULTS)).toBe(1);
    expect(workerTotal(r, EV.SPF)).toBe(1);
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0].signal).toBe(SIGSEGV);
    expect(r.signals[0].detail).toMatch(/^access error at 0x/);
  });

  test('a fresh read-only mapping (no anon_vma) is traced notsup first and the classic path signals', () => {
    const { r, s } = dufour('dufour-v11', W.writeReadOnlyFresh(), 2);
    expect(total(r, EV.SPF_VMA_ACCESS)).toBe(0);
    expect(s.sites()).toEqual({ [NOTSUP_VMA]: 1 });
    expect(total(r, EV.SPF)).toBe(0);
    expect(r.signals.map((x) => x.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0].detail).toMatch(/^write to [0-9a-f]+-[0-9a-f]+ r--p at 0x/);
  });
});

describe('dufour: spf_pte_lock (v9 only)', () => {
  test('v9 aborts when another thread holds the PTE lock of the same table', () => {
    const { r, s } = dufour('dufour-v9', W.samePteTable(8), 8);
    const busy = s.of(EV.SPF_PTE_LOCK);
    expect(busy.length).toBeGreaterThan(0);
    for (const x of busy) {
      expect(x.site, fmt(x)).toBe(PTE_LOCK);
      expect(inside(x), fmt(x)).toBe(true);
    }
    // All of it is one PTE table (the prepared one): no walk aborts, no VMA changes.
    expect(tablesSpanned(busy[0].vmStart, busy[0].vmEnd)).toBe(1);
    expect(total(r, EV.SPF_VMA_NOTSUP)).toBe(0);
    expect(total(r, EV.SPF_VMA_CHANGED)).toBe(0);
    // Each busy lock is one fallback to the classic path.
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS) - busy.length);
  });

  test('v11 loops on the busy PTE lock instead: the same faults all complete speculatively', () => {
    const { r } = dufour('dufour-v11', W.samePteTable(8), 8);
    expect(total(r, EV.SPF_PTE_LOCK)).toBe(0);
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS));
    expect(pagefaultEvents(r)).toBe(0);
  });

  test('v11 never traces spf_pte_lock, where v9 does on the same contended workloads', () => {
    let v9 = 0;
    for (const w of [W.mprotectWriter(), W.mmapWriter()]) {
      v9 += total(dufour('dufour-v9', w, 4).r, EV.SPF_PTE_LOCK);
      // dufour() checks spf_pte_lock == 0 for v11 and srcu.
      dufour('dufour-v11', w, 4);
      dufour('dufour-srcu', w, 4);
    }
    expect(v9).toBeGreaterThan(0);
  });
});

describe('dufour: spf_pmd_changed', () => {
  test('never fires: page tables are freed only under a VMA that was detached first (vma_changed wins)', () => {
    // Threads mmap, write and munmap 4 MiB copies next to each other (ebizzy-like, big enough
    // that munmap frees whole PTE tables) while the others fault. free_pgtables() frees only
    // tables lying wholly between the neighbouring VMAs, i.e. under the unmapped VMA itself,
    // which is erased from the tree (RB_EMPTY_NODE) before its tables go: pte_map_lock()
    // checks vma_has_changed before pmd_same, so an in-flight fault is traced spf_vma_changed.
    // No khugepaged collapse is modelled, so nothing else changes a PMD.
    const w = [
      'process {',
      '  threads 8 {',
      '    loop 6 {',
      '      c = mmap 4M',
      '      touch c write',
      '      munmap c',
      '    }',
      '  }',
      '}',
    ].join('\n');
    for (const d of ['dufour-v9', 'dufour-v11'] as const) {
      const rec = new RecordingSink();
      const s = new SpfSink();
      const r = runDesign(d, w, { ncpus: 8, sinks: [s, rec] });
      // Page-table pages were really freed under the faulting threads (mm->pgtable generation).
      expect(mainThread(rec).mm.pgtableGen).toBeGreaterThan(0);
      expect(total(r, EV.SPF_PMD_CHANGED)).toBe(0);
      expect(s.of(EV.SPF_PMD_CHANGED)).toEqual([]);
      expect(total(r, EV.SPF_VMA_CHANGED)).toBeGreaterThan(0);
      expect(total(r, EV.SPF)).toBeGreaterThan(0);
    }
  });
});

describe('dufour: spf_vma_noanon', () => {
  test('is defined but never fired, whatever the workload', () => {
    const ws: [string, number][] = [
      [W.fresh(), 2], [W.freshRead(), 2], [W.preparedNoTables(), 2], [W.writeReadOnlyFresh(), 2],
      [W.mprotectWriter(), 4], [W.mmapWriter(), 4], [W.samePteTable(8), 8],
    ];
    let notsup = 0;
    for (const d of ['dufour-v9', 'dufour-v11', 'dufour-srcu'] as const) {
      for (const [w, n] of ws) {
        const { r } = dufour(d, w, n);
        expect(total(r, EV.SPF_VMA_NOANON)).toBe(0);
        notsup += total(r, EV.SPF_VMA_NOTSUP);
      }
    }
    // The missing anon_vma is there all right: it is traced as notsup.
    expect(notsup).toBeGreaterThan(0);
  });
});

describe('dufour-srcu', () => {
  test('runs and completes faults speculatively (VMAs found under SRCU, freed by call_srcu)', () => {
    const { r, s } = dufour('dufour-srcu', W.mmapWriter(), 4);
    expect(total(r, EV.SPF)).toBeGreaterThan(0);
    expect(total(r, EV.SPF)).toBeGreaterThan(workerTotal(r, EV.PAGE_FAULTS) / 2);
    expect(r.signals).toEqual([]);
    // The same abort reasons as v11.
    for (const x of s.of(EV.SPF_VMA_CHANGED)) expect(VMA_CHANGED_SITES).toContain(x.site);
  });

  test('a fresh mapping: one notsup for the anon_vma, one per new PTE table, the rest speculative', () => {
    const { r, s } = dufour('dufour-srcu', W.fresh(), 2);
    const n = s.of(EV.SPF_VMA_NOTSUP);
    expect(n.filter((x) => x.site === NOTSUP_VMA)).toHaveLength(1);
    expect(n.filter((x) => x.site === NOTSUP_WALK)).toHaveLength(tablesSpanned(n[0].vmStart, n[0].vmEnd) - 1);
    expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS) - n.length);
  });
});

describe('dufour: mm_users shares the mmap lock cache line (4.16-4.17 mm_struct)', () => {
  /**
   * Two pinned threads in lock step, `rounds` times: thread 0 mprotects a small read-only VMA
   * back and forth (mmap lock taken for writing: a store to the lock's line), then, after a
   * barrier, thread 1 writes one new page of a prepared 1 MiB VMA (its anon_vma and PTE table
   * exist, so every such fault completes speculatively) or, with fault=0, only computes.
   * writer=0 leaves thread 0 computing instead of mprotecting.
   */
  const LOCKSTEP = 'param rounds = 20\nparam fault = 1\nparam writer = 1\n' + [
    'process {',
    '  buf = mmap 1M',
    '  touch buf write length 4K',
    '  other = mmap 64K r',
    '  threads 2 pin {',
    '    let i = 0',
    '    loop $rounds {',
    '      if $tid == 0 {',
    '        if $writer {',
    '          mprotect other none',
    '          mprotect other r',
    '        } else {',
    '          compute 2us',
    '        }',
    '      }',
    '      barrier',
    '      if $tid == 1 {',
    '        if $fault {',
    '          touch buf write offset 4K + i * 4K length 4K',
    '        } else {',
    '          compute 1us',
    '        }',
    '      }',
    '      barrier',
    '      let i = i + 1',
    '    }',
    '  }',
    '}',
  ].join('\n');

  interface LockStep {
    readonly r: RunResult;
    /** Transfers of the mmap lock's cache line. */
    readonly transfers: number;
    /** Times the mmap lock was taken (either mode). */
    readonly acquired: number;
  }

  function lockstep(design: DesignName, rounds: number, fault: 0 | 1, writer: 0 | 1 = 1): LockStep {
    const rec = new RecordingSink();
    const r = runDesign(design, LOCKSTEP, { ncpus: 4, params: [`rounds=${rounds}`, `fault=${fault}`, `writer=${writer}`], sinks: [rec] });
    expect(r.signals).toEqual([]);
    const lock = mainThread(rec).mm.mmapLock;
    return { r, transfers: lock.line.transfers, acquired: lock.stats.acquired };
  }

  test('v11: speculative faults never take the mmap lock, yet each one after a writer pulls its line', () => {
    for (const rounds of [20, 40]) {
      const faulting = lockstep('dufour-v11', rounds, 1);
      const idle = lockstep('dufour-v11', rounds, 0);
      // Every worker fault completed speculatively: no abort, no fallback to the classic path.
      expect(workerTotal(faulting.r, EV.PAGE_FAULTS)).toBe(rounds);
      expect(total(faulting.r, EV.SPF)).toBe(rounds);
      expect(pagefaultEvents(faulting.r)).toBe(0);
      // So the lock is taken exactly as often as without the faults (the writer's mprotects)...
      expect(faulting.acquired).toBe(idle.acquired);
      // ...but its line moves once per fault (atomic_read(&mm->mm_users) misses after the
      // writer's store), and once more when the writer takes the lock back: without the
      // faults the writer keeps the line to itself.
      expect(faulting.transfers - idle.transfers, `rounds=${rounds}`).toBeGreaterThanOrEqual(rounds);
      expect(idle.transfers).toBeLessThan(rounds / 4);
    }
  });

  test('v11: the line transfers grow with the number of speculative faults', () => {
    const t20 = lockstep('dufour-v11', 20, 1);
    const t40 = lockstep('dufour-v11', 40, 1);
    const c20 = lockstep('dufour-v11', 20, 0);
    const c40 = lockstep('dufour-v11', 40, 0);
    expect(total(t40.r, EV.SPF) - total(t20.r, EV.SPF)).toBe(20);
    expect((t40.transfers - c40.transfers) - (t20.transfers - c20.transfers)).toBeGreaterThanOrEqual(20);
  });

  test('v11: with nobody taking the mmap lock, the faults only read the line: it does not keep moving', () => {
    // Each worker CPU fetches the line once and then hits its shared copy.
    const t20 = lockstep('dufour-v11', 20, 1, 0);
    const t40 = lockstep('dufour-v11', 40, 1, 0);
    expect(total(t40.r, EV.SPF)).toBe(40);
    expect(t40.transfers).toBe(t20.transfers);
    expect(t40.transfers).toBeLessThan(4);
  });

  test('base: the same faults take the mmap lock for reading (the contrast)', () => {
    const faulting = lockstep('base', 20, 1);
    const idle = lockstep('base', 20, 0);
    expect(total(faulting.r, EV.SPF)).toBe(0);
    expect(faulting.acquired - idle.acquired).toBe(20);
  });
});
