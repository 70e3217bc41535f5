/**
 * Swap (src/mm/swap.ts and do_swap_page, also in src/mm/swap.ts): MADV_PAGEOUT to the swap cache,
 * swap-cache hits (minor faults) and swap-ins from storage (major faults with a retry), the
 * designs' handling of swap entries, and swap entries shared by fork.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { isSwapEntry } from '../../src/mm/swap.js';
import { PTE_PRESENT, PTE_WRITE } from '../../src/mm/types.js';
import { faults, mainThread, MiB, MM_EVENTS, PAGE, pfnAt, proc, processMains, pte, RecordingSink, runMm, total, totals, type MmRunOptions } from './helpers.js';

const PAGES = MiB / PAGE; // 256

/** Write 1 MiB, page it out, then `then`. */
function pagedOut(...then: string[]): string {
  return proc('a = mmap 1M', 'touch a write', 'madvise a pageout', ...then);
}

/** ... and free the swap cache: a second pageout after the writeback completed. */
function swappedOut(...then: string[]): string {
  return pagedOut('sleep 1ms', 'madvise a pageout', ...then);
}

function inspect(source: string, o: MmRunOptions = {}) {
  const sink = new RecordingSink();
  const r = runMm(source, { ...o, sinks: [sink] });
  return { r, sink, th: mainThread(sink) };
}

/** The region's addresses (the first write pass faulted once per page, in order). */
function addrs(sink: RecordingSink): number[] {
  return sink.faults.slice(0, PAGES).map((f) => f.addr);
}

describe('MADV_PAGEOUT', () => {
  test('every exclusive page goes to swap: pswpout = pages, swap entries in the PTEs, RSS 0', () => {
    const { r, th, sink } = inspect(pagedOut());
    expect(total(r, EV.PSWPOUT)).toBe(PAGES);
    expect(total(r, EV.PSWPIN)).toBe(0);
    for (const a of addrs(sink)) {
      expect(isSwapEntry(pte(th, a)), `0x${a.toString(16)}`).toBe(true);
      expect(pte(th, a) & PTE_PRESENT).toBe(0);
    }
    expect(th.mm.rss).toBe(0);
    // The pages stay in the swap cache (their writeback is under way): nothing is freed yet.
    expect(faults(r).free).toBe(0);
    expect(th.k.swap.cache.size).toBe(PAGES);
  });

  test('pages shared with a forked child are not paged out', () => {
    const r = runMm(proc('a = mmap 1M', 'touch a write', 'fork {', '  madvise a pageout', '}', 'madvise a pageout'));
    expect(total(r, EV.PSWPOUT)).toBe(0);
  });

  test('the zero page is not paged out', () => {
    const r = runMm(proc('a = mmap 1M', 'touch a read', 'madvise a pageout'));
    expect(total(r, EV.PSWPOUT)).toBe(0);
  });
});

describe('faults on swap entries', () => {
  test('swap-cache hits are minor faults: the same pages come back, no I/O, no allocation', () => {
    const before = inspect(proc('a = mmap 1M', 'touch a write'));
    const { r, th, sink } = inspect(pagedOut('touch a write'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(total(r, EV.PSWPOUT)).toBe(PAGES);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(2 * PAGES);
    expect(total(r, EV.MINOR_FAULTS)).toBe(2 * PAGES);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(0);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
    expect(total(r, EV.PSWPIN)).toBe(0);
    expect(total(r, EV.PGFAULT)).toBe(2 * PAGES);
    expect(faults(r).alloc).toBe(faults(before.r).alloc);
    for (const a of addrs(sink)) {
      expect(pfnAt(th, a)).toBe(pfnAt(before.th, a));
      expect(pte(th, a) & PTE_WRITE).toBe(PTE_WRITE);
    }
    // Mapped again, the pages left the swap cache and their slots were freed.
    expect(th.k.swap.cache.size).toBe(0);
    expect(th.k.swap.refs.size).toBe(0);
    expect(th.mm.rss).toBe(PAGES);
  });

  test('a read of a swap-cache page maps it too (minor fault)', () => {
    const r = runMm(pagedOut('touch a read'));
    expect(total(r, EV.MINOR_FAULTS)).toBe(2 * PAGES);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
  });

  test('a second pageout before the writeback completes frees nothing: the next touch still hits the cache', () => {
    const r = runMm(pagedOut('madvise a pageout', 'touch a write'));
    expect(faults(r).free).toBe(0);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
    expect(total(r, EV.PSWPOUT)).toBe(PAGES);
  });

  test('a second pageout after `sleep 1ms` frees the cached pages; the next touch takes major faults', () => {
    const { r, th } = inspect(swappedOut('touch a write'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    const alone = runMm(swappedOut());
    // The second pass freed the 256 cached pages.
    expect(faults(alone).free, msg).toBe(PAGES);
    expect(total(r, EV.PGMAJFAULT), msg).toBe(PAGES);
    expect(total(r, EV.PSWPIN)).toBe(PAGES);
    expect(total(r, EV.PSWPOUT)).toBe(PAGES);
    expect(total(r, EV.PAGE_FAULTS)).toBe(2 * PAGES);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.MINOR_FAULTS)).toBe(PAGES);
    // Each swap-in dropped the mmap lock for the I/O and retried: two passes of handle_mm_fault.
    expect(total(r, EV.PGFAULT)).toBe(PAGES + 2 * PAGES);
    // A new page per swap-in.
    expect(faults(r).alloc - faults(alone).alloc).toBe(PAGES);
    // The storage latency is in the elapsed time (x86-vm16: 100 us per read).
    expect(r.elapsedNs).toBeGreaterThan(PAGES * 100_000);
    expect(th.mm.rss).toBe(PAGES);
    expect(th.k.swap.refs.size).toBe(0);
  });

  test('everything is freed at exit: cached pages, swapped-in pages and swap slots', () => {
    for (const src of [pagedOut(), swappedOut(), swappedOut('touch a read length 512K'), pagedOut('touch a write length 4K')]) {
      const { r, th } = inspect(src, { keep: false });
      expect(faults(r).free, JSON.stringify(totals(r, MM_EVENTS))).toBe(faults(r).alloc);
      expect(th.k.swap.refs.size).toBe(0);
      expect(th.k.swap.cache.size).toBe(0);
    }
  });
});

describe('swap entries and the page-fault designs', () => {
  test('per-vma-lock: every swap-in is retried on the mmap-lock path (vma_lock_retry), hits and misses alike', () => {
    const hit = runMm(pagedOut('touch a write'), { design: 'per-vma-lock' });
    expect(total(hit, EV.VMA_LOCK_RETRY)).toBe(PAGES);
    expect(total(hit, EV.PGMAJFAULT)).toBe(0);
    expect(total(hit, EV.MINOR_FAULTS)).toBe(2 * PAGES);
    // pgfault: the first pass (1 abort + 255 under the VMA lock), then VMA lock + mmap lock per swap fault.
    expect(total(hit, EV.PGFAULT)).toBe(PAGES + 2 * PAGES);
    const miss = runMm(swappedOut('touch a write'), { design: 'per-vma-lock' });
    expect(total(miss, EV.VMA_LOCK_RETRY)).toBe(PAGES);
    expect(total(miss, EV.PGMAJFAULT)).toBe(PAGES);
    expect(total(miss, EV.PSWPIN)).toBe(PAGES);
    expect(total(miss, EV.PGFAULT)).toBe(PAGES + 3 * PAGES);
  });

  test('lespinasse: swap faults are not speculated (SPF_ABORT_SWAP) and complete on the mmap-lock path', () => {
    const r = runMm(pagedOut('threads 1 {', '  touch a write', '}'), { design: 'lespinasse', ncpus: 2 });
    expect(r.signals).toEqual([]);
    expect(total(r, EV.SPF_ABORT_SWAP)).toBe(PAGES);
    expect(total(r, EV.SPF_ABORT)).toBe(PAGES);
    expect(total(r, EV.SPF)).toBe(0);
    expect(total(r, EV.MINOR_FAULTS)).toBe(2 * PAGES);
  });

  test('dufour-v11: swap faults fall back to the mmap lock', () => {
    const r = runMm(pagedOut('threads 1 {', '  touch a write', '}'), { design: 'dufour-v11', ncpus: 2 });
    expect(total(r, EV.SPF)).toBe(0);
    expect(total(r, EV.SPECULATIVE_PGFAULT)).toBe(0);
    expect(total(r, EV.MINOR_FAULTS)).toBe(2 * PAGES);
  });
});

describe('fork shares swap entries', () => {
  test('the child inherits the swap entries and can swap the pages in', () => {
    const sink = new RecordingSink();
    const r = runMm(swappedOut('fork {', '  touch a read count rd', '}'), { sinks: [sink] });
    const [parent, kid] = processMains(sink);
    expect(r.signals).toEqual([]);
    expect(r.counters.get('rd')).toBe(PAGES);
    expect(r.counts.of(kid!.idx, EV.PGMAJFAULT)).toBe(PAGES);
    expect(r.counts.of(kid!.idx, EV.MAJOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.PSWPIN)).toBe(PAGES);
    for (const a of addrs(sink)) {
      expect(pfnAt(kid!, a)).toBeGreaterThan(0);
      // The parent's entry still refers to the slot.
      expect(isSwapEntry(pte(parent!, a))).toBe(true);
    }
    // Both entries held the slot; the child's swap-in dropped one reference.
    expect(parent!.k.swap.refs.size).toBe(PAGES);
  });

  test('parent and child both swapping in: everything is freed at exit', () => {
    const r = runMm(swappedOut('fork {', '  touch a read', '}', 'touch a write'), { keep: false });
    expect(r.signals).toEqual([]);
    expect(faults(r).free, JSON.stringify(totals(r, MM_EVENTS))).toBe(faults(r).alloc);
  });

  // Regression test for a fixed model bug; it was: do_swap_page() (src/mm/swap.ts doSwapPage) always deletes the page from the swap
  // cache once it maps it ("it is exclusive"), even when another process's swap entry still
  // refers to the slot after fork. The kernel keeps the page in the swap cache while the slot's
  // swap count is not zero (try_to_free_swap() / folio_free_swap() refuse), so the sibling's
  // fault is a swap-cache hit on the same page (a minor fault, no I/O). In the model the parent
  // reads the slot from storage again: 256 major faults, 256 pswpin and 256 more pages, even
  // though the pages never left memory (they were still in the swap cache at fork time).
  test('after fork a page swapped in by the child stays in the swap cache for the parent', () => {
    const r = runMm(pagedOut('fork {', '  touch a read', '}', 'touch a read'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(total(r, EV.PSWPIN), msg).toBe(0);
    expect(total(r, EV.PGMAJFAULT), msg).toBe(0);
    expect(total(r, EV.MINOR_FAULTS), msg).toBe(3 * PAGES);
  });
});
