import { SYNC, TaskState, type Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Kernel, MmStruct, Thread } from './kernel.js';
import { lookupPteTable, pmdSlot, PteTable } from './pgtable.js';
import { thpEligibleFor } from './huge_memory.js';
import { isSwapEntry } from './swap.js';
import { flushTlbRange } from './tlb.js';
import { addMmCounter } from './rss.js';
import type { Vma } from './vma.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, VM_WRITE, ZERO_PFN } from './types.js';

/**
 * khugepaged (mm/khugepaged.c): a kernel thread that wakes every scan_sleep_millisecs, scans up
 * to pages_to_scan PTEs of THP-eligible anonymous VMAs, and collapses a PMD range whose PTE
 * table maps at least one page into one huge page. The collapse is the "PMD dance" of
 * kernel-facts.md section 7: with the mmap lock held for writing (and, with per-VMA locks, the
 * VMA write-locked), clear the PMD and flush the TLBs (pmdp_collapse_flush: on x86 the IPI also
 * waits out IRQ-off speculative walkers), copy the small pages into the huge one, free them, and
 * install the huge PMD. A speculative fault that walked to the old PTE table fails its pmd_same
 * check at PTE-lock time (pagefault:spf_pmd_changed).
 */
export function* khugepaged(kth: Thread, sleepNs: number, pagesToScan: number, alive: () => boolean): Code {
  const t = kth.t;
  const k = kth.k;
  // khugepaged_scan: where the last pass stopped (an mm and an address in it).
  let cursor = { proc: 0, addr: 0 };
  for (;;) {
    yield* k.eng.sleep(t, sleepNs, 'khugepaged sleep');
    if (!alive()) return;
    t.enterKernel();
    let budget = pagesToScan;
    const n = k.processes.length;
    for (let step = 0; step <= n && budget > 0; step++) {
      const p = k.processes[cursor.proc % n];
      if (p.mm.users === 0 || p.threads.every((th) => th.kernel)) {
        cursor = { proc: (cursor.proc + 1) % n, addr: 0 };
        continue;
      }
      const r = yield* scanMm(kth, p.mm, budget, cursor.addr);
      budget = r.budget;
      cursor = r.next < 0 ? { proc: (cursor.proc + 1) % n, addr: 0 } : { proc: cursor.proc % n, addr: r.next };
    }
    t.exitKernel();
  }
}

/**
 * khugepaged_scan_mm_slot(): from address `from`, look for collapsible ranges under the mmap lock
 * held for reading, and collapse them. Returns the budget left and where to go on next time (-1:
 * this mm is done, go to the next).
 */
function* scanMm(kth: Thread, mm: MmStruct, budget: number, from: number): Code<{ budget: number; next: number }> {
  const t = kth.t;
  const k = kth.k;
  const span = k.geo.pteTableSpan;
  const n = k.geo.entries[k.geo.levels - 1];
  const candidates: { vma: Vma; haddr: number }[] = [];
  let next = -1;
  yield* mm.mmapLock.downRead(t);
  outer: for (const vma of mm.vmas.all()) {
    if (vma.end <= from) continue;
    for (let haddr = Math.ceil(Math.max(vma.start, from) / span) * span; haddr + span <= vma.end; haddr += span) {
      if (budget <= 0) {
        next = haddr;
        break outer;
      }
      if (!thpEligibleFor(k, vma, haddr)) break;
      const pt = pmdEntry(k, mm, haddr);
      budget -= n;
      t.cost(n * 2); // khugepaged_scan_pmd(): look at every PTE
      // max_ptes_swap: a range with swapped-out pages is left alone here (the kernel may swap
      // up to 64 of them in first).
      if (pt !== null && !pt.huge && pt.used > 0 && !hasSwapEntry(pt)) candidates.push({ vma, haddr });
    }
  }
  yield* mm.mmapLock.upRead(t);
  for (const c of candidates) yield* collapseHugePage(kth, mm, c.vma, c.haddr);
  return { budget, next };
}

function hasSwapEntry(pt: PteTable): boolean {
  for (let j = 0; j < pt.ptes.length; j++) if (isSwapEntry(pt.ptes[j])) return true;
  return false;
}

/** The PMD entry's PTE table for haddr in mm, or null. */
function pmdEntry(k: Kernel, mm: MmStruct, haddr: number): PteTable | null {
  return lookupPteTable(k.geo, mm.pgd, haddr);
}

/** collapse_huge_page() */
function* collapseHugePage(kth: Thread, mm: MmStruct, vma: Vma, haddr: number): Code {
  kth.kfn = 'collapse_huge_page';
  const t = kth.t;
  const k = kth.k;
  const n = k.geo.entries[k.geo.levels - 1];
  const pfns = yield* k.alloc.allocHuge(kth, n);
  if (pfns === null) {
    k.em.count(EV.THP_COLLAPSE_ALLOC_FAILED, kth);
    return;
  }
  yield* mm.mmapLock.downWrite(t);
  yield* k.spf.mmapWriteLocked(kth, mm);
  // hugepage_vma_revalidate(): the VMA must still be there and cover the range.
  const slot = pmdSlot(k.geo, mm.pgd, haddr);
  const old = slot === null ? null : (slot.dir.entries[slot.i] as PteTable | null);
  if (!vma.attached || vma.start > haddr || vma.end < haddr + k.geo.pteTableSpan || slot === null || old === null || old.huge || hasSwapEntry(old)) {
    yield* k.spf.mmapWriteUnlocking(kth, mm);
    yield* mm.mmapLock.upWrite(t);
    yield* k.alloc.putUnmappedHuge(kth, pfns);
    return;
  }
  yield* k.spf.collapseBegin(kth, vma, mm);
  // pmdp_collapse_flush(): the PMD goes to none under the PMD lock, then the TLBs are flushed.
  yield* mm.pageTableLock.lock(t);
  slot.dir.entries[slot.i] = null;
  mm.pgtableGen++;
  yield* mm.pageTableLock.unlock(t);
  if (t.mustSync()) yield SYNC;
  yield* flushTlbRange(kth, n, mm);
  // __collapse_huge_page_isolate() + __collapse_huge_page_copy(): copy or clear each subpage and
  // release the small pages.
  yield* old.ptl.lock(t);
  const freed: number[] = [];
  let present = 0;
  for (let j = 0; j < n; j++) {
    const pte = old.ptes[j];
    old.ptes[j] = 0;
    if ((pte & PTE_PRESENT) === 0) {
      t.cost(k.pageSize / k.costs.clearBytesPerNs);
      continue;
    }
    const pfn = pte >>> PTE_SHIFT;
    t.cost(k.pageSize / k.costs.copyBytesPerNs);
    if (pfn === ZERO_PFN) continue;
    k.contents?.copy(kth, pfn, pfns[j], 'collapse_huge_page');
    present++;
    k.pages.mapcount[pfn]--;
    if (--k.pages.refcount[pfn] === 0) freed.push(pfn);
  }
  old.used = 0;
  yield* old.ptl.unlock(t);
  for (const pfn of freed) yield* k.alloc.freePage(kth, pfn);
  // set_pmd_at(): the huge PMD, with the old PTE table deposited for a later split.
  const table = new PteTable(k.eng, n, haddr);
  const bits = PTE_PRESENT | (vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0);
  for (let j = 0; j < n; j++) table.ptes[j] = (pfns[j] << PTE_SHIFT) | bits;
  table.used = n;
  table.huge = true;
  table.pfn = old.pfn;
  yield* mm.pageTableLock.lock(t);
  slot.dir.entries[slot.i] = table;
  yield* mm.pageTableLock.unlock(t);
  // __collapse_huge_page_copy(): add_mm_counter(MM_ANONPAGES, 1) for each none or zero PTE
  // (one atomic here for all of them: after the first they hit a line this CPU owns).
  if (n > present) yield* addMmCounter(kth, mm, n - present);
  k.em.count(EV.THP_COLLAPSE_ALLOC, kth);
  yield* k.spf.mmapWriteUnlocking(kth, mm);
  yield* mm.mmapLock.upWrite(t);
}

/** Is any workload task still alive? */
export function workloadAlive(k: Kernel): boolean {
  return k.threads.some((th) => !th.kernel && th.t.state !== TaskState.Done);
}
