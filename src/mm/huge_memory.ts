import type { Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Kernel, Thread } from './kernel.js';
import { pgtableAccount, pgtableAllocOne, pgtableFree } from './pgalloc.js';
import { addMmCounter } from './rss.js';
import { PteTable, type PtDir } from './pgtable.js';
import type { Vma } from './vma.js';
import { flushTlbRange } from './tlb.js';
import {
  FAULT_FLAG_WRITE, PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, VM_HUGEPAGE,
  VM_NOHUGEPAGE, VM_SHARED, VM_WRITE, ZERO_PFN,
} from './types.js';

/**
 * Transparent huge pages (mm/huge_memory.c): PMD-size anonymous faults where the policy and
 * alignment allow, the huge zero page on read faults, splitting a huge PMD into a PTE table,
 * and zapping one.
 */

/** VM_FAULT_FALLBACK: use small pages instead. */
export const VM_FAULT_FALLBACK = 0x800;

/** transparent_hugepage_enabled(vma) and the aligned range fits in the VMA. */
export function thpEligible(th: Thread, vma: Vma, addr: number): boolean {
  return thpEligibleFor(th.k, vma, addr);
}

export function thpEligibleFor(k: Kernel, vma: Vma, addr: number): boolean {
  const policy = k.opts.thp;
  if (policy === 'never' || !vma.isAnonymous() || vma.flags & VM_SHARED || vma.flags & VM_NOHUGEPAGE) return false;
  if (policy === 'madvise' && (vma.flags & VM_HUGEPAGE) === 0) return false;
  const span = k.geo.pteTableSpan;
  const haddr = addr - (addr % span);
  return haddr >= vma.start && haddr + span <= vma.end;
}

/** A huge PMD as the model keeps it: a full table whose entries map `pfns` (or the zero page). */
function hugeTable(th: Thread, base: number, pfns: readonly number[] | null, bits: number): PteTable {
  const k = th.k;
  const n = k.geo.entries[k.geo.levels - 1];
  const pt = new PteTable(k.eng, n, base);
  for (let j = 0; j < n; j++) pt.ptes[j] = ((pfns === null ? ZERO_PFN : pfns[j]) << PTE_SHIFT) | PTE_PRESENT | bits;
  pt.used = n;
  pt.huge = true;
  pt.hugeZero = pfns === null;
  return pt;
}

/**
 * do_huge_pmd_anonymous_page(): a read maps the huge zero page; a write allocates and clears a
 * huge page and maps it with one PMD. VM_FAULT_FALLBACK when no huge page can be had.
 */
export function* doHugePmdAnonymousPage(th: Thread, vma: Vma, addr: number, flags: number, dir: PtDir, i: number, prepare: () => Code<number>): Code<number> {
  th.kfn = 'do_huge_pmd_anonymous_page';
  const t = th.t;
  const k = th.k;
  const span = k.geo.pteTableSpan;
  const haddr = addr - (addr % span);
  const n = k.geo.entries[k.geo.levels - 1];
  const prepared = yield* prepare(); // vmf_anon_prepare()
  if (prepared !== 0) return prepared;
  let table: PteTable;
  let pfns: number[] | null = null;
  if ((flags & FAULT_FLAG_WRITE) === 0) {
    table = hugeTable(th, haddr, null, 0);
  } else {
    pfns = yield* k.alloc.allocHuge(th, n);
    if (pfns === null) {
      k.em.count(EV.THP_FAULT_FALLBACK, th);
      return VM_FAULT_FALLBACK;
    }
    t.cost(k.eng.jitter((n * k.pageSize) / k.costs.clearBytesPerNs)); // clear_huge_page()
    table = hugeTable(th, haddr, pfns, vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0);
  }
  // pgtable_trans_huge_deposit(): a PTE table is set aside for a later split.
  const deposit = yield* pgtableAllocOne(th);
  table.pfn = deposit;
  yield* th.mm.pageTableLock.lock(t);
  if (dir.entries[i] !== null) {
    // Someone else populated the PMD meanwhile.
    yield* th.mm.pageTableLock.unlock(t);
    if (pfns !== null) yield* k.alloc.putUnmappedHuge(th, pfns);
    yield* pgtableFree(th, deposit);
    return 0;
  }
  dir.entries[i] = table;
  dir.used++;
  if (deposit >= 0) pgtableAccount(th, th.mm, 1); // mm_inc_nr_ptes() for the deposited table
  t.cost(k.costs.pteSetNs);
  // add_mm_counter(MM_ANONPAGES, HPAGE_PMD_NR) under the PMD lock (__do_huge_pmd_anonymous_page).
  if (pfns !== null) yield* addMmCounter(th, th.mm, n);
  yield* th.mm.pageTableLock.unlock(t);
  if (pfns !== null) {
    k.em.count(EV.THP_FAULT_ALLOC, th);
    yield* k.lru.add(th, pfns[0]);
  } else {
    k.em.count(EV.THP_ZERO_PAGE_ALLOC, th);
  }
  return 0;
}

/**
 * do_huge_pmd_wp_page(): a write to a read-only huge PMD. Over the huge zero page, allocate a
 * huge page; over a huge page shared after fork, split the PMD and let the PTE path copy.
 * Returns VM_FAULT_FALLBACK after a split.
 */
export function* doHugePmdWpPage(th: Thread, vma: Vma, dir: PtDir, i: number, table: PteTable): Code<number> {
  th.kfn = 'do_huge_pmd_wp_page';
  const t = th.t;
  const k = th.k;
  if (!table.hugeZero) {
    // do_huge_pmd_wp_page(): a huge page only this PMD maps is reused (made writable whole);
    // one shared with another mm (after fork) is split and copied page by page.
    let exclusive = true;
    for (let j = 0; j < table.ptes.length && exclusive; j++) {
      const pfn = table.ptes[j] >>> PTE_SHIFT;
      if (pfn === ZERO_PFN || k.pages.refcount[pfn] !== 1) exclusive = false;
    }
    if (exclusive && vma.flags & VM_WRITE) {
      yield* th.mm.pageTableLock.lock(t);
      for (let j = 0; j < table.ptes.length; j++) table.ptes[j] |= PTE_WRITE | PTE_DIRTY;
      t.cost(k.costs.pteSetNs);
      yield* th.mm.pageTableLock.unlock(t);
      return 0;
    }
    yield* splitHugePmd(th, table);
    return VM_FAULT_FALLBACK;
  }
  const n = k.geo.entries[k.geo.levels - 1];
  const pfns = yield* k.alloc.allocHuge(th, n);
  if (pfns === null) {
    yield* splitHugePmd(th, table);
    k.em.count(EV.THP_FAULT_FALLBACK, th);
    return VM_FAULT_FALLBACK;
  }
  t.cost(k.eng.jitter((n * k.pageSize) / k.costs.clearBytesPerNs));
  const fresh = hugeTable(th, table.base, pfns, vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0);
  fresh.pfn = table.pfn;
  yield* th.mm.pageTableLock.lock(t);
  if (dir.entries[i] !== table) {
    yield* th.mm.pageTableLock.unlock(t);
    yield* k.alloc.putUnmappedHuge(th, pfns);
    return 0;
  }
  dir.entries[i] = fresh;
  th.mm.pgtableGen++;
  // add_mm_counter(MM_ANONPAGES, HPAGE_PMD_NR): the huge zero page was not counted.
  yield* addMmCounter(th, th.mm, n);
  yield* th.mm.pageTableLock.unlock(t);
  yield* flushTlbRange(th, n);
  k.em.count(EV.THP_FAULT_ALLOC, th);
  return 0;
}

/** __split_huge_pmd(): the huge PMD becomes a PTE table mapping the same pages. */
export function* splitHugePmd(th: Thread, table: PteTable): Code {
  const t = th.t;
  if (!table.huge) return;
  yield* th.mm.pageTableLock.lock(t);
  table.huge = false;
  table.hugeZero = false;
  t.cost(th.k.geo.entries[th.k.geo.levels - 1] * th.k.costs.changePteNs);
  yield* th.mm.pageTableLock.unlock(t);
  th.k.em.count(EV.THP_SPLIT_PMD, th);
}
