/**
 * Transparent huge pages (src/mm/huge_memory.ts and the THP parts of fault.ts and mmap.ts): PMD
 * faults under thp=always and thp=madvise, the huge zero page, splits by a partial munmap, and
 * the PMD alignment of large anonymous mappings.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_WRITE, ZERO_PFN } from '../../src/mm/types.js';
import { faults, mainThread, MiB, MM_EVENTS, PAGE, proc, pte, RecordingSink, runMm, tableAt, total, totals } from './helpers.js';

const PMD = 2 * MiB;
const SMALL_PER_HUGE = PMD / PAGE; // 512

function inspect(source: string, thp: 'always' | 'madvise' | 'never', keep = true) {
  const sink = new RecordingSink();
  const r = runMm(source, { thp, sinks: [sink], keep });
  return { r, sink, th: mainThread(sink) };
}

describe('thp=always', () => {
  test('a 128 MiB write touch takes 64 faults, each a huge page (thp_fault_alloc = 64)', () => {
    const { r, th, sink } = inspect(proc('a = mmap 128M', 'touch a write count w'), 'always');
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.counters.get('w')).toBe(32768);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(64);
    expect(total(r, EV.MINOR_FAULTS)).toBe(64);
    expect(total(r, EV.PGFAULT)).toBe(64);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(64);
    expect(total(r, EV.THP_FAULT_FALLBACK)).toBe(0);
    expect(total(r, EV.THP_ZERO_PAGE_ALLOC)).toBe(0);
    // 64 huge pages of 512 frames, a deposited PTE table per huge PMD, and the pud and pmd tables.
    expect(faults(r).alloc, msg).toBe(64 * SMALL_PER_HUGE + 64 + 2);
    // One fault per 2 MiB, at the first byte of each.
    expect(sink.faults.map((f) => f.addr % PMD)).toEqual(new Array(64).fill(0));
    // Every PMD maps a huge page: all 512 entries present and writable, 32768 distinct frames.
    const pfns = new Set<number>();
    for (const f of sink.faults) {
      const pt = tableAt(th, f.addr)!;
      expect(pt.huge).toBe(true);
      expect(pt.hugeZero).toBe(false);
      for (let j = 0; j < pt.ptes.length; j++) {
        expect(pt.ptes[j]! & (PTE_PRESENT | PTE_WRITE)).toBe(PTE_PRESENT | PTE_WRITE);
        pfns.add(pt.ptes[j]! >>> PTE_SHIFT);
      }
    }
    expect(pfns.size).toBe(32768);
    expect(th.mm.rss).toBe(32768);
  });

  test('a read first maps the huge zero page; the later write allocates the huge page', () => {
    const { r, th, sink } = inspect(proc('a = mmap 16M', 'touch a read', 'touch a write'), 'always');
    expect(total(r, EV.THP_ZERO_PAGE_ALLOC)).toBe(8);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(8);
    expect(total(r, EV.PAGE_FAULTS)).toBe(16);
    expect(total(r, EV.THP_SPLIT_PMD)).toBe(0);
    // The first 8 faults were reads of empty PMDs, the next 8 writes to the zero page's PMDs.
    expect(sink.faults.slice(0, 8).every((f) => f.err === 0x4)).toBe(true);
    expect(sink.faults.slice(8).every((f) => f.err === (0x4 | 0x2 | 0x1))).toBe(true);
    for (const f of sink.faults.slice(8)) {
      const pt = tableAt(th, f.addr)!;
      expect(pt.huge && !pt.hugeZero).toBe(true);
      expect(pt.ptes[0]! >>> PTE_SHIFT).not.toBe(ZERO_PFN);
    }
  });

  test('reads only: the huge zero page everywhere, no data page allocated', () => {
    const { r, th, sink } = inspect(proc('a = mmap 16M', 'touch a read'), 'always');
    expect(total(r, EV.THP_ZERO_PAGE_ALLOC)).toBe(8);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
    // The deposited PTE tables and the pud/pmd tables only.
    expect(faults(r).alloc).toBe(8 + 2);
    for (const f of sink.faults) {
      const pt = tableAt(th, f.addr)!;
      expect(pt.hugeZero).toBe(true);
      for (let j = 0; j < pt.ptes.length; j++) expect(pt.ptes[j]).toBe((ZERO_PFN << PTE_SHIFT) | PTE_PRESENT);
    }
    expect(th.mm.rss).toBe(0);
  });

  test('munmap of 1 MiB inside a huge page splits it; the rest stays mapped and takes no fault', () => {
    const { r, th, sink } = inspect(
      proc('a = mmap 8M', 'touch a write', 'munmap a offset 1M length 1M', 'touch a write length 1M', 'touch a read offset 2M', 'touch a write offset 2M', 'count ok'),
      'always',
    );
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(4); // the 4 huge faults of the first pass only
    expect(total(r, EV.THP_SPLIT_PMD)).toBe(1);
    expect(faults(r).free).toBe(256); // the 256 small pages of the hole
    const start = th.mm.vmas.all()[0]!.start;
    expect(start % PMD).toBe(0);
    // The first PMD is a PTE table now: mapped outside the hole, none inside.
    const first = tableAt(th, start)!;
    expect(first.huge).toBe(false);
    expect(first.used).toBe(256);
    for (let a = start; a < start + PMD; a += PAGE) {
      const inHole = a >= start + MiB && a < start + 2 * MiB;
      expect(pte(th, a) & PTE_PRESENT, `0x${a.toString(16)}`).toBe(inHole ? 0 : PTE_PRESENT);
    }
    // The other three are still huge.
    for (let a = start + PMD; a < start + 4 * PMD; a += PMD) expect(tableAt(th, a)!.huge).toBe(true);
    expect(th.mm.vmas.all()).toHaveLength(2);
    expect(sink.faults).toHaveLength(4);
  });

  test('munmap of a whole huge page frees it without a split', () => {
    const { r, th } = inspect(proc('a = mmap 8M', 'touch a write', 'munmap a offset 2M length 2M'), 'always');
    expect(total(r, EV.THP_SPLIT_PMD)).toBe(0);
    // The 512 frames and the deposited PTE table.
    expect(faults(r).free).toBe(SMALL_PER_HUGE + 1);
    const start = th.mm.vmas.all()[0]!.start;
    expect(tableAt(th, start + PMD)).toBeNull();
  });

  test('everything is freed at exit, huge pages and split ones alike', () => {
    const { r } = inspect(proc('a = mmap 8M', 'touch a read length 2M', 'touch a write', 'munmap a offset 1M length 1M', 'madvise a dontneed offset 4M length 64K'), 'always', false);
    expect(r.signals).toEqual([]);
    expect(faults(r).free, JSON.stringify(totals(r, MM_EVENTS))).toBe(faults(r).alloc);
  });
});

describe('thp=madvise (the default) and thp=never', () => {
  test('without MADV_HUGEPAGE faults are small pages', () => {
    const r = runMm(proc('a = mmap 8M', 'touch a write'), { thp: 'madvise' });
    expect(total(r, EV.PAGE_FAULTS)).toBe(2048);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
  });

  test('madvise hugepage makes the range eligible: 4 huge faults for 8 MiB', () => {
    const r = runMm(proc('a = mmap 8M', 'madvise a hugepage', 'touch a write'), { thp: 'madvise' });
    expect(total(r, EV.PAGE_FAULTS)).toBe(4);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(4);
  });

  test('madvise hugepage on part of a mapping: huge faults there, small ones elsewhere', () => {
    const { r, th } = inspect(proc('a = mmap 8M', 'madvise a hugepage offset 4M length 4M', 'touch a write'), 'madvise');
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(2);
    expect(total(r, EV.PAGE_FAULTS)).toBe(1024 + 2);
    expect(th.mm.vmas.all()).toHaveLength(2); // the VMA was split at the advice boundary
  });

  test('madvise nohugepage under thp=always keeps small pages', () => {
    const r = runMm(proc('a = mmap 8M', 'madvise a nohugepage', 'touch a write'), { thp: 'always' });
    expect(total(r, EV.PAGE_FAULTS)).toBe(2048);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
  });

  test('thp=never ignores madvise hugepage', () => {
    const r = runMm(proc('a = mmap 8M', 'madvise a hugepage', 'touch a write'), { thp: 'never' });
    expect(total(r, EV.PAGE_FAULTS)).toBe(2048);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
  });

  test('a range whose PTE table already exists is not given a huge page', () => {
    // The first write (before the advice) populates the PMD with a PTE table.
    const r = runMm(proc('a = mmap 2M', 'touch a write length 4K', 'madvise a hugepage', 'touch a write'), { thp: 'madvise' });
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(0);
    expect(total(r, EV.PAGE_FAULTS)).toBe(SMALL_PER_HUGE);
  });
});

describe('PMD alignment of anonymous mappings (thp_get_unmapped_area)', () => {
  test.each(['always', 'madvise'] as const)('thp=%s: an 8 MiB mapping starts on a 2 MiB boundary', (thp) => {
    const { th, sink } = inspect(proc('x = mmap 12K', 'a = mmap 8M', 'touch a write length 4K'), thp);
    const v = th.mm.vmas.all().find((x) => x.end - x.start === 8 * MiB)!;
    expect(v.start % PMD).toBe(0);
    expect(sink.faults[0]!.addr).toBe(v.start);
  });

  test('thp=never: the same mapping is only page aligned (mmap_base is not PMD aligned)', () => {
    const { th } = inspect(proc('a = mmap 8M', 'touch a write length 4K'), 'never');
    expect(th.mm.vmas.all()[0]!.start % PMD).not.toBe(0);
  });

  test('mappings under 2 MiB are not aligned', () => {
    const { th } = inspect(proc('a = mmap 1M', 'touch a write length 4K'), 'always');
    expect(th.mm.vmas.all()[0]!.start % PMD).not.toBe(0);
  });
});

describe('write-protected huge PMDs', () => {
  test('a forked child\'s write splits the shared huge PMD and copies small pages', () => {
    const r = runMm(proc('a = mmap 2M', 'touch a write', 'fork {', '  touch a write length 64K', '}'), { thp: 'always' });
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(1);
    // The child's PTE table holds 4 KiB entries: 16 faults, 16 copies.
    expect(total(r, EV.PAGE_FAULTS)).toBe(1 + 16);
    expect(r.signals).toEqual([]);
  });

  // Regression test for a fixed model bug; it was: do_huge_pmd_wp_page() (src/mm/huge_memory.ts doHugePmdWpPage) splits every
  // write-protected huge PMD that does not map the huge zero page, even when the huge page is
  // exclusive to the mm. The kernel reuses an exclusive THP (4.17: reuse_swap_page() /
  // page_trans_huge_mapcount() == 1 -> pmd_mkwrite; 5.19+: PageAnonExclusive): one fault per
  // huge page, no split. Here mprotect(r) + mprotect(rw) of 4 huge pages, then a write pass,
  // takes 4 splits and 2048 faults (one per 4 KiB page) instead of 4 faults.
  test('an exclusive huge page write-protected by mprotect is reused on write, not split', () => {
    const r = runMm(proc('a = mmap 8M', 'touch a write', 'mprotect a r', 'mprotect a rw', 'touch a write'), { thp: 'always' });
    expect(total(r, EV.THP_SPLIT_PMD), JSON.stringify(totals(r, MM_EVENTS))).toBe(0);
    expect(total(r, EV.PAGE_FAULTS)).toBe(4 + 4);
  });
});
