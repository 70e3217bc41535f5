/**
 * fork(2) and copy-on-write (dupMmap in src/mm/fork.ts, do_wp_page in src/mm/fault.ts): what
 * the counters say about the copies, and the page tables of parent and child inspected after
 * the run.
 */
import { describe, expect, test } from 'vitest';
import { ViolationError } from '../../src/check/violation.js';
import { runWorkload } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { EV } from '../../src/events/catalog.js';
import { PG_ANON } from '../../src/mm/page.js';
import { PTE_PRESENT, PTE_WRITE, ZERO_PFN } from '../../src/mm/types.js';
import { faults, MiB, MM_EVENTS, PAGE, pfnAt, proc, processMains, pte, RecordingSink, runMm, totals } from './helpers.js';

const PAGES = MiB / PAGE; // 256

/** The parent writes 1 MiB, forks a child that runs `child`, then runs `after`. */
function forkSource(child: string[], after: string[] = []): string {
  return proc('a = mmap 1M', 'touch a write count w', 'fork {', ...child.map((l) => `  ${l}`), '}', ...after);
}

/** Run with a recording sink; return the run and the parent's and child's main threads. */
function inspect(child: string[], after: string[] = [], keep = true) {
  const sink = new RecordingSink();
  const r = runMm(forkSource(child, after), { sinks: [sink], keep });
  const [parent, kid] = processMains(sink);
  return { r, parent: parent!, kid, sink };
}

/** The region's addresses, from the parent's fault addresses (its first pass touched each page once). */
function regionAddrs(sink: RecordingSink, parentTid: number): number[] {
  return sink.faults.filter((f) => f.tid === parentTid).slice(0, PAGES).map((f) => f.addr);
}

describe('fork: copy-on-write', () => {
  test('a fork with an idle child allocates only the child\'s page tables and shares every page', () => {
    const alone = runMm(proc('a = mmap 1M', 'touch a write'));
    const { r, parent } = inspect([]);
    expect(r.signals).toEqual([]);
    // copy_page_range(): the child gets its own pud, pmd and PTE table (3 pages), no data pages.
    expect(faults(r).alloc - faults(alone).alloc).toBe(3);
    expect(faults(r).pf).toBe(PAGES);
    // The parent's PTEs were write-protected (the child's mm still holds the pages).
    const a0 = parent.mm.vmas.all()[0]!.start;
    for (let a = a0; a < a0 + MiB; a += PAGE) {
      expect(pte(parent, a) & PTE_PRESENT).toBe(PTE_PRESENT);
      expect(pte(parent, a) & PTE_WRITE).toBe(0);
      const pfn = pfnAt(parent, a);
      expect(parent.k.pages.refcount[pfn]).toBe(2);
      expect(parent.k.pages.mapcount[pfn]).toBe(2);
    }
  });

  test('the child reads the parent\'s pages without faults (the PTEs were copied)', () => {
    const { r } = inspect(['touch a read count rd']);
    expect(r.counters.get('rd')).toBe(PAGES);
    expect(faults(r).pf).toBe(PAGES); // the parent's first pass only
    expect(r.counts.of(1, EV.PAGE_FAULTS)).toBe(0);
  });

  test('the child writing every page: one fault and one new page per page written', () => {
    const idle = inspect([]);
    const { r, parent, kid, sink } = inspect(['touch a write']);
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    expect(kid, 'the child ran').toBeDefined();
    // pgalloc grows by the pages the child wrote (wp_page_copy), nothing else.
    expect(faults(r).alloc - faults(idle.r).alloc, msg).toBe(PAGES);
    // faults = pages written, by each side.
    expect(r.counts.of(parent.idx, EV.PAGE_FAULTS)).toBe(PAGES);
    expect(r.counts.of(kid!.idx, EV.PAGE_FAULTS)).toBe(PAGES);
    expect(faults(r).minor).toBe(2 * PAGES);
    // Parent and child map different pages at every address: the child's are new, writable,
    // its own; the parent's are the originals (read-only still, now mapped only by it).
    const childPfns = new Set<number>();
    for (const a of regionAddrs(sink, parent.tid)) {
      const pp = pfnAt(parent, a);
      const cp = pfnAt(kid!, a);
      expect(pp).toBeGreaterThan(ZERO_PFN);
      expect(cp).toBeGreaterThan(ZERO_PFN);
      expect(cp).not.toBe(pp);
      expect(pte(kid!, a) & PTE_WRITE).toBe(PTE_WRITE);
      expect(pte(parent, a) & PTE_WRITE).toBe(0);
      expect(parent.k.pages.refcount[pp]).toBe(1);
      expect(parent.k.pages.refcount[cp]).toBe(1);
      expect(parent.k.pages.flags[cp] & PG_ANON).toBe(PG_ANON);
      childPfns.add(cp);
    }
    expect(childPfns.size).toBe(PAGES);
    // The parent's pages are exactly those it had before the fork.
    for (const a of regionAddrs(sink, parent.tid)) expect(pfnAt(parent, a)).toBe(pfnAt(idle.parent, a));
  });

  test('the parent writing after the child exited reuses its pages: one fault per page, no allocation', () => {
    const childOnly = inspect(['touch a write']);
    const { r, parent, kid, sink } = inspect(['touch a write'], ['touch a write count w2']);
    expect(r.signals).toEqual([]);
    expect(r.counters.get('w2')).toBe(PAGES);
    // wp_page_reuse(): no page allocated, but every page took a write-protect fault.
    expect(faults(r).alloc).toBe(faults(childOnly.r).alloc);
    expect(r.counts.of(parent.idx, EV.PAGE_FAULTS)).toBe(2 * PAGES);
    expect(r.counts.of(kid!.idx, EV.PAGE_FAULTS)).toBe(PAGES);
    for (const a of regionAddrs(sink, parent.tid)) {
      expect(pfnAt(parent, a)).toBe(pfnAt(childOnly.parent, a)); // the same page, made writable
      expect(pte(parent, a) & PTE_WRITE).toBe(PTE_WRITE);
      expect(pfnAt(parent, a)).not.toBe(pfnAt(kid!, a));
    }
  });

  test('pages the child did not write are copied by the parent while the child\'s mm holds them, reused once it is gone', () => {
    // keepAddressSpaces leaves the exited child's mm in place: its half it never wrote still
    // shares the parent's pages (refcount 2), so the parent's writes there copy.
    const held = inspect(['touch a write length 512K'], ['touch a write']);
    const idle = inspect([]);
    // The child copied the 128 pages it wrote; the parent copied the 128 still shared and
    // reused the 128 the child's copies had left to it alone.
    expect(faults(held.r).alloc - faults(idle.r).alloc).toBe(PAGES / 2 + PAGES / 2);
    expect(faults(held.r).pf).toBe(PAGES + PAGES / 2 + PAGES);
    // With exit_mmap (as spfperf stat runs), the child's exit drops those references and the
    // parent reuses every page.
    const gone = inspect(['touch a write length 512K'], ['touch a write'], false);
    const idleGone = inspect([], [], false);
    expect(faults(gone.r).alloc - faults(idleGone.r).alloc).toBe(PAGES / 2);
    expect(faults(gone.r).pf).toBe(PAGES + PAGES / 2 + PAGES);
  });

  test('everything is freed at exit: pgfree = pgalloc without keepAddressSpaces', () => {
    for (const [child, after] of [[[], []], [['touch a write'], []], [['touch a write'], ['touch a write']], [['touch a read', 'touch a write length 256K'], ['touch a read']]] as const) {
      const { r } = inspect([...child], [...after], false);
      expect(r.signals).toEqual([]);
      expect(faults(r).free, JSON.stringify({ child, after, ...totals(r, MM_EVENTS) })).toBe(faults(r).alloc);
    }
  });

  test('fork 3: each child copies only what it writes', () => {
    const r = runMm(proc('a = mmap 1M', 'touch a write', 'fork 3 {', '  touch a write length 64K', '}'), { keep: false });
    const one = runMm(proc('a = mmap 1M', 'touch a write', 'fork 3 {', '}'), { keep: false });
    expect(faults(r).alloc - faults(one).alloc).toBe(3 * 16);
    expect(faults(r).pf).toBe(PAGES + 3 * 16);
    expect(faults(r).free).toBe(faults(r).alloc);
  });
});

/**
 * TLB contents under fork (src/mm/tlb.ts tlbStaleWrite, with page contents kept): dup_mmap()
 * write-protects the parent's PTEs and flushes once at the end, so until then a CPU that wrote a
 * page keeps writing it without a fault. fork-cow in the engine's plain order, 4 CPUs: with the
 * parent's VMAs write-locked (the real design since 6.4's fix) every read-back sees its write;
 * without (the test-only mutant), a copy-on-write fault copies a page during the fork, another
 * thread's write then lands in the old page, and its read-back sees the copy without it (with
 * 16 pages; with the default 8 the plain order happens to miss the window, which `check` finds).
 */
describe('fork and stale TLB entries', () => {
  const runForkCow = (mutant: boolean): unknown => {
    const p = prepareRun('fork-cow', ['pages=16'], { cpus: '4', config: ['per-vma-lock'], check: true });
    try {
      runWorkload({ ...runOptionsOf(p), ...(mutant ? { mutant: 'per-vma-lock-no-fork-vma-lock' as const } : {}) });
      return null;
    } catch (e) {
      return e;
    }
  };

  test('the real dup_mmap(): every write is read back', () => {
    expect(runForkCow(false)).toBeNull();
  });

  test('without the VMA write locks a write through a stale entry is lost to the copy', () => {
    const e = runForkCow(true);
    expect(e).toBeInstanceOf(ViolationError);
    expect((e as ViolationError).violation).toMatchObject({ invariant: 'read-sees-last-write', fn: 'wp_page_copy' });
  });
});
