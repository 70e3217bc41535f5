import type { Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { PG_ANON, putPage } from './page.js';
import { pageAddRmap, pageRemoveRmap } from './rmap.js';
import { addMmCounter, addMmCounterFast } from './rss.js';
import { pteMapLock, pteUnlock, type Vmf } from './vmf.js';
import {
  EINVAL, FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_VMA_LOCK, FAULT_FLAG_WRITE, PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_SWAP, PTE_WRITE,
  VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_SHARED, VM_WRITE,
} from './types.js';
import { flushTlbRange } from './tlb.js';
import { MADV_PAGEOUT, traceSysEnterMadvise } from './syscall-trace.js';

/**
 * Swap: anonymous pages written out and their PTEs replaced by swap entries (mm/swap_state.c,
 * mm/swapfile.c, do_swap_page() in mm/memory.c).
 *
 * madvise(MADV_PAGEOUT) reclaims the exclusive anonymous pages of a range: each gets a swap slot,
 * goes into the swap cache, is unmapped (its PTE becomes a swap entry) and is written out
 * (asynchronously: it stays in the swap cache). A later MADV_PAGEOUT over the same range finds
 * pages whose writeback is done and frees them from the swap cache, as a second reclaim pass
 * would. A fault on a swap entry is a swap-cache hit (a minor fault) while the page is still
 * cached, else a read from the machine's storage (a major fault, with the mmap lock dropped for
 * the I/O and the fault retried, as lock_page_or_retry() does).
 */
export class SwapSpace {
  /** slot -> the page in the swap cache, if it is still there. */
  readonly cache = new Map<number, number>();
  /** slot -> swap entries referring to it (swap_map count). */
  readonly refs = new Map<number, number>();
  /** slot -> time its writeback completes. */
  readonly writtenAt = new Map<number, number>();
  private next = 1;
  private readonly free: number[] = [];

  alloc(): number {
    return this.free.pop() ?? this.next++;
  }

  /** swap_free(): drop one reference; the last frees the slot and returns the cached page (or -1). */
  put(slot: number): number {
    const n = (this.refs.get(slot) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(slot, n);
      return -1;
    }
    this.refs.delete(slot);
    this.writtenAt.delete(slot);
    const pfn = this.cache.get(slot);
    this.cache.delete(slot);
    this.free.push(slot);
    return pfn ?? -1;
  }

  dup(slot: number): void {
    this.refs.set(slot, (this.refs.get(slot) ?? 1) + 1);
  }
}

function swapEntry(slot: number): number {
  return (slot << PTE_SHIFT) | PTE_SWAP;
}

export function isSwapEntry(pte: number): boolean {
  return (pte & PTE_PRESENT) === 0 && (pte & PTE_SWAP) !== 0;
}

/** madvise(MADV_PAGEOUT): reclaim the range's exclusive anonymous pages to swap. */
export function* sysMadvisePageout(th: Thread, addr: number, length: number): Code<number> {
  th.kfn = 'madvise_pageout';
  traceSysEnterMadvise(th, addr, length, MADV_PAGEOUT);
  const t = th.t;
  const k = th.k;
  const mm = th.mm;
  const ps = k.pageSize;
  const end = addr + Math.ceil(length / ps) * ps;
  t.enterKernel();
  t.cost(k.costs.syscallNs);
  // do_madvise()'s first check (madvise.ts madviseStartInvalid): a start not page aligned.
  if (addr % ps !== 0) {
    t.exitKernel();
    return -EINVAL;
  }
  if (!mm.mmapLock.downReadFast(t)) yield* mm.mmapLock.downRead(t);
  let out = 0;
  const freed: number[] = [];
  for (const v of mm.vmas.range(addr, end)) {
    if (!v.isAnonymous() || v.flags & VM_SHARED) continue;
    const lo = Math.max(addr, v.start);
    const hi = Math.min(end, v.end);
    for (let base = lo - (lo % k.geo.pteTableSpan); base < hi; base += k.geo.pteTableSpan) {
      const pt = lookupPteTable(k.geo, mm.pgd, base);
      if (pt === null || pt.used === 0 || pt.huge) continue;
      yield* pt.ptl.lock(t);
      for (let a = Math.max(lo, base); a < Math.min(hi, base + k.geo.pteTableSpan); a += ps) {
        const i = k.geo.index(k.geo.levels - 1, a);
        const pte = pt.ptes[i];
        if (isSwapEntry(pte)) {
          // A second pass: a page whose writeback is done leaves the swap cache.
          const slot = pte >>> PTE_SHIFT;
          const cached = k.swap.cache.get(slot);
          if (cached !== undefined && t.clock >= (k.swap.writtenAt.get(slot) ?? 0)) {
            // delete_from_swap_cache(): the cache's reference is dropped below.
            k.swap.cache.delete(slot);
            freed.push(cached);
          }
          continue;
        }
        if ((pte & PTE_PRESENT) === 0) continue;
        const pfn = pte >>> PTE_SHIFT;
        // Only pages this mapping alone holds (shrink_page_list would unmap shared ones too).
        if (pfn === 0 || (k.pages.flags[pfn] & PG_ANON) === 0 || k.pages.refcount[pfn] !== 1 || k.pages.mapcount[pfn] !== 1) continue;
        // add_to_swap() + try_to_unmap() + pageout(): the swap cache keeps the page's reference.
        const slot = k.swap.alloc();
        k.swap.cache.set(slot, pfn);
        k.swap.refs.set(slot, 1);
        k.swap.writtenAt.set(slot, t.clock + k.ioLatencyNs);
        k.contents?.writeSlot(pfn, slot); // swap_writepage()
        pageRemoveRmap(k, pfn);
        pt.ptes[i] = swapEntry(slot);
        yield* addMmCounter(th, mm, -1); // try_to_unmap_one(): dec_mm_counter(mm, MM_ANONPAGES)
        out++;
        t.cost(k.costs.zapPteNs + k.costs.lruPerPageNs);
      }
      yield* pt.ptl.unlock(t);
    }
  }
  if (out > 0) {
    k.em.count(EV.PSWPOUT, th, out);
    yield* flushTlbRange(th, out);
  }
  for (const pfn of freed) yield* putPage(th, pfn);
  if (!mm.mmapLock.upReadFast(t)) yield* mm.mmapLock.upRead(t);
  t.exitKernel();
  return 0;
}
/**
 * do_swap_page(): a swap entry. A page still in the swap cache is mapped again (a minor fault);
 * otherwise it is read from storage (a major fault: the mmap lock is dropped for the I/O and the
 * fault retried, lock_page_or_retry()). Not done speculatively, nor under a VMA lock (6.4 returns
 * VM_FAULT_RETRY there). The page leaves the swap cache once mapped (it is exclusive).
 */
export function* doSwapPage(th: Thread, vmf: Vmf): Code<number> {
  th.kfn = 'do_swap_page';
  const t = th.t;
  const k = th.k;
  if (vmf.spec !== null) {
    vmf.spec.noSwap?.(th);
    return VM_FAULT_RETRY;
  }
  if (vmf.flags & FAULT_FLAG_VMA_LOCK) return VM_FAULT_RETRY;
  const slot = vmf.orig >>> PTE_SHIFT;
  let pfn = k.swap.cache.get(slot);
  let major = 0;
  if (pfn === undefined) {
    // swapin_readahead() of the one page: allocate, read, add to the swap cache.
    k.em.count(EV.PGMAJFAULT, th);
    const page = yield* k.alloc.allocPage(th);
    if (page < 0) return VM_FAULT_OOM;
    if (vmf.flags & FAULT_FLAG_ALLOW_RETRY) {
      yield* th.mm.mmapLock.upRead(t);
      yield* k.eng.sleep(t, k.ioLatencyNs, 'swap-in I/O');
      if (k.swap.cache.has(slot) || !k.swap.refs.has(slot)) {
        yield* putPage(th, page);
      } else {
        k.swap.cache.set(slot, page);
        k.pages.flags[page] |= PG_ANON;
        k.contents?.readSlot(th, slot, page); // swap_readpage()
        k.em.count(EV.PSWPIN, th);
      }
      return VM_FAULT_RETRY | VM_FAULT_MAJOR;
    }
    yield* k.eng.sleep(t, k.ioLatencyNs, 'swap-in I/O');
    k.swap.cache.set(slot, page);
    k.pages.flags[page] |= PG_ANON;
    k.contents?.readSlot(th, slot, page); // swap_readpage()
    k.em.count(EV.PSWPIN, th);
    pfn = page;
    major = VM_FAULT_MAJOR;
  }
  if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
  if (vmf.pt.ptes[vmf.idx] !== vmf.orig) {
    yield* pteUnlock(th, vmf);
    return major;
  }
  // Map it (writable at once on a write fault: the page is exclusive, reuse_swap_page), and it
  // leaves the swap cache.
  const shared = (k.swap.refs.get(slot) ?? 1) > 1;
  if (shared) {
    // Other swap entries (a forked sibling's) still refer to the slot: the page stays in the
    // swap cache for them, and this mapping takes a reference of its own, read-only.
    k.swap.put(slot);
    k.pages.refcount[pfn]++;
  } else {
    k.swap.cache.delete(slot);
    k.swap.put(slot);
  }
  pageAddRmap(k, pfn); // page_add_anon_rmap()
  const writeNow = !shared && (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vmf.vma.flags & VM_WRITE) !== 0;
  vmf.pt.ptes[vmf.idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | (writeNow ? PTE_WRITE | PTE_DIRTY : 0);
  addMmCounterFast(th, 1); // inc_mm_counter_fast(MM_ANONPAGES)
  t.cost(k.costs.pteSetNs + k.costs.anonRmapNs);
  yield* pteUnlock(th, vmf);
  return major;
}
