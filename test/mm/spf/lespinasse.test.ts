/**
 * Michel Lespinasse's speculative page faults (src/mm/spf/lespinasse.ts): the spf_attempt /
 * spf_abort accounting and one test per SPF_ABORT_* reason the model can produce, each from a
 * small workload running on the engine.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../../src/events/catalog.js';
import type { RunResult } from '../../../src/sim/run.js';
import { SIGSEGV } from '../../../src/mm/types.js';
import { proc, lespinasseAbortReasons, pagefaultEvents, runDesign, tablesSpanned, total, totals, LESPINASSE_ABORTS, W, workerTotal } from './helpers.js';
import { RecordingSink } from '../../sim/helpers.js';

/**
 * Run under `lespinasse` and check the accounting that holds in every run: abort is the sum of
 * the SPF_ABORT_* reasons, spf = attempt - abort, only the threads of a multithreaded process
 * attempt, and none of the Dufour tracepoints fire.
 */
function lespinasse(source: string, ncpus: number, seed = 1, rec?: RecordingSink): RunResult {
  const r = runDesign('lespinasse', source, { ncpus, seed, sinks: rec ? [rec] : [] });
  const attempt = total(r, EV.SPF_ATTEMPT);
  const abort = total(r, EV.SPF_ABORT);
  expect(abort, JSON.stringify(totals(r, LESPINASSE_ABORTS))).toBe(lespinasseAbortReasons(r));
  expect(total(r, EV.SPF)).toBe(attempt - abort);
  // The main thread runs alone before and after its threads: it never attempts.
  expect(r.counts.of(0, EV.SPF_ATTEMPT)).toBe(0);
  expect(attempt).toBe(workerTotal(r, EV.PAGE_FAULTS));
  expect(pagefaultEvents(r)).toBe(0);
  expect(total(r, EV.SPECULATIVE_PGFAULT)).toBe(0);
  return r;
}

const reason = (r: RunResult, id: number): number => total(r, id);

/** The PTE tables the faults of a run (exceptions:page_fault_user addresses) fell in. */
function tablesFaulted(rec: RecordingSink): number {
  const addrs = rec.faults.map((f) => f.addr);
  return tablesSpanned(Math.min(...addrs), Math.max(...addrs) + 1);
}

describe('lespinasse: accounting', () => {
  test('spf_attempt, spf_abort and the reasons add up under VMA writers', () => {
    for (const w of [W.mprotectWriter(), W.mmapWriter()]) {
      const r = lespinasse(w, 4);
      expect(total(r, EV.SPF_ABORT)).toBeGreaterThan(0);
      expect(total(r, EV.SPF)).toBeGreaterThan(0);
      // Every fault ends up handled: speculatively or on the classic path (pgfault counts both).
      expect(total(r, EV.PGFAULT)).toBe(total(r, EV.PAGE_FAULTS));
      expect(r.signals).toEqual([]);
    }
  });

  test('a fault that fell back is taken once more on the mmap-lock path, and counted once', () => {
    const r = lespinasse(W.fresh(), 2);
    expect(total(r, EV.PAGE_FAULTS)).toBe(2048);
    expect(total(r, EV.MINOR_FAULTS) + total(r, EV.MAJOR_FAULTS)).toBe(2048);
    expect(total(r, EV.SPF) + total(r, EV.SPF_ABORT)).toBe(2048);
  });
});

describe('lespinasse: abort reasons', () => {
  test('SPF_ABORT_ODD: a thread doing mmap/munmap holds the mmap lock while others fault', () => {
    const r = lespinasse(W.mmapWriter(), 4);
    expect(reason(r, EV.SPF_ABORT_ODD)).toBeGreaterThan(0);
    // The control run (thread 0 only computes) has no writer, so the count is never odd.
    const c = lespinasse(W.noWriter(), 4);
    expect(reason(c, EV.SPF_ABORT_ODD)).toBe(0);
    expect(reason(c, EV.SPF_ABORT_VMA_COPY) + reason(c, EV.SPF_ABORT_PTE_MAP_LOCK_SEQ1) + reason(c, EV.SPF_ABORT_PTE_MAP_LOCK_SEQ2)).toBe(0);
  });

  // The count is per mm: any mmap-lock writer (here mprotect splitting/merging, or mmap/munmap)
  // moves it, wherever the fault is. Sum both writer workloads (7 faulting threads under the
  // mprotect writer) for each later check.
  const underWriters = (id: number): number =>
    reason(lespinasse(W.mprotectWriter(50, 8), 8), id) + reason(lespinasse(W.mmapWriter(), 4), id);

  test('SPF_ABORT_VMA_COPY: the sequence moved between the VMA lookup and the end of its copy', () => {
    expect(underWriters(EV.SPF_ABORT_VMA_COPY)).toBeGreaterThan(0);
  });

  test('SPF_ABORT_PTE_MAP_LOCK_SEQ1: the sequence moved during the fault, before the PTE lock', () => {
    expect(underWriters(EV.SPF_ABORT_PTE_MAP_LOCK_SEQ1)).toBeGreaterThan(0);
  });

  test('SPF_ABORT_PTE_MAP_LOCK_SEQ2: the sequence moved between the PTE trylock and the re-check', () => {
    expect(underWriters(EV.SPF_ABORT_PTE_MAP_LOCK_SEQ2)).toBeGreaterThan(0);
  });

  test('SPF_ABORT_ANON_VMA: the first write fault of a fresh mapping whose PTE table exists', () => {
    // `b` lies in the PTE table `a` populated but cannot merge with `a` (other protection), so
    // its first write walks fine and then needs an anon_vma: do_anonymous_page aborts.
    const src = proc('a = mmap 64K rw', 'touch a write', 'b = mmap 64K rwx', 'threads 1 {', '  touch b write', '}');
    const r = lespinasse(src, 2);
    expect(reason(r, EV.SPF_ABORT_ANON_VMA)).toBe(1);
    expect(reason(r, EV.SPF_ABORT_PMD)).toBe(0);
    expect(total(r, EV.SPF)).toBe(15);
  });

  test('the walk comes first: the first write of a fresh mapping in a fresh table aborts as PMD', () => {
    const rec = new RecordingSink();
    const r = lespinasse(W.fresh(), 2, 1, rec);
    expect(reason(r, EV.SPF_ABORT_ANON_VMA)).toBe(0);
    expect(reason(r, EV.SPF_ABORT_PMD)).toBe(tablesFaulted(rec));
    expect(total(r, EV.SPF_ABORT)).toBe(reason(r, EV.SPF_ABORT_PMD));
  });

  test('SPF_ABORT_PMD: the PTE table does not exist yet (no page table is allocated speculatively)', () => {
    const rec = new RecordingSink();
    const r = lespinasse(W.preparedNoTables(), 2, 1, rec);
    // One abort per PTE table but the prepared one.
    const tables = tablesFaulted(rec);
    expect(tables).toBeGreaterThan(1);
    expect(reason(r, EV.SPF_ABORT_PMD)).toBe(tables - 1);
    expect(reason(r, EV.SPF_ABORT_ANON_VMA)).toBe(0);
    expect(total(r, EV.SPF_ABORT)).toBe(tables - 1);
    expect(total(r, EV.SPF)).toBe(2047 - (tables - 1));
  });

  test('SPF_ABORT_PTE_MAP_LOCK_PTL: threads faulting pages of the same PTE table (trylock, no retry)', () => {
    const r = lespinasse(W.samePteTable(8), 8);
    const ptl = reason(r, EV.SPF_ABORT_PTE_MAP_LOCK_PTL);
    expect(ptl).toBeGreaterThan(0);
    expect(total(r, EV.SPF_ABORT)).toBe(ptl);
    // One thread alone never finds the lock busy.
    const alone = lespinasse(W.samePteTable(1), 2);
    expect(reason(alone, EV.SPF_ABORT_PTE_MAP_LOCK_PTL)).toBe(0);
    expect(total(alone, EV.SPF_ABORT)).toBe(0);
  });

  test('SPF_ABORT_ACCESS_ERROR: a write to a read-only mapping falls back; the classic path raises SIGSEGV', () => {
    for (const w of [W.writeReadOnly(), W.writeReadOnlyFresh()]) {
      const r = lespinasse(w, 2);
      expect(reason(r, EV.SPF_ABORT_ACCESS_ERROR)).toBe(1);
      expect(total(r, EV.SPF_ABORT)).toBe(1);
      expect(total(r, EV.SPF)).toBe(0);
      expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
      // The classic path's message (access_error under the mmap lock), not a speculative result.
      expect(r.signals[0].detail).toMatch(/^write to [0-9a-f]+-[0-9a-f]+ r--p at 0x/);
    }
  });

  test('SPF_ABORT_NO_SPECULATE: file-backed and shmem VMAs (anonymous VMAs only in v1/v2)', () => {
    const r = lespinasse(W.fileBacked(), 2);
    expect(reason(r, EV.SPF_ABORT_NO_SPECULATE)).toBe(total(r, EV.SPF_ATTEMPT));
    expect(reason(r, EV.SPF_ABORT_NO_SPECULATE)).toBeGreaterThan(0);
    expect(total(r, EV.SPF)).toBe(0);
    expect(r.signals).toEqual([]);
  });

  test('SPF_ABORT_UNMAPPED: no VMA at the address (a write after munmap); the classic path raises SIGSEGV', () => {
    const r = lespinasse(W.useAfterMunmap(), 2);
    expect(reason(r, EV.SPF_ABORT_UNMAPPED)).toBe(1);
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0].detail).toMatch(/^no mapping at 0x/);
  });
});

describe('lespinasse: anon_vma is needed only to allocate a private page', () => {
  // In v2 (patch 18/35, counted in 31/35) SPF_ABORT_ANON_VMA is counted in do_anonymous_page()
  // only on the path that allocates a private page (and in wp_page_copy()); a read fault maps
  // the zero page speculatively without an anon_vma, and the page-table walk comes before.
  test('(the reproduction runs: 16 read faults of a never-written mapping)', () => {
    const r = runDesign('base', W.freshRead(), { ncpus: 2 });
    expect(total(r, EV.PAGE_FAULTS)).toBe(16);
    expect(r.signals).toEqual([]);
  });

  test('read faults of a never-written mapping complete speculatively (zero page, no anon_vma needed)', () => {
    const r = lespinasse(W.freshRead(), 2);
    expect(reason(r, EV.SPF_ABORT_ANON_VMA)).toBe(0);
    expect(total(r, EV.SPF)).toBeGreaterThan(0);
  });
});
