import { SYNC, type Code } from '../engine/engine.js';
import type { Thread, MmStruct } from './kernel.js';
import { lookupPteTable, pmdSlot, PtDir, PteTable } from './pgtable.js';
import { Vma } from './vma.js';
import type { File } from './filemap.js';
import { splitHugePmd } from './huge_memory.js';
import { isSwapEntry } from './swap.js';
import { flushTlbRange } from './tlb.js';
import { syncMmRss } from './fault.js';
import {
  PTE_HASHED, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, VM_ACCESS_FLAGS, VM_HUGEPAGE, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE,
  VM_NOHUGEPAGE, VM_SHARED, VM_WRITE, ZERO_PFN,
} from './types.js';

/**
 * The VMA-changing system calls: mmap, munmap, mprotect (mm/mmap.c, mm/mprotect.c). Each takes
 * the mmap lock for writing, really splits and merges VMAs, tears down or rewrites PTEs, frees
 * pages and page tables, and shoots down TLBs.
 */

export const ENOMEM = 12;
export const EINVAL = 22;
/** mmap_min_addr default. */
const MMAP_MIN_ADDR = 0x10000;

function pageAlign(th: Thread, n: number): number {
  const ps = th.k.pageSize;
  return Math.ceil(n / ps) * ps;
}

/** Enter a syscall: mode switch and entry cost. */
function* syscallEnter(th: Thread): Code {
  th.t.enterKernel();
  th.t.cost(th.k.costs.syscallNs);
  th.k.eng.absorbIrq(th.t);
}

function syscallExit(th: Thread): void {
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
function* vmaLink(th: Thread, v: Vma): Code {
  yield* th.k.spf.treeModify(th, th.mm, () => th.mm.vmas.insert(v));
  yield* treeWrite(th, v);
}

/** __vma_rb_erase(): take out of the tree as the design requires. */
function* vmaUnlink(th: Thread, v: Vma): Code {
  yield* treeWrite(th, v);
  yield* th.k.spf.treeModify(th, th.mm, () => th.mm.vmas.remove(v));
}

/** Write the lines of the nodes an insert or erase rebalances (the tree path). */
function* treeWrite(th: Thread, around: Vma): Code {
  const t = th.t;
  yield SYNC;
  const vmas = th.mm.vmas;
  let n = vmas.depth();
  t.stall(around.line.write(t.cpu, t.clock));
  for (let v = vmas.prev(around); v !== null && --n > 0; v = vmas.prev(v)) t.stall(v.line.write(t.cpu, t.clock));
}

function anonMergeable(a: Vma, b: Vma): boolean {
  return a.anonVma === null || b.anonVma === null || a.anonVma === b.anonVma;
}

/** is_mergeable_vma() + contiguity: can `a` (below) and `b` (above) be one VMA? */
function canMerge(a: Vma, b: Vma): boolean {
  if (a.end !== b.start || a.flags !== b.flags) return false;
  // File-backed VMAs arrive with the page-cache model; until then only anonymous ones merge.
  if (a.file !== null || b.file !== null) return false;
  return anonMergeable(a, b);
}

/** mmap(2). Returns the address, or -errno. */
export function* sysMmap(th: Thread, length: number, prot: number, shared: boolean, file: File | null): Code<number> {
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
  // thp_get_unmapped_area(): anonymous mappings of at least a PMD are PMD-aligned.
  const span = k.geo.pteTableSpan;
  const alignThp = file === null && !shared && len >= span && k.opts.thp !== 'never';
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
  syscallExit(th);
  return addr;
}

/** Fold `next` into `prev` (prev.end = next.end) and free next (__vma_adjust remove_next). */
function* mergeNext(th: Thread, prev: Vma, next: Vma): Code {
  const spf = th.k.spf;
  yield* spf.vmaWriteBegin(th, prev);
  yield* spf.vmaWriteBegin(th, next);
  yield* vmaUnlink(th, next);
  yield* spf.vmaDetached(th, next);
  prev.end = next.end;
  if (prev.anonVma === null) prev.anonVma = next.anonVma;
  th.t.cost(th.k.costs.vmaAllocNs);
  yield* treeWrite(th, prev);
  yield* spf.vmaWriteEnd(th, next);
  yield* spf.vmaWriteEnd(th, prev);
  yield* spf.vmaFree(th, next);
}

/** __split_vma(): split `vma` at `at`; returns the upper part (a new VMA in the tree). */
function* splitVma(th: Thread, vma: Vma, at: number): Code<Vma> {
  const k = th.k;
  const upper = new Vma(k.vmaId(), at, vma.end, vma.flags, vma.pgoff + (at - vma.start) / k.pageSize, vma.file, k.line('vma'));
  upper.anonVma = vma.anonVma;
  yield* k.spf.vmaWriteBegin(th, vma);
  vma.end = at;
  th.t.cost(k.costs.vmaAllocNs);
  yield* vmaLink(th, upper);
  yield* k.spf.vmaWriteEnd(th, vma);
  return upper;
}

/** munmap(2). Returns 0 or -errno. */
export function* sysMunmap(th: Thread, addr: number, length: number): Code<number> {
  yield* syscallEnter(th);
  const t = th.t;
  const mm = th.mm;
  const len = pageAlign(th, length);
  if (addr % th.k.pageSize !== 0 || len <= 0) {
    syscallExit(th);
    return -EINVAL;
  }
  const end = addr + len;
  yield* mmapWriteLock(th);
  yield* doMunmap(th, addr, end);
  yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

/** do_munmap(): called with the mmap lock held for writing. */
export function* doMunmap(th: Thread, addr: number, end: number): Code {
  const mm = th.mm;
  let first = mm.vmas.find(addr);
  if (first === null || first.start >= end) return;
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
  // unmap_region(): zap the PTEs, free the page tables nobody else uses, flush, free the pages.
  let zapped = 0;
  for (const v of victims) zapped += yield* zapRange(th, v.start, v.end);
  for (const v of victims) yield* spf.vmaWriteEnd(th, v);
  const floor = prev !== null ? prev.end : 0;
  const ceiling = next !== null ? next.start : mm.taskSize + th.k.pageSize;
  const tables = freePgtables(th, mm.pgd, 0, 0, addr, end, floor, ceiling);
  if (zapped > 0 || tables.length > 0) yield* flushTlbRange(th, Math.max(zapped, 1));
  yield* tlbFinishMmu(th, tables);
  // remove_vma()
  for (const v of victims) {
    th.t.cost(th.k.costs.vmaAllocNs);
    yield* spf.vmaFree(th, v);
  }
}

/** zap_pte_range() over [start, end): clear PTEs table by table under each PTE lock. */
function* zapRange(th: Thread, start: number, end: number): Code<number> {
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  const span = geo.pteTableSpan;
  const lastLvl = geo.levels - 1;
  let zapped = 0;
  let rss = 0;
  for (let base = start - (start % span); base < end; base += span) {
    const pt = lookupPteTable(th.k.geo, th.mm.pgd, base);
    if (pt === null || pt.used === 0) continue;
    const lo = Math.max(start, base);
    const hi = Math.min(end, base + span);
    if (pt.huge) {
      if (lo === base && hi === base + span) {
        // zap_huge_pmd(): one PMD, one huge page freed straight to the buddy lists.
        const hpfns: number[] = [];
        for (let j = 0; j < pt.ptes.length; j++) {
          const pfn = pt.ptes[j] >>> PTE_SHIFT;
          pt.ptes[j] = 0;
          if (pfn === ZERO_PFN) continue;
          rss--;
          k.pages.mapcount[pfn]--;
          if (--k.pages.refcount[pfn] === 0) hpfns.push(pfn);
        }
        pt.used = 0;
        pt.huge = false;
        zapped += pt.ptes.length;
        t.cost(4 * k.costs.zapPteNs);
        if (hpfns.length > 0) yield* k.alloc.freeHuge(th, hpfns);
        // The PMD goes back to none (the deposited table is freed), so a new fault may be huge.
        const slot = pmdSlot(th.k.geo, th.mm.pgd, base);
        if (slot !== null && slot.dir.entries[slot.i] === pt) {
          slot.dir.entries[slot.i] = null;
          slot.dir.used--;
          th.mm.pgtableGen++;
          if (pt.pfn >= 0) {
            k.pages.refcount[pt.pfn] = 0;
            yield* k.alloc.freePage(th, pt.pfn);
          }
        }
        continue;
      }
      yield* splitHugePmd(th, pt);
    }
    yield* pt.ptl.lock(t);
    for (let a = lo; a < hi; a += k.pageSize) {
      const i = geo.index(lastLvl, a);
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
      k.pages.mapcount[pfn]--;
      if (--k.pages.refcount[pfn] === 0) th.gather.push(pfn);
    }
    yield* pt.ptl.unlock(t);
  }
  if (rss !== 0) {
    // add_mm_rss_vec(): straight into mm->rss_stat.
    th.rssPending += rss;
    yield* syncMmRss(th);
  }
  return zapped;
}

/**
 * free_pgd_range(): unhook the page tables that map only [start, end) within [floor, ceiling)
 * and return them for freeing after the TLB flush.
 */
function freePgtables(th: Thread, dir: PtDir, level: number, dirBase: number, start: number, end: number, floor: number, ceiling: number): (PtDir | PteTable)[] {
  const geo = th.k.geo;
  const span = geo.span[level];
  const out: (PtDir | PteTable)[] = [];
  const first = Math.floor(Math.max(start, dirBase) / span) * span;
  for (let base = first; base < end && base < dirBase + span * geo.entries[level]; base += span) {
    const i = geo.index(level, base);
    const child = dir.entries[i];
    if (child === null) continue;
    if (child instanceof PtDir) out.push(...freePgtables(th, child, level + 1, base, start, end, floor, ceiling));
    if (base >= floor && base + span <= ceiling && child.used === 0) {
      dir.entries[i] = null;
      dir.used--;
      out.push(child);
      th.mm.pgtableGen++;
    }
  }
  return out;
}

/** tlb_finish_mmu(): free the gathered pages (off the LRU first) and the unhooked page tables. */
function* tlbFinishMmu(th: Thread, tables: (PtDir | PteTable)[]): Code {
  const k = th.k;
  const pages = th.gather.splice(0);
  if (pages.length > 0) yield* k.lru.remove(th, pages.length);
  for (const pfn of pages) if (k.alloc.freePageFast(th, pfn)) yield* k.alloc.drainPcp(th);
  for (const tb of tables) {
    if (tb.pfn < 0) continue;
    k.pages.refcount[tb.pfn] = 0;
    yield* k.alloc.freePage(th, tb.pfn);
  }
}

/** mprotect(2). Returns 0 or -errno. */
export function* sysMprotect(th: Thread, addr: number, length: number, prot: number): Code<number> {
  yield* syscallEnter(th);
  const t = th.t;
  const mm = th.mm;
  const len = pageAlign(th, length);
  const end = addr + len;
  if (addr % th.k.pageSize !== 0) {
    syscallExit(th);
    return -EINVAL;
  }
  yield* mmapWriteLock(th);
  // The whole range must be mapped.
  let cursor = addr;
  for (const v of mm.vmas.range(addr, end)) {
    if (v.start > cursor) break;
    cursor = v.end;
  }
  if (cursor < end) {
    yield* mmapWriteUnlock(th);
    syscallExit(th);
    return -ENOMEM;
  }
  let first = mm.vmas.find(addr)!;
  if (first.start < addr) first = yield* splitVma(th, first, addr);
  const last = mm.vmas.find(end - 1)!;
  if (last.end > end) yield* splitVma(th, last, end);
  let changed = 0;
  const touched = mm.vmas.range(addr, end);
  for (const v of touched) {
    const newflags = (v.flags & ~VM_ACCESS_FLAGS) | prot;
    if (newflags === v.flags) continue;
    yield* th.k.spf.vmaWriteBegin(th, v);
    v.flags = newflags;
    yield SYNC;
    t.stall(v.line.write(t.cpu, t.clock));
    // change_protection(): write-protect PTEs when write permission goes away.
    if ((prot & VM_WRITE) === 0) changed += yield* changeProtection(th, v.start, v.end);
    yield* th.k.spf.vmaWriteEnd(th, v);
  }
  if (changed > 0) yield* flushTlbRange(th, changed);
  // vma_merge() of the changed VMAs with their neighbours.
  for (const v of touched) {
    if (!v.attached) continue;
    const p = mm.vmas.prev(v);
    if (p !== null && canMerge(p, v)) {
      yield* mergeNext(th, p, v);
      const n = mm.vmas.next(p);
      if (n !== null && canMerge(p, n)) yield* mergeNext(th, p, n);
      continue;
    }
    const n = mm.vmas.next(v);
    if (n !== null && canMerge(v, n)) yield* mergeNext(th, v, n);
  }
  yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

function* changeProtection(th: Thread, start: number, end: number): Code<number> {
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  const span = geo.pteTableSpan;
  let changed = 0;
  for (let base = start - (start % span); base < end; base += span) {
    const pt = lookupPteTable(th.k.geo, th.mm.pgd, base);
    if (pt === null || pt.used === 0) continue;
    if (pt.huge && (start > base || end < base + span)) yield* splitHugePmd(th, pt);
    yield* pt.ptl.lock(t);
    const hi = Math.min(end, base + span);
    for (let a = Math.max(start, base); a < hi; a += k.pageSize) {
      const i = geo.index(geo.levels - 1, a);
      const pte = pt.ptes[i];
      if ((pte & PTE_WRITE) === 0) continue;
      pt.ptes[i] = pte & ~PTE_WRITE;
      changed++;
      t.cost(k.costs.changePteNs);
    }
    yield* pt.ptl.unlock(t);
  }
  return changed;
}

/**
 * dup_mmap() for fork(2): copy every VMA into the child's mm and copy the page tables
 * (copy_page_range): private writable pages become read-only in both and shared by reference
 * (copy-on-write); shared mappings are copied as they are. The parent's mmap lock is held for
 * writing throughout, and each parent VMA is write-locked as a VMA writer (6.4 "fork: lock VMAs
 * of the parent process when forking").
 */
export function* dupMmap(th: Thread, child: MmStruct): Code {
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  yield* mmapWriteLock(th);
  let cowed = 0;
  for (const v of th.mm.vmas.all()) {
    yield* k.spf.vmaWriteBegin(th, v);
    const nv = new Vma(k.vmaId(), v.start, v.end, v.flags, v.pgoff, v.file, k.line('vma'));
    nv.anonVma = v.anonVma; // anon_vma_fork(): the child's chain links the parent's anon_vma
    child.vmas.insert(nv);
    t.cost(k.costs.vmaAllocNs);
    const cow = (v.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
    // copy_page_range(): "Don't copy ptes where a page fault will fill them correctly": a VMA
    // without anonymous pages (no anon_vma) is left for the child to fault in.
    if (v.anonVma === null) {
      yield* k.spf.vmaWriteEnd(th, v);
      continue;
    }
    for (let base = v.start - (v.start % geo.pteTableSpan); base < v.end; base += geo.pteTableSpan) {
      const src = lookupPteTable(th.k.geo, th.mm.pgd, base);
      if (src === null || src.used === 0) continue;
      const dst = yield* pteAllocFor(th, child, base);
      if (dst === null) break;
      yield* src.ptl.lock(t);
      const lo = Math.max(v.start, base);
      const hi = Math.min(v.end, base + geo.pteTableSpan);
      for (let a = lo; a < hi; a += k.pageSize) {
        const i = geo.index(geo.levels - 1, a);
        let pte = src.ptes[i];
        if (pte === 0) continue;
        const pfn = pte >>> PTE_SHIFT;
        if (cow && pte & PTE_WRITE) {
          pte &= ~PTE_WRITE;
          src.ptes[i] = pte;
          cowed++;
        }
        if (isSwapEntry(pte)) {
          // swap_duplicate(): the child's entry shares the slot.
          k.swap.dup(pfn);
          dst.ptes[i] = pte;
          dst.used++;
          continue;
        }
        dst.ptes[i] = pte & ~PTE_HASHED;
        dst.used++;
        if (pfn !== ZERO_PFN) {
          k.pages.refcount[pfn]++;
          k.pages.mapcount[pfn]++;
          child.rss++;
        }
        t.cost(k.costs.changePteNs);
      }
      yield* src.ptl.unlock(t);
    }
    yield* k.spf.vmaWriteEnd(th, v);
  }
  // The parent's write-protected PTEs may be cached in other CPUs' TLBs.
  if (cowed > 0) yield* flushTlbRange(th, cowed);
  yield* mmapWriteUnlock(th);
}

/** Walk `mm`'s page tables to addr's PTE table, allocating missing levels (for dup_mmap). */
function* pteAllocFor(th: Thread, mm: MmStruct, addr: number): Code<PteTable | null> {
  const k = th.k;
  const geo = k.geo;
  let dir: PtDir = mm.pgd;
  const last = geo.levels - 1;
  for (let lvl = 0; lvl < last; lvl++) {
    const i = geo.index(lvl, addr);
    let next = dir.entries[i];
    if (next === null) {
      const pfn = yield* k.alloc.allocPage(th);
      if (pfn < 0) return null;
      th.t.cost(k.costs.pgtableAllocNs);
      next = lvl + 1 === last ? new PteTable(k.eng, geo.entries[last], addr - (addr % geo.pteTableSpan)) : new PtDir(geo.entries[lvl + 1]);
      next.pfn = pfn;
      dir.entries[i] = next;
      dir.used++;
    }
    dir = next as PtDir;
  }
  return dir as unknown as PteTable;
}

/**
 * exit_mmap(): the last user of the mm is gone: unmap every VMA, free the pages only it held
 * and the page tables. No mmap lock is needed any more (nobody else can reach the mm).
 */
export function* exitMmap(th: Thread): Code {
  const mm = th.mm;
  const all = [...mm.vmas.all()];
  if (all.length === 0) return;
  let zapped = 0;
  for (const v of all) zapped += yield* zapRange(th, v.start, v.end);
  const tables = freePgtables(th, mm.pgd, 0, 0, 0, mm.taskSize + th.k.pageSize, 0, mm.taskSize + th.k.pageSize);
  if (zapped > 0) th.t.cost(th.k.costs.tlbFlushAllNs);
  yield* tlbFinishMmu(th, tables);
  for (const v of all) {
    mm.vmas.remove(v);
    th.t.cost(th.k.costs.vmaAllocNs);
  }
}

/**
 * madvise(MADV_DONTNEED): under the mmap lock for reading, zap the range's pages (the VMAs
 * stay); the next touch faults again. Returns 0 or -errno.
 */
export function* sysMadviseDontneed(th: Thread, addr: number, length: number): Code<number> {
  yield* syscallEnter(th);
  const t = th.t;
  const mm = th.mm;
  const end = addr + pageAlign(th, length);
  if (!mm.mmapLock.downReadFast(t)) yield* mm.mmapLock.downRead(t);
  let zapped = 0;
  for (const v of mm.vmas.range(addr, end)) {
    const lo = Math.max(addr, v.start);
    const hi = Math.min(end, v.end);
    yield* th.k.spf.unmapBegin(th, v);
    zapped += yield* zapRange(th, lo, hi);
    yield* th.k.spf.unmapEnd(th, v);
  }
  if (zapped > 0) yield* flushTlbRange(th, zapped);
  yield* tlbFinishMmu(th, []);
  if (!mm.mmapLock.upReadFast(t)) yield* mm.mmapLock.upRead(t);
  syscallExit(th);
  return 0;
}

/** madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE): set or clear VM_HUGEPAGE on the range (mmap write lock). */
export function* sysMadviseHuge(th: Thread, addr: number, length: number, huge: boolean): Code<number> {
  yield* syscallEnter(th);
  const mm = th.mm;
  const end = addr + pageAlign(th, length);
  yield* mmapWriteLock(th);
  let first = mm.vmas.find(addr);
  if (first !== null && first.start < addr && first.end > addr) first = yield* splitVma(th, first, addr);
  const last = mm.vmas.find(end - 1);
  if (last !== null && last.start < end && last.end > end) yield* splitVma(th, last, end);
  for (const v of mm.vmas.range(addr, end)) {
    yield* th.k.spf.vmaWriteBegin(th, v);
    v.flags = huge ? (v.flags | VM_HUGEPAGE) & ~VM_NOHUGEPAGE : (v.flags | VM_NOHUGEPAGE) & ~VM_HUGEPAGE;
    yield* th.k.spf.vmaWriteEnd(th, v);
  }
  yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

/**
 * mremap(2) with MREMAP_MAYMOVE of the whole VMA at `addr`: shrink by unmapping the tail, grow
 * in place when the next VMA leaves room, else move: a new VMA elsewhere, the page tables'
 * entries moved over (move_page_tables), the old VMA removed without freeing its pages.
 * Returns the (possibly new) address, or -errno.
 */
export function* sysMremap(th: Thread, addr: number, oldLength: number, newLength: number): Code<number> {
  yield* syscallEnter(th);
  const t = th.t;
  const k = th.k;
  const mm = th.mm;
  const oldLen = pageAlign(th, oldLength);
  const newLen = pageAlign(th, newLength);
  yield* mmapWriteLock(th);
  const done = function* (r: number): Code<number> {
    yield* mmapWriteUnlock(th);
    syscallExit(th);
    return r;
  };
  const vma = mm.vmas.find(addr);
  if (vma === null || vma.start > addr || addr + oldLen > vma.end || newLen <= 0) return yield* done(-EINVAL);
  if (newLen <= oldLen) {
    if (newLen < oldLen) yield* doMunmap(th, addr + newLen, addr + oldLen);
    return yield* done(addr);
  }
  const next = mm.vmas.next(vma);
  if (addr + oldLen === vma.end && (next === null || next.start >= addr + newLen) && addr + newLen <= mm.mmapBase) {
    // vma_adjust(): grow in place.
    yield* k.spf.vmaWriteBegin(th, vma);
    vma.end = addr + newLen;
    yield* treeWrite(th, vma);
    yield* k.spf.vmaWriteEnd(th, vma);
    return yield* done(addr);
  }
  // move_vma(): copy_vma() to a new place, move_page_tables(), then unmap the old range.
  const to = mm.vmas.unmappedAreaTopdown(newLen, MMAP_MIN_ADDR, mm.mmapBase);
  if (to < 0) return yield* done(-ENOMEM);
  const nv = new Vma(k.vmaId(), to, to + newLen, vma.flags, vma.file === null ? to / k.pageSize : vma.pgoff, vma.file, k.line('vma'));
  nv.anonVma = vma.anonVma;
  t.cost(k.costs.vmaAllocNs);
  yield* vmaLink(th, nv);
  const geo = k.geo;
  let moved = 0;
  yield* k.spf.vmaWriteBegin(th, vma);
  for (let a = addr; a < addr + oldLen; a += k.pageSize) {
    const src = lookupPteTable(th.k.geo, mm.pgd, a);
    if (src === null) continue;
    const i = geo.index(geo.levels - 1, a);
    const pte = src.ptes[i];
    if (pte === 0) continue;
    if (src.huge) yield* splitHugePmd(th, src);
    const dst = yield* pteAllocFor(th, mm, to + (a - addr));
    if (dst === null) break;
    yield* src.ptl.lock(t);
    src.ptes[i] = 0;
    src.used--;
    yield* src.ptl.unlock(t);
    yield* dst.ptl.lock(t);
    dst.ptes[geo.index(geo.levels - 1, to + (a - addr))] = pte;
    dst.used++;
    yield* dst.ptl.unlock(t);
    t.cost(k.costs.changePteNs);
    moved++;
  }
  if (moved > 0) yield* flushTlbRange(th, moved);
  yield* k.spf.vmaWriteEnd(th, vma);
  // The old range now maps nothing: unmapping it frees only page tables.
  yield* doMunmap(th, addr, addr + oldLen);
  return yield* done(to);
}
