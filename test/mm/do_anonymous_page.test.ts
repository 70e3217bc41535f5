/**
 * do_anonymous_page() (src/mm/do_anonymous_page.ts), a step function: run as its generator
 * (runFrame) where the engine runs no calls (an observer that reads call chains off the JS stack:
 * lock contention), else as a frame (driven from the touch loop until it syncs, then by the engine). Small
 * anonymous-fault workloads check what each of its states must do, through what the kernel is
 * left with: the pages mapped, RSS, the LRU's pagevec drains, the allocator's counts.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import type { Kernel, MmStruct } from '../../src/mm/kernel.js';
import { Lru } from '../../src/mm/page.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, ZERO_PFN } from '../../src/mm/types.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { LockContentionSink } from '../../src/trace/lock-contention.js';
import { FaultLog } from '../helpers/fault-log.js';
import { mmOptions, PAGE, pte, proc, total } from './helpers.js';

/** How the engine runs the fault path: its generators (calls off, as under lock contention), or its frames on one CPU or on several. */
type Path = 'frame-1cpu' | 'gen-4cpu' | 'frame-4cpu';
const PATHS: readonly Path[] = ['frame-1cpu', 'gen-4cpu', 'frame-4cpu'];

interface Run {
  readonly r: RunResult;
  readonly k: Kernel;
  readonly log: number[];
}

/** Run `source` under `design` the way `path` says, keeping the kernel it leaves behind. */
function run(source: string, path: Path, design = 'base', ncpus = 4): Run {
  let k: Kernel | undefined;
  const log = new FaultLog();
  const opts = mmOptions(source, { ncpus: path === 'frame-1cpu' ? 1 : ncpus, design, sinks: [log] });
  const r = runWorkload({
    ...opts,
    // lock contention reads call chains off the stack: the engine then runs no calls.
    ...(path === 'gen-4cpu' ? { contention: new LockContentionSink() } : {}),
    testHook: (kk) => (k = kk),
  });
  // The path the test means is the one taken.
  expect(k!.eng.calls, path).toBe(path !== 'gen-4cpu');
  return { r, k: k!, log: log.faults };
}

/** The workload's process's mm (the first process). */
const mmOf = (k: Kernel): MmStruct => k.threads.find((th) => !th.kernel)!.mm;

/** RSS as the mm will have it once every thread has folded its cached delta (sync_mm_rss). */
function rss(k: Kernel, mm: MmStruct): number {
  return mm.rss + k.threads.filter((th) => th.mm === mm).reduce((s, th) => s + th.rssPending, 0);
}

/** The first process's main thread: PTEs are read through it. */
const main = (k: Kernel) => k.threads.find((th) => !th.kernel)!;

/** The pfns of the present PTEs of `pages` pages from the first VMA's start. */
function mapped(k: Kernel, start: number, pages: number): number[] {
  const th = main(k);
  const out: number[] = [];
  for (let i = 0; i < pages; i++) {
    const p = pte(th, start + i * PAGE);
    out.push(p & PTE_PRESENT ? p >>> PTE_SHIFT : -1);
  }
  return out;
}

/** The first process's VMA of `bytes` bytes (the workload's region). */
const vmaOfSize = (k: Kernel, bytes: number) => mmOf(k).vmas.all().find((v) => v.end - v.start === bytes)!;

const N = 100; // pages written: not a multiple of the RSS threshold (64) nor of PAGEVEC_SIZE (15)

describe('do_anonymous_page(): a write fault maps a fresh page', () => {
  const src = proc('a = mmap 1M', `touch a write length ${N * PAGE}`);
  const runs = PATHS.map((p) => [p, run(src, p)] as const);

  for (const [path, { r, k }] of runs) {
    test(`${path}: one minor fault per page, each a new anonymous page, writable, on the LRU, counted in RSS`, () => {
      expect(total(r, EV.PAGE_FAULTS)).toBe(N);
      expect(total(r, EV.MINOR_FAULTS)).toBe(N);
      expect(total(r, EV.PGFAULT)).toBe(N);
      const mm = mmOf(k);
      const vma = vmaOfSize(k, 1024 * 1024);
      const pfns = mapped(k, vma.start, N);
      expect(new Set(pfns).size).toBe(N);
      for (const [i, pfn] of pfns.entries()) {
        expect(pfn, `page ${i}`).toBeGreaterThan(0);
        expect(pfn).not.toBe(ZERO_PFN);
        const p = pte(main(k), vma.start + i * PAGE);
        expect(p & (PTE_WRITE | PTE_DIRTY), `page ${i}`).toBe(PTE_WRITE | PTE_DIRTY);
        // page_add_new_anon_rmap(): mapped once, one reference.
        expect(k.pages.mapcount[pfn], `page ${i}`).toBe(1);
        expect(k.pages.refcount[pfn], `page ${i}`).toBe(1);
      }
      // Nothing past the pages written.
      expect(mapped(k, vma.start + N * PAGE, 4)).toEqual([-1, -1, -1, -1]);
      // inc_mm_counter_fast(): every fault counted (and all of it in mm->rss_stat once the thread
      // has exited: sync_mm_rss()).
      expect(rss(k, mm)).toBe(N);
      expect(mm.rss).toBe(N);
      // lru_cache_add(): every page through the pagevec, drained under the lru lock every 15.
      expect(k.lru.lock.stats.acquired).toBe(Math.floor(N / Lru.PAGEVEC_SIZE));
      // Each page allocated once, none freed; the rest are page tables.
      expect(total(r, EV.PGFREE)).toBe(0);
      expect(k.alloc.inUse).toBe(total(r, EV.PGALLOC));
      expect(total(r, EV.PGALLOC) - N).toBeGreaterThanOrEqual(1);
      expect(total(r, EV.PGALLOC) - N).toBeLessThanOrEqual(4);
    });
  }

  test('the same counts and the same state, whichever way the path ran; calls on or off, the same schedule', () => {
    const [[, a], [, b], [, c]] = runs;
    for (const x of [b, c]) {
      expect(x.r.counts.snapshot()).toEqual(a.r.counts.snapshot());
      expect(rss(x.k, mmOf(x.k))).toBe(rss(a.k, mmOf(a.k)));
      expect(x.k.lru.lock.stats).toEqual(a.k.lru.lock.stats);
      expect(x.k.alloc.zoneLock.stats).toEqual(a.k.alloc.zoneLock.stats);
    }
    // Several CPUs, calls on or off: the same faults at the same times.
    expect(c.log).toEqual(b.log);
    expect(c.r.elapsedNs).toBe(b.r.elapsedNs);
  });
});

describe('do_anonymous_page(): a read fault maps the zero page', () => {
  const PAGES = 8;
  const reads = proc('a = mmap 64K', `touch a read length ${PAGES * PAGE}`);
  const readsThenWrites = proc('a = mmap 64K', `touch a read length ${PAGES * PAGE}`, `touch a write length ${PAGES * PAGE}`);

  for (const path of PATHS) {
    test(`${path}: read-only, no page allocated, RSS unchanged; a later write takes a copy-on-write fault per page`, () => {
      const ro = run(reads, path);
      expect(total(ro.r, EV.PAGE_FAULTS)).toBe(PAGES);
      expect(total(ro.r, EV.MINOR_FAULTS)).toBe(PAGES);
      const vma = vmaOfSize(ro.k, 64 * 1024);
      for (let i = 0; i < PAGES; i++) {
        const p = pte(main(ro.k), vma.start + i * PAGE);
        expect(p & PTE_PRESENT, `page ${i}`).toBe(PTE_PRESENT);
        expect(p & PTE_WRITE, `page ${i}`).toBe(0);
        expect(p >>> PTE_SHIFT, `page ${i}`).toBe(ZERO_PFN);
      }
      expect(rss(ro.k, mmOf(ro.k))).toBe(0);
      // Only page tables were allocated (pud, pmd, pte at most), and nothing went on the LRU.
      expect(total(ro.r, EV.PGALLOC)).toBeLessThanOrEqual(4);
      expect(ro.k.lru.lock.stats.acquired).toBe(0);

      const rw = run(readsThenWrites, path);
      // The writes find present read-only PTEs: do_wp_page() copies, one new page each.
      expect(total(rw.r, EV.PAGE_FAULTS)).toBe(2 * PAGES);
      expect(total(rw.r, EV.PGALLOC) - total(ro.r, EV.PGALLOC)).toBe(PAGES);
      const pfns = mapped(rw.k, vmaOfSize(rw.k, 64 * 1024).start, PAGES);
      expect(pfns.every((pfn) => pfn > 0 && pfn !== ZERO_PFN)).toBe(true);
      expect(new Set(pfns).size).toBe(PAGES);
      expect(rss(rw.k, mmOf(rw.k))).toBe(PAGES);
    });
  }
});

describe('do_anonymous_page(): two threads fault the same pages at once', () => {
  const PAGES = 16;
  /** The first page written alone (anon_vma and PTE table ready), then 2 threads write the next 16 pages in step. */
  const race = proc('buf = mmap 1M', 'touch buf write length 4K', 'threads 2 {', '  barrier', `  touch buf write offset 4K length ${PAGES * PAGE}`, '}');

  for (const design of ['base', 'dufour-v11', 'lespinasse']) {
    test(`${design}: each page mapped once; every fault that lost the race freed the page it had allocated`, () => {
      // On one CPU the threads take turns: the second finds every page mapped and takes no fault.
      const alone = run(race, 'frame-1cpu', design);
      expect(total(alone.r, EV.PAGE_FAULTS)).toBe(PAGES + 1);
      expect(total(alone.r, EV.PGFREE)).toBe(0);
      const byPath = (['gen-4cpu', 'frame-4cpu'] as const).map((p) => run(race, p, design, 2));
      for (const { r, k } of byPath) {
        const faults = total(r, EV.PAGE_FAULTS);
        // Races happened: more faults than pages, and pages allocated for nothing.
        expect(faults).toBeGreaterThan(PAGES + 1);
        expect(total(r, EV.PGFREE)).toBeGreaterThan(0);
        expect(total(r, EV.PGFREE)).toBeLessThanOrEqual(total(r, EV.PGALLOC) - total(alone.r, EV.PGALLOC));
        // The losers put theirs back (put_page -> free): the pages in use are those of the run
        // without a race, the same data pages and page tables.
        expect(k.alloc.inUse).toBe(total(r, EV.PGALLOC) - total(r, EV.PGFREE));
        expect(k.alloc.inUse).toBe(alone.k.alloc.inUse);
        const pfns = mapped(k, vmaOfSize(k, 1024 * 1024).start, PAGES + 1);
        expect(new Set(pfns).size).toBe(PAGES + 1);
        for (const pfn of pfns) {
          expect(k.pages.mapcount[pfn]).toBe(1);
          expect(k.pages.refcount[pfn]).toBe(1);
        }
        expect(rss(k, mmOf(k))).toBe(PAGES + 1);
      }
      // Calls on or off, the same faults at the same times.
      expect(byPath[1]!.log).toEqual(byPath[0]!.log);
    });
  }
});

describe('do_anonymous_page() under a design: a speculative fault that cannot finish falls back', () => {
  const WRITES = 3;
  /**
   * A worker thread (mm_users 2) maps a fresh region and reads its first page (the classic path
   * makes the page tables, the zero page needs no anon_vma), then writes the next pages: the
   * first write finds a PTE table but no anon_vma.
   */
  const fresh = proc('threads 1 {', '  m = mmap 64K', '  touch m read length 4K', `  touch m write offset 4K length ${WRITES * PAGE}`, '}');

  /** What every design must leave: the zero page, then the pages written, as on the classic kernel. */
  function expectMapped({ r, k }: Run, base: Run, what: string): void {
    expect(total(r, EV.PAGE_FAULTS), what).toBe(1 + WRITES);
    // Nothing allocated by an attempt that gave up: the same pages as on the classic kernel.
    expect(total(r, EV.PGFREE), what).toBe(0);
    expect(total(r, EV.PGALLOC), what).toBe(total(base.r, EV.PGALLOC));
    expect(rss(k, mmOf(k)), what).toBe(WRITES);
    const vma = vmaOfSize(k, 64 * 1024);
    expect(vma.anonVma, what).not.toBeNull();
    const pfns = mapped(k, vma.start, 1 + WRITES);
    expect(pfns[0], what).toBe(ZERO_PFN);
    expect(new Set(pfns.slice(1)).size, what).toBe(WRITES);
  }

  for (const path of ['frame-1cpu', 'frame-4cpu'] as const) {
    test(`${path}: lespinasse: do_anonymous_page() gives up before allocating (SPF_ABORT_ANON_VMA), the mmap-lock path maps the page`, () => {
      const base = run(fresh, path);
      const x = run(fresh, path, 'lespinasse');
      // The read found no PTE table (the walk's abort); every write entered do_anonymous_page()
      // speculatively, and the first of them found no anon_vma.
      expect(total(x.r, EV.SPF_ABORT_PMD)).toBe(1);
      expect(total(x.r, EV.SPF_ATTEMPT_ANON)).toBe(WRITES);
      expect(total(x.r, EV.SPF_ABORT_ANON_VMA)).toBe(1);
      expect(total(x.r, EV.SPF)).toBe(WRITES - 1);
      expectMapped(x, base, 'lespinasse');
    });

    test(`${path}: dufour: a VMA without anon_vma is not supported (pagefault:spf_vma_notsup), the mmap-lock path maps the page`, () => {
      const base = run(fresh, path);
      for (const design of ['dufour-v9', 'dufour-v11', 'dufour-srcu']) {
        const x = run(fresh, path, design);
        // The read and the first write: both before do_anonymous_page(), in the VMA checks.
        expect(total(x.r, EV.SPF_VMA_NOTSUP), design).toBe(2);
        expect(total(x.r, EV.SPF), design).toBe(WRITES - 1);
        expectMapped(x, base, design);
      }
    });
  }

  test('dufour-v9: a busy PTE lock aborts after the page was allocated: each abort frees its page, then the mmap-lock path maps one', () => {
    // 8 threads write interleaved pages of one PTE table at once (no two the same page).
    const same = proc('buf = mmap 1M', 'touch buf write length 4K', 'threads 8 {', '  barrier', '  touch buf write offset 4K + $tid * 4K stride $nthreads * 4K', '}');
    const pages = 1024 * 1024 / PAGE;
    const byPath = (['gen-4cpu', 'frame-4cpu'] as const).map((p) => run(same, p, 'dufour-v9', 8));
    for (const { r, k } of byPath) {
      const aborts = total(r, EV.SPF_PTE_LOCK);
      expect(aborts).toBeGreaterThan(0);
      // The only pages freed are those of the aborted attempts (nobody raced for a page).
      expect(total(r, EV.PGFREE)).toBe(aborts);
      expect(total(r, EV.PAGE_FAULTS)).toBe(pages);
      expect(total(r, EV.SPF)).toBe(pages - 1 - aborts);
      expect(rss(k, mmOf(k))).toBe(pages);
      expect(new Set(mapped(k, vmaOfSize(k, 1024 * 1024).start, pages)).size).toBe(pages);
    }
    expect(byPath[1]!.log).toEqual(byPath[0]!.log);
    expect(byPath[1]!.r.counts.snapshot()).toEqual(byPath[0]!.r.counts.snapshot());
  });
});
