/**
 * khugepaged (src/mm/khugepaged.ts): a kernel thread that collapses PTE-mapped ranges of
 * MADV_HUGEPAGE regions into huge pages while the workload keeps faulting, and what the
 * page-fault designs see of the collapse (Dufour: pagefault:spf_pmd_changed; per-VMA locks:
 * the VMA write lock).
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import type { Thread } from '../../src/mm/kernel.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_WRITE } from '../../src/mm/types.js';
import type { RunResult } from '../../src/sim/run.js';
import { faults, MiB, MM_EVENTS, PAGE, proc, runMm, tableAt, TimelineSink, total, totals, type MmRunOptions } from './helpers.js';
import { SpfSink } from './spf/helpers.js';

const PMD = 2 * MiB;
const KH = { sleepMs: 1, pages: 4096 } as const;

/**
 * A 32 MiB MADV_HUGEPAGE region whose 16 PMDs each got a PTE table first (one small page
 * written per 2 MiB before the advice), so every later fault in it is a small-page fault. Four
 * threads wait `delayUs`, then write every page, interleaved page by page; khugepaged wakes at
 * 1 ms and collapses 8 PMDs per pass (pages_to_scan 4096).
 */
function collapseWhileFaulting(delayUs: number): string {
  return proc(
    'a = mmap 32M',
    'touch a write stride 2M',
    'madvise a hugepage',
    'threads 4 {',
    `  compute ${delayUs}us`,
    '  touch a write offset $tid * 4K stride 16K',
    '}',
  );
}

function run(source: string, o: MmRunOptions & { kh?: boolean } = {}): RunResult {
  return runMm(source, { ncpus: 8, thp: 'madvise', khugepaged: o.kh === false ? undefined : KH, ...o });
}

/** The 2 MiB chunks of the main thread's first VMA: which are huge at the end of the run. */
function hugeChunks(th: Thread): boolean[] {
  const v = th.mm.vmas.all()[0]!;
  const out: boolean[] = [];
  for (let a = v.start; a < v.end; a += PMD) out.push(tableAt(th, a)?.huge === true);
  return out;
}

describe('khugepaged collapses while the workload faults', () => {
  test('classic kernel: ranges are collapsed, faults go on in the rest of the region', () => {
    const tl = new TimelineSink([EV.PAGE_FAULTS, EV.THP_COLLAPSE_ALLOC]);
    const r = run(collapseWhileFaulting(900), { sinks: [tl] });
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    const collapsed = total(r, EV.THP_COLLAPSE_ALLOC);
    expect(collapsed, msg).toBeGreaterThan(0);
    expect(collapsed).toBeLessThanOrEqual(16);
    expect(total(r, EV.THP_COLLAPSE_ALLOC_FAILED)).toBe(0);
    // Every PMD had a PTE table: no fault ever allocated a huge page.
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
    // Faults continue after the first collapse (in the ranges not collapsed yet, or not at all).
    const first = Math.min(...tl.times(EV.THP_COLLAPSE_ALLOC));
    expect(first).toBeGreaterThan(1_000_000);
    const after = tl.times(EV.PAGE_FAULTS).filter((t) => t > first).length;
    expect(after, msg).toBeGreaterThan(1000);
    // A collapsed range needs no more faults: fewer than one per page in total.
    expect(total(r, EV.PAGE_FAULTS)).toBeLessThan(8192);
    // The collapsed ranges' PMDs are huge: 512 distinct writable frames each; everything else
    // is PTE-mapped, and every page of the region is present.
    const main = tl.threads()[0]!;
    const huge = hugeChunks(main);
    expect(huge.filter(Boolean)).toHaveLength(collapsed);
    const v = main.mm.vmas.all()[0]!;
    for (let i = 0; i < huge.length; i++) {
      const pt = tableAt(main, v.start + i * PMD)!;
      if (!huge[i]) {
        expect(pt.used).toBe(512);
        continue;
      }
      const pfns = new Set<number>();
      for (let j = 0; j < pt.ptes.length; j++) {
        expect(pt.ptes[j]! & (PTE_PRESENT | PTE_WRITE)).toBe(PTE_PRESENT | PTE_WRITE);
        pfns.add(pt.ptes[j]! >>> PTE_SHIFT);
      }
      expect(pfns.size).toBe(512);
    }
    expect(main.mm.rss).toBe(8192);
  });

  test('the same workload without khugepaged: no collapse, one fault per page', () => {
    const r = run(collapseWhileFaulting(900), { kh: false });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(0);
    // The 16 priming writes, then every other page of the 32 MiB once.
    expect(total(r, EV.PAGE_FAULTS)).toBe(16 + (8192 - 16));
  });

  test('a collapse frees the small pages it copied; everything is freed at exit', () => {
    const r = run(collapseWhileFaulting(900), { keep: false });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBeGreaterThan(0);
    expect(faults(r).free, JSON.stringify(totals(r, MM_EVENTS))).toBe(faults(r).alloc);
  });

  test('one thread: a half-written range is collapsed, its other half then needs no fault', () => {
    const tl = new TimelineSink([EV.PAGE_FAULTS]);
    const r = runMm(proc('a = mmap 2M', 'touch a write length 1M', 'madvise a hugepage', 'sleep 2ms', 'touch a write count w'), {
      thp: 'madvise', khugepaged: KH, ncpus: 2, sinks: [tl],
    });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(1);
    expect(r.counters.get('w')).toBe(512);
    expect(total(r, EV.PAGE_FAULTS)).toBe(256);
    const th = tl.threads()[0]!;
    expect(hugeChunks(th)).toEqual([true]);
    // 256 small pages freed; rss counts the whole huge page.
    expect(faults(r).free).toBe(256);
    expect(th.mm.rss).toBe(512);
  });

  test.each([
    ['thp=never', { thp: 'never' as const }, 'madvise a hugepage'],
    ['thp=madvise without the advice', { thp: 'madvise' as const }, 'count x 0'],
  ])('no collapse under %s', (_name, o, advice) => {
    const r = runMm(proc('a = mmap 2M', 'touch a write length 1M', advice, 'sleep 2ms', 'touch a write'), { ...o, khugepaged: KH, ncpus: 2 });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(0);
    expect(total(r, EV.PAGE_FAULTS)).toBe(512);
  });

  test('thp=always: a PTE-mapped range is collapsed unless it is MADV_NOHUGEPAGE', () => {
    // Under thp=always the first write to an empty PMD is already a huge fault: keep the range
    // MADV_NOHUGEPAGE while it gets its PTE table.
    const src = (advice: string) => proc('a = mmap 2M', 'madvise a nohugepage', 'touch a write length 4K', advice, 'sleep 2ms');
    const r = runMm(src('madvise a hugepage'), { thp: 'always', khugepaged: KH, ncpus: 2 });
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(1);
    const r2 = runMm(src('count x 0'), { thp: 'always', khugepaged: KH, ncpus: 2 });
    expect(total(r2, EV.THP_COLLAPSE_ALLOC)).toBe(0);
  });
});

describe('the page-fault designs during a collapse', () => {
  test('dufour-v11: a speculative fault that walked to the old PTE table aborts with spf_pmd_changed', () => {
    // The fault walks to the PTE table, then clears its new page (~200 ns) before pte_map_lock():
    // a collapse that clears the PMD in that window makes pte_map_lock's PMD check fail. The
    // threads start faulting around khugepaged's first wake-up; sweep the start a little.
    let hits = 0;
    for (const delay of [900, 950, 1000]) {
      const spf = new SpfSink();
      const tl = new TimelineSink([EV.THP_COLLAPSE_ALLOC]);
      const r = run(collapseWhileFaulting(delay), { design: 'dufour-v11', sinks: [spf, tl] });
      expect(r.signals).toEqual([]);
      expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBeGreaterThan(0);
      const changed = spf.of(EV.SPF_PMD_CHANGED);
      expect(changed.length).toBe(total(r, EV.SPF_PMD_CHANGED));
      hits += changed.length;
      const main = tl.threads()[0]!;
      const v = main.mm.vmas.all()[0]!;
      const huge = hugeChunks(main);
      for (const s of changed) {
        expect(s.site).toBe('pte_map_lock+0x8e');
        expect(s.vmStart).toBe(v.start);
        expect(s.vmEnd).toBe(v.end);
        // The fault was in a range that khugepaged collapsed.
        expect(huge[Math.floor((s.address - v.start) / PMD)], `0x${s.address.toString(16)}`).toBe(true);
      }
      // The aborted faults completed on the mmap-lock path: the whole region is mapped.
      for (let a = v.start; a < v.end; a += 64 * PAGE) expect(tableAt(main, a)!.ptes[0]! & PTE_PRESENT).toBe(PTE_PRESENT);
      // Without khugepaged nothing changes a PMD.
      const quiet = run(collapseWhileFaulting(delay), { design: 'dufour-v11', kh: false });
      expect(total(quiet, EV.SPF_PMD_CHANGED)).toBe(0);
    }
    expect(hits).toBeGreaterThan(0);
  });

  test('per-vma-lock: faults that meet the collapse\'s VMA write lock count vma_lock_abort', () => {
    const quiet = run(collapseWhileFaulting(900), { design: 'per-vma-lock', kh: false });
    // Without khugepaged only the main thread's first write (the anon_vma) aborts.
    expect(total(quiet, EV.VMA_LOCK_ABORT)).toBe(1);
    const r = run(collapseWhileFaulting(900), { design: 'per-vma-lock' });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBeGreaterThan(0);
    expect(total(r, EV.VMA_LOCK_ABORT), JSON.stringify(totals(r, [EV.VMA_LOCK_ABORT, EV.VMA_LOCK_SUCCESS, EV.VMA_LOCK_MISS]))).toBeGreaterThan(1);
    expect(total(r, EV.SPF)).toBe(0);
  });

  // Regression test for a fixed model bug; it was: collapseHugePage() calls k.spf.collapseBegin(kth, vma) with khugepaged's own
  // Thread, and PerVmaLockStrategy.vmaWriteBegin() takes mm_lock_seq from th.mm, i.e. from
  // khugepaged's pseudo-process, not from the mm being collapsed (vma_start_write() uses
  // vma->vm_mm). The VMA is marked with the wrong sequence: lock_vma_under_rcu() in the
  // workload's threads still read-locks it during the collapse, and from the second collapse on
  // vmaWriteBegin() returns at once (vm_lock_seq already equals khugepaged's unchanging seq)
  // without waiting for in-flight faults. Faults then run under the VMA lock while the PMD is
  // none, allocate a huge page there (thp_fault_alloc), and khugepaged's set_pmd_at overwrites
  // it: the fault's huge page and deposited table are leaked (pgfree < pgalloc after exit_mmap)
  // and the writes made to it are lost. Only the first collapse's vma_start_write (its down_write
  // making concurrent trylocks fail) produces the vma_lock_abort counts the test above sees.
  test('per-vma-lock: no fault completes under the VMA lock during a collapse; nothing leaks', () => {
    const r = run(collapseWhileFaulting(900), { design: 'per-vma-lock', keep: false });
    const msg = JSON.stringify(totals(r, [...MM_EVENTS, EV.VMA_LOCK_ABORT, EV.VMA_LOCK_SUCCESS]));
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBeGreaterThan(0);
    // Every PMD of the region has a PTE table or is being collapsed under the VMA write lock:
    // no fault can find it none.
    expect(total(r, EV.THP_FAULT_ALLOC), msg).toBe(0);
    expect(faults(r).free, msg).toBe(faults(r).alloc);
  });
});

describe('khugepaged scanning and what it collapses', () => {
  // Regression test for a fixed model bug; it was: khugepaged() / scanMm() keep no scan cursor (the kernel's khugepaged_scan.mm_slot
  // and .address). Every wake-up restarts at the first VMA of the first process and charges
  // pages_to_scan for PMDs it already collapsed, so only the first pages_to_scan / 512 PMDs of
  // the first mm are ever collapsed. Here 16 eligible PMDs, pages_to_scan 4096 (8 PMDs), ten
  // wake-ups: the kernel collapses all 16 by the second pass; the model stops at 8.
  test('successive passes continue where the last one stopped: all 16 PMDs collapsed in 10 ms', () => {
    const tl = new TimelineSink([]);
    const r = runMm(proc('a = mmap 32M', 'touch a write', 'madvise a hugepage', 'sleep 10ms'), { thp: 'madvise', khugepaged: KH, ncpus: 2, sinks: [tl] });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(16);
    expect(hugeChunks(tl.threads()[0]!).every(Boolean)).toBe(true);
  });

  test('one pass collapses pages_to_scan / 512 PMDs', () => {
    const r = runMm(proc('a = mmap 32M', 'touch a write', 'madvise a hugepage', 'sleep 1500us'), { thp: 'madvise', khugepaged: KH, ncpus: 2 });
    expect(total(r, EV.THP_COLLAPSE_ALLOC)).toBe(8);
    const r2 = runMm(proc('a = mmap 32M', 'touch a write', 'madvise a hugepage', 'sleep 1500us'), { thp: 'madvise', khugepaged: { sleepMs: 1, pages: 2048 }, ncpus: 2 });
    expect(total(r2, EV.THP_COLLAPSE_ALLOC)).toBe(4);
  });

  // Regression test for a fixed model bug; it was: collapseHugePage() treats every non-present PTE as pte_none: a swap entry is
  // cleared without swap_free()/free_swap_and_cache(), and the subpage is zero-filled. The
  // kernel swaps such pages in first (__collapse_huge_page_swapin, up to max_ptes_swap = 64) or
  // gives up the collapse. Here 16 pages paged out and still in the swap cache: after the
  // collapse their swap slots stay referenced and the 16 swap-cache pages are never freed
  // (pgfree = pgalloc - 16 after exit_mmap), and their contents are gone (the collapsed page
  // has zeroes there; no pswpin ever happens).
  test('a collapse over swapped-out pages swaps them in (or skips the range); nothing leaks', () => {
    const tl = new TimelineSink([]);
    const r = runMm(proc('a = mmap 2M', 'touch a write', 'madvise a pageout length 64K', 'madvise a hugepage', 'sleep 2ms', 'touch a read length 64K'), {
      thp: 'madvise', khugepaged: KH, ncpus: 2, keep: false, sinks: [tl],
    });
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(total(r, EV.PSWPOUT)).toBe(16);
    expect(faults(r).free, msg).toBe(faults(r).alloc);
    const k = tl.threads()[0]!.k;
    expect(k.swap.refs.size).toBe(0);
    expect(k.swap.cache.size).toBe(0);
  });
});
