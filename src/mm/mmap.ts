import { SYNC, type Code } from '../engine/engine.js';
import type { Thread, MmStruct } from './kernel.js';
import { lookupPteTable, pmdSlot } from './pgtable.js';
import type { PgTable } from './pgalloc.js';
import { Vma } from './vma.js';
import type { File } from './filemap.js';
import { mmPopulate } from './gup.js';
import { splitHugePmd } from './huge_memory.js';
import { isSwapEntry } from './swap.js';
import { flushTlbRange } from './tlb.js';
import { addMmCounter, addMmCounterNow } from './rss.js';
import { freePgtables, pgtableAccount, pgtableFree, pgtablesFree } from './pgalloc.js';
import { anonVmaClone, anonVmaMerge, anonVmaMergeable, pageRemoveRmap } from './rmap.js';
import { traceSysEnterMmap, traceSysEnterMunmap, traceSysExitMmap } from './syscall-trace.js';
import { EINVAL, ENOMEM, PTE_HASHED, PTE_PRESENT, PTE_SHIFT, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_GROWSDOWN, VM_SHARED, ZERO_PFN } from './types.js';

/**
 * mmap(2), munmap(2) and exit_mmap() (mm/mmap.c), with the VMA helpers the other VMA-changing
 * calls share (mprotect.ts, mremap.ts, madvise.ts, fork.ts): the mmap write lock with the
 * design's hooks, linking, splitting and merging VMAs, zapping their pages (zap_pte_range) and
 * freeing what they mapped (tlb_finish_mmu). Each call takes the mmap lock for writing, really
 * splits and merges VMAs, tears down PTEs, frees pages and page tables, and shoots down TLBs.
 */

/** mmap_min_addr default. */
export const MMAP_MIN_ADDR = 0x10000;

export function pageAlign(th: Thread, n: number): number {
  const ps = th.k.pageSize;
  return Math.ceil(n / ps) * ps;
}

/** Enter a syscall: mode switch and entry cost. */
export function* syscallEnter(th: Thread): Code {
  th.t.enterKernel();
  th.t.cost(th.k.costs.syscallNs);
  th.k.eng.absorbIrq(th.t);
}

export function syscallExit(th: Thread): void {
  th.t.exitKernel();
}

/** mmap_write_lock() with the design's hook. */
export function* mmapWriteLock(th: Thread): Code {
  yield* th.mm.mmapLock.downWrite(th.t);
  yield* th.k.spf.mmapWriteLocked(th, th.mm);
}

/** mmap_write_unlock() with the design's hook. */
export function* mmapWriteUnlock(th: Thread): Code {
  yield* th.k.spf.mmapWriteUnlocking(th, th.mm);
  yield* th.mm.mmapLock.upWrite(th.t);
}

/** vma_link(): insert into the tree as the design requires. */
export function* vmaLink(th: Thread, v: Vma): Code {
  yield* th.k.spf.treeModify(th, th.mm, () => th.mm.vmas.insert(v));
  th.k.dbg?.vmaLinked(th, th.mm, v);
  yield* treeWrite(th, v);
}

/** __vma_rb_erase(): take out of the tree as the design requires. */
function* vmaUnlink(th: Thread, v: Vma): Code {
  yield* treeWrite(th, v);
  yield* th.k.spf.treeModify(th, th.mm, () => th.mm.vmas.remove(v));
}

/** Write the lines of the nodes an insert or erase rebalances (the tree path). */
export function* treeWrite(th: Thread, around: Vma): Code {
  const t = th.t;
  if (t.mustSync()) yield SYNC;
  const vmas = th.mm.vmas;
  let n = vmas.depth();
  around.line.writeBy(t);
  for (let v = vmas.prev(around); v !== null && --n > 0; v = vmas.prev(v)) v.line.writeBy(t);
}

/** is_mergeable_vma() + contiguity: can `a` (below) and `b` (above) be one VMA? */
export function canMerge(a: Vma, b: Vma): boolean {
  if (a.end !== b.start || a.flags !== b.flags) return false;
  // File-backed VMAs arrive with the page-cache model; until then only anonymous ones merge.
  if (a.file !== null || b.file !== null) return false;
  return anonVmaMergeable(a, b);
}

/**
 * mmap(2) (mm/util.c vm_mmap_pgoff()): do_mmap() under the mmap write lock; with `populate`
 * (MAP_POPULATE), mm_populate() after the write unlock, under the read lock (gup.ts). Returns
 * the address, or -errno.
 */
export function* sysMmap(th: Thread, length: number, prot: number, shared: boolean, file: File | null, populate = false): Code<number> {
  traceSysEnterMmap(th, length, prot, shared, file, populate);
  const addr = yield* vmMmapPgoff(th, length, prot, shared, file, populate);
  traceSysExitMmap(th, addr);
  return addr;
}

/** vm_mmap_pgoff() (mm/util.c): sysMmap's work between its tracepoints. */
function* vmMmapPgoff(th: Thread, length: number, prot: number, shared: boolean, file: File | null, populate: boolean): Code<number> {
  th.kfn = 'do_mmap';
  yield* syscallEnter(th);
  const t = th.t;
  const k = th.k;
  const mm = th.mm;
  const len = pageAlign(th, length);
  if (len <= 0) {
    syscallExit(th);
    return -EINVAL;
  }
  yield* mmapWriteLock(th);
  // get_unmapped_area() -> unmapped_area_topdown()
  t.cost(mm.vmas.depth() * k.costs.unmappedAreaLevelNs);
  // thp_get_unmapped_area() (6.7+): anonymous mappings of at least a PMD are PMD-aligned; from
  // 6.12 only those whose length is a multiple of it (__get_unmapped_area()'s IS_ALIGNED test).
  const span = k.geo.pteTableSpan;
  const align = k.opts.thpAnonAlign;
  const alignThp = file === null && !shared && k.opts.thp !== 'never' && (align === 'any' ? len >= span : align === 'pmd' && len % span === 0);
  const found = mm.vmas.unmappedAreaTopdown(alignThp ? len + span : len, MMAP_MIN_ADDR, mm.mmapBase);
  const addr = alignThp && found >= 0 ? Math.floor((found + span) / span) * span : found;
  if (addr < 0) {
    yield* mmapWriteUnlock(th);
    syscallExit(th);
    return -ENOMEM;
  }
  const flags = prot | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | (shared ? VM_SHARED : 0);
  const pgoff = file === null ? addr / k.pageSize : 0;
  // mmap_region() -> vma_merge() with the neighbours, else a new VMA.
  const vma = new Vma(k.vmaId(), addr, addr + len, flags, pgoff, file, k.line('vma'));
  const below = mm.vmas.find(addr - 1);
  const prev = below !== null && below.end === addr ? below : null;
  const above = mm.vmas.find(addr + len);
  const next = above !== null && above.start === addr + len ? above : null;
  if (prev !== null && canMerge(prev, vma)) {
    yield* k.spf.vmaWriteBegin(th, prev);
    prev.end = vma.end;
    yield* treeWrite(th, prev);
    yield* k.spf.vmaWriteEnd(th, prev);
    if (next !== null && canMerge(prev, next)) yield* mergeNext(th, prev, next);
  } else if (next !== null && canMerge(vma, next)) {
    yield* k.spf.vmaWriteBegin(th, next);
    next.start = vma.start;
    next.pgoff = vma.pgoff;
    yield* treeWrite(th, next);
    yield* k.spf.vmaWriteEnd(th, next);
  } else {
    t.cost(k.costs.vmaAllocNs);
    yield* vmaLink(th, vma);
  }
  yield* mmapWriteUnlock(th);
  if (populate) yield* mmPopulate(th, addr, len);
  syscallExit(th);
  return addr;
}

/** Fold `next` into `prev` (prev.end = next.end) and free next (__vma_adjust remove_next). */
export function* mergeNext(th: Thread, prev: Vma, next: Vma): Code {
  const spf = th.k.spf;
  yield* spf.vmaWriteBegin(th, prev);
  yield* spf.vmaWriteBegin(th, next);
  yield* vmaUnlink(th, next);
  yield* spf.vmaDetached(th, next);
  prev.end = next.end;
  anonVmaMerge(prev, next);
  th.t.cost(th.k.costs.vmaAllocNs);
  yield* treeWrite(th, prev);
  yield* spf.vmaWriteEnd(th, next);
  yield* spf.vmaWriteEnd(th, prev);
  yield* spf.vmaFree(th, next);
}

/** __split_vma(): split `vma` at `at`; returns the upper part (a new VMA in the tree). */
export function* splitVma(th: Thread, vma: Vma, at: number): Code<Vma> {
  const k = th.k;
  const upper = new Vma(k.vmaId(), at, vma.end, vma.flags, vma.pgoff + (at - vma.start) / k.pageSize, vma.file, k.line('vma'));
  anonVmaClone(upper, vma);
  yield* k.spf.vmaWriteBegin(th, vma);
  vma.end = at;
  th.t.cost(k.costs.vmaAllocNs);
  yield* vmaLink(th, upper);
  yield* k.spf.vmaWriteEnd(th, vma);
  return upper;
}

/** munmap(2). Returns 0 or -errno. */
export function* sysMunmap(th: Thread, addr: number, length: number): Code<number> {
  th.kfn = '__vm_munmap';
  traceSysEnterMunmap(th, addr, length);
  yield* syscallEnter(th);
  const len = pageAlign(th, length);
  if (addr % th.k.pageSize !== 0 || len <= 0) {
    syscallExit(th);
    return -EINVAL;
  }
  const end = addr + len;
  yield* mmapWriteLock(th);
  // __vm_munmap(..., downgrade): do_munmap() says whether it downgraded the lock (4.20+).
  if (yield* doMunmap(th, addr, end, th.k.opts.munmapDowngrade === true)) yield* th.mm.mmapLock.upRead(th.t);
  else yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

/**
 * mmap_write_downgrade(): the writer keeps the mmap lock for reading; the design's write section
 * ends here, as at an unlock (vma_end_write_all() of per-VMA locks, the sequence count's end).
 */
export function* mmapWriteDowngrade(th: Thread): Code {
  yield* th.k.spf.mmapWriteUnlocking(th, th.mm);
  yield* th.mm.mmapLock.downgradeWrite(th.t);
}

/**
 * do_munmap(): called with the mmap lock held for writing. With `downgrade` (munmap(2) on 4.20+,
 * __do_munmap()), the lock is downgraded to read once the VMAs are out of the tree, and the zap
 * and page-table freeing run under the read lock; true if it did so (the caller then up_read()s).
 */
export function* doMunmap(th: Thread, addr: number, end: number, downgrade = false): Code<boolean> {
  const mm = th.mm;
  let first = mm.vmas.find(addr);
  if (first === null || first.start >= end) return false;
  if (first.start < addr) first = yield* splitVma(th, first, addr);
  const last = mm.vmas.find(end - 1);
  if (last !== null && last.start < end && last.end > end) yield* splitVma(th, last, end);
  const victims = mm.vmas.range(addr, end);
  const prev = mm.vmas.prev(victims[0]);
  const next = mm.vmas.next(victims[victims.length - 1]);
  const spf = th.k.spf;
  // detach_vmas_to_be_unmapped(): each VMA is write-locked (a VMA write) before it leaves the
  // tree, and stays so while its pages are zapped.
  for (const v of victims) {
    yield* spf.vmaWriteBegin(th, v);
    yield* vmaUnlink(th, v);
    yield* spf.vmaDetached(th, v);
  }
  // Not next to a stack that could grow into the hole while the lock is only read-held (the
  // VM_GROWSDOWN check __do_munmap() gained with the downgrade's fixes).
  const downgraded = downgrade && !(next !== null && (next.flags & VM_GROWSDOWN) !== 0);
  if (downgraded) yield* mmapWriteDowngrade(th);
  // unmap_region(): zap the PTEs, free the page tables nobody else uses, flush, free the pages.
  let zapped = 0;
  for (const v of victims) zapped += yield* zapRange(th, v.start, v.end);
  for (const v of victims) yield* spf.vmaWriteEnd(th, v);
  const floor = prev !== null ? prev.end : 0;
  const ceiling = next !== null ? next.start : mm.taskSize + th.k.pageSize;
  const tables = freePgtables(th, mm, mm.pgd, 0, 0, addr, end, floor, ceiling);
  if (zapped > 0 || tables.length > 0) yield* flushTlbRange(th, Math.max(zapped, 1), mm, tables.length > 0);
  yield* tlbFinishMmu(th, tables);
  // remove_vma()
  for (const v of victims) {
    th.t.cost(th.k.costs.vmaAllocNs);
    yield* spf.vmaFree(th, v);
  }
  return downgraded;
}

/** zap_pte_range() over [start, end): clear PTEs table by table under each PTE lock. */
export function* zapRange(th: Thread, start: number, end: number): Code<number> {
  th.kfn = 'zap_pte_range';
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  const span = geo.pteTableSpan;
  const lastLvl = geo.levels - 1;
  let zapped = 0;
  for (let base = start - (start % span); base < end; base += span) {
    const pt = lookupPteTable(th.k.geo, th.mm.pgd, base);
    if (pt === null || pt.used === 0) continue;
    const lo = Math.max(start, base);
    const hi = Math.min(end, base + span);
    if (pt.huge) {
      if (lo === base && hi === base + span) {
        // zap_huge_pmd(): one PMD, one huge page freed straight to the buddy lists.
        let rss = 0;
        const hpfns: number[] = [];
        for (let j = 0; j < pt.ptes.length; j++) {
          const pfn = pt.ptes[j] >>> PTE_SHIFT;
          pt.ptes[j] = 0;
          if (pfn === ZERO_PFN) continue;
          rss--;
          pageRemoveRmap(k, pfn);
          if (--k.pages.refcount[pfn] === 0) hpfns.push(pfn);
        }
        pt.used = 0;
        pt.huge = false;
        zapped += pt.ptes.length;
        t.cost(4 * k.costs.zapPteNs);
        // add_mm_counter(mm, MM_ANONPAGES, -HPAGE_PMD_NR), under the PMD lock.
        if (rss !== 0) yield* addMmCounter(th, th.mm, rss);
        if (hpfns.length > 0) yield* k.alloc.freeHuge(th, hpfns);
        // The PMD goes back to none (the deposited table is freed), so a new fault may be huge.
        const slot = pmdSlot(th.k.geo, th.mm.pgd, base);
        if (slot !== null && slot.dir.entries[slot.i] === pt) {
          slot.dir.entries[slot.i] = null;
          slot.dir.used--;
          th.mm.pgtableGen++;
          // zap_deposited_table(): pte_free() + mm_dec_nr_ptes().
          k.dbg?.pgtableFreed(pt, t.clock);
          if (pt.pfn >= 0) {
            pgtableAccount(th, th.mm, -1);
            yield* pgtableFree(th, pt.pfn);
          }
        }
        continue;
      }
      yield* splitHugePmd(th, pt);
    }
    // The lock's fast path first: no generator made when it needs no sync and is free.
    if (!pt.ptl.lockFast(t)) yield* pt.ptl.lock(t);
    let rss = 0;
    // The PTE index of each page in turn (one table: it goes up by one a page), counted rather
    // than the address stepped: an address is a double, and this generator's loop kept it boxed,
    // a heap number made a page (page_fault1 on 16 CPUs: ~16 bytes a fault).
    const first = geo.index(lastLvl, lo);
    const last = first + Math.ceil((hi - lo) / k.pageSize);
    for (let i = first; i < last; i++) {
      const pte = pt.ptes[i];
      if (pte === 0) continue;
      pt.ptes[i] = 0;
      pt.used--;
      zapped++;
      t.cost(k.costs.zapPteNs);
      if ((pte & (PTE_PRESENT | PTE_HASHED)) === (PTE_PRESENT | PTE_HASHED)) t.cost(k.costs.hashFlushNs);
      const pfn = pte >>> PTE_SHIFT;
      if (isSwapEntry(pte)) {
        // free_swap_and_cache(): drop the entry's slot; the last one frees a cached page too.
        const cached = k.swap.put(pfn);
        if (cached >= 0 && --k.pages.refcount[cached] === 0) th.gather.push(cached);
        continue;
      }
      if ((pte & PTE_PRESENT) === 0 || pfn === ZERO_PFN) continue;
      rss--;
      pageRemoveRmap(k, pfn);
      if (--k.pages.refcount[pfn] === 0) th.gather.push(pfn);
    }
    // zap_pte_range()'s add_mm_rss_vec(): straight into mm->rss_stat, per PTE table, under its lock.
    if (rss !== 0 && !addMmCounterNow(th, th.mm, rss)) yield* addMmCounter(th, th.mm, rss);
    if (!pt.ptl.unlockFast(t)) yield* pt.ptl.unlock(t);
  }
  return zapped;
}

/**
 * tlb_finish_mmu(): free the gathered pages, whose last references the zap dropped (release_pages:
 * off the LRU in batches, then to the allocator), and the page tables unhooked from mm.
 */
export function* tlbFinishMmu(th: Thread, tables: readonly PgTable[], mm: MmStruct = th.mm): Code {
  const k = th.k;
  const pages = th.gather;
  if (pages.length > 0) yield* k.lru.remove(th, pages.length);
  for (let i = k.alloc.freePagesUntilDrain(th, pages, 0); i < pages.length; i = k.alloc.freePagesUntilDrain(th, pages, i + 1)) yield* k.alloc.drainPcp(th);
  pages.clear(); // its memory kept for the next unmap
  yield* pgtablesFree(th, mm, tables);
}

/**
 * exit_mmap(): the last user of the mm is gone: unmap every VMA, free the pages only it held
 * and the page tables. No mmap lock is needed any more (nobody else can reach the mm).
 */
export function* exitMmap(th: Thread): Code {
  th.kfn = 'exit_mmap';
  const mm = th.mm;
  const all = [...mm.vmas.all()];
  if (all.length === 0) return;
  let zapped = 0;
  for (const v of all) zapped += yield* zapRange(th, v.start, v.end);
  const tables = freePgtables(th, mm, mm.pgd, 0, 0, 0, mm.taskSize + th.k.pageSize, 0, mm.taskSize + th.k.pageSize);
  if (zapped > 0) th.t.cost(th.k.costs.tlbFlushAllNs);
  yield* tlbFinishMmu(th, tables);
  for (const v of all) {
    mm.vmas.remove(v);
    th.t.cost(th.k.costs.vmaAllocNs);
  }
}
