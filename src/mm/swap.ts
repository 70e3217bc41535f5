import type { Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { PG_ANON } from './page.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_SWAP, VM_SHARED } from './types.js';
import { flushTlbRange } from './tlb.js';

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

export function swapEntry(slot: number): number {
  return (slot << PTE_SHIFT) | PTE_SWAP;
}

export function isSwapEntry(pte: number): boolean {
  return (pte & PTE_PRESENT) === 0 && (pte & PTE_SWAP) !== 0;
}

/** madvise(MADV_PAGEOUT): reclaim the range's exclusive anonymous pages to swap. */
export function* sysMadvisePageout(th: Thread, addr: number, length: number): Code<number> {
  const t = th.t;
  const k = th.k;
  const mm = th.mm;
  const ps = k.pageSize;
  const end = addr + Math.ceil(length / ps) * ps;
  t.enterKernel();
  t.cost(k.costs.syscallNs);
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
            k.swap.cache.delete(slot);
            k.pages.refcount[cached] = 0;
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
        k.pages.mapcount[pfn] = 0;
        pt.ptes[i] = swapEntry(slot);
        th.rssPending--;
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
  for (const pfn of freed) yield* k.alloc.freePage(th, pfn);
  if (!mm.mmapLock.upReadFast(t)) yield* mm.mmapLock.upRead(t);
  t.exitKernel();
  return 0;
}
