import { SYNC, type Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Thread } from './kernel.js';
import { lookupPteTable, type PteTable } from './pgtable.js';
import { PG_ANON, putLruPage, putPage } from './page.js';
import { isSwapEntry, doSwapPage } from './swap.js';
import { doHugePmdAnonymousPage, doHugePmdWpPage, thpEligible, VM_FAULT_FALLBACK } from './huge_memory.js';
import { pmdAlloc, pteAlloc } from './pgalloc.js';
import { pageAddNewAnonRmap, pageRemoveRmap, vmfAnonPrepare } from './rmap.js';
import { addMmCounterFastSync } from './rss.js';
import { doFault, faultDirtySharedPage } from './do_fault.js';
import { pteMapLock, pteUnlock, type Vmf } from './vmf.js';
import type { Vma } from './vma.js';
import { flushTlbRange } from './tlb.js';
import { doAnonymousPage } from './do_anonymous_page.js';

export { doAnonymousPage, doAnonymousPageCall } from './do_anonymous_page.js';
import { vmfUse } from './debug_vm.js';
import {
  FAULT_FLAG_WRITE, PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE,
  VM_EXEC, VM_FAULT_OOM, VM_FAULT_RETRY, VM_READ, VM_SHARED, VM_WRITE, ZERO_PFN,
} from './types.js';

export type { SpecCommit, Vmf } from './vmf.js';

/**
 * The classic page-fault path of mm/memory.c (4.17+), below the arch entry (access.ts):
 * find_vma -> access_error -> handle_mm_fault -> page-table walk/allocation (pgalloc.ts) ->
 * handle_pte_fault -> do_anonymous_page / do_wp_page (file pages: do_fault.ts, swap entries:
 * swap.ts) -> PTE set under the PTE lock -> unlock.
 */

/** access_error(): does the VMA allow this access? */
export function accessError(write: boolean, vma: Vma): boolean {
  if (write) return (vma.flags & VM_WRITE) === 0;
  return (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

/** find_vma() for a caller that has just synced. */
export function findVmaLocked(th: Thread, addr: number): Vma | null {
  const t = th.t;
  const tree = th.mm.vmas;
  const v = tree.findReading(addr, t.cpu, t.clock);
  t.cost(tree.walkLevels * th.k.costs.vmaLookupLevelNs);
  t.stall(tree.walkLineNs);
  return v;
}

/**
 * find_vma() under the mmap lock, through the era's cache (kconfig `vmacache`):
 *  - `mm` (<= 3.14): mm->mmap_cache, one pointer for all threads, read on every lookup and
 *    written on every miss; it shares its line with the tree root (mm->mm_rb).
 *  - `task` (3.15-6.0, vmacache_find): a per-thread cache, no shared line.
 *  - `none` (6.1+, maple tree): the walk alone.
 * A cached VMA is used only while it is still in the tree and covers addr (the kernel's
 * invalidation, by NULLing the pointer or bumping mm->vmacache_seqnum, gives the same answers).
 */
export function* findVmaCached(th: Thread, addr: number): Code<Vma | null> {
  const mode = th.k.opts.vmacache;
  if (mode !== 'mm' && mode !== 'task') return findVmaLocked(th, addr);
  const t = th.t;
  const mm = th.mm;
  if (t.mustSync()) yield SYNC;
  if (mode === 'mm') mm.mmapCacheLine.readBy(t);
  const hit = mode === 'mm' ? mm.mmapCache : th.vmacache;
  t.cost(th.k.costs.vmaLookupLevelNs);
  if (hit !== null && hit.attached && hit.start <= addr && addr < hit.end) return hit;
  if (t.mustSync()) yield SYNC; // the walk reads the tree's lines
  const vma = findVmaLocked(th, addr);
  if (vma !== null) {
    if (mode === 'task') th.vmacache = vma;
    else if (vma !== mm.mmapCache) {
      if (t.mustSync()) yield SYNC;
      mm.mmapCacheLine.writeBy(t);
      mm.mmapCache = vma;
    }
  }
  return vma;
}

/**
 * handle_mm_fault(): count the fault (vmstat pgfault, as 4.17 counts it on every pass), then
 * __handle_mm_fault(): walk the page tables, allocating missing levels, and handle the PTE.
 */
export function* handleMmFault(th: Thread, vma: Vma, addr: number, flags: number): Code<number> {
  const vmf = handleMmFaultAnonFast(th, vma, addr, flags);
  if (vmf !== null) return yield* doAnonymousPage(th, vmf);
  return yield* handleMmFaultWalked(th, vma, addr, flags);
}

/**
 * The first steps of handle_mm_fault() without a generator: count the fault and look the page
 * tables up. When they end at an empty PTE of an anonymous VMA (the common first touch), charge
 * the walk and return the vm_fault for do_anonymous_page(); else return null without charging
 * it, and handleMmFaultWalked() walks (and charges) itself. `into`: a vm_fault of the caller's to
 * fill in, instead of a new one (the caller's fault ended before this one began).
 */
export function handleMmFaultAnonFast(th: Thread, vma: Vma, addr: number, flags: number, into: VmfSlot | null = null): Vmf | null {
  th.k.em.count(EV.PGFAULT, th);
  if (!vma.isAnonymous()) return null;
  const pt = pteWalkPeek(th, addr);
  if (pt === null || pt.huge) return null;
  const idx = th.k.geo.index(th.k.geo.levels - 1, addr);
  if (pt.ptes[idx] !== 0) return null;
  chargeWalk(th);
  if (into === null) return { vma, addr, flags, pt, idx, orig: 0, spec: null };
  into.vma = vma;
  into.addr = addr;
  into.flags = flags;
  into.pt = pt;
  into.idx = idx;
  into.orig = 0;
  return into;
}

/**
 * A vm_fault that one caller of handleMmFaultAnonFast() fills in again for each of its faults (the
 * do_user_addr_fault() frame of a touch loop): no object made a fault.
 */
export class VmfSlot implements Vmf {
  vma: Vma = null!;
  /** -0, a double, from the start: a small integer first would leave the field boxing every address stored (as DoUserAddrFault.addr). */
  addr = -0;
  flags = 0;
  pt: PteTable = null!;
  idx = 0;
  orig = 0;
  readonly spec = null;
}

/** handle_mm_fault() after the PGFAULT count: the general case. */
export function* handleMmFaultWalked(th: Thread, vma: Vma, addr: number, flags: number): Code<number> {
  // The lockless walk needs no sync: a level it finds missing is populated under
  // page_table_lock (pteAlloc syncs and rechecks), and a PTE it reads is rechecked under its lock.
  let pt = pteWalk(th, addr);
  if (pt === null && thpEligible(th, vma, addr)) {
    // create_huge_pmd(): an empty PMD in a THP-eligible range.
    const pmd = yield* pmdAlloc(th, addr);
    if (pmd === null) return VM_FAULT_OOM;
    if (pmd.dir.entries[pmd.i] === null) {
      const prepare = (): Code<number> => vmfAnonPrepare(th, vma, flags);
      const r = yield* doHugePmdAnonymousPage(th, vma, addr, flags, pmd.dir, pmd.i, prepare);
      if (r !== VM_FAULT_FALLBACK) return r;
    }
    pt = pteWalk(th, addr);
  }
  if (pt !== null && pt.huge) {
    const write = (flags & FAULT_FLAG_WRITE) !== 0;
    const pte = pt.ptes[th.k.geo.index(th.k.geo.levels - 1, addr)];
    if (!write || pte & PTE_WRITE) return 0; // huge_pmd_set_accessed()
    const pmd = yield* pmdAlloc(th, addr);
    if (pmd === null) return VM_FAULT_OOM;
    const r = yield* doHugePmdWpPage(th, vma, pmd.dir, pmd.i, pt);
    if (r !== VM_FAULT_FALLBACK) return r;
  }
  if (pt === null) pt = yield* pteAlloc(th, addr);
  if (pt === null) return VM_FAULT_OOM;
  const idx = th.k.geo.index(th.k.geo.levels - 1, addr);
  const vmf: Vmf = { vma, addr, flags, pt, idx, orig: pt.ptes[idx], spec: null };
  // handle_pte_fault()'s first case, dispatched here to save a generator on the hot path.
  if (vmf.orig === 0 && vma.isAnonymous()) return yield* doAnonymousPage(th, vmf);
  return yield* handlePteFault(th, vmf);
}

/** The walk of __handle_mm_fault when every level is present: the PTE table, or null. */
export function pteWalk(th: Thread, addr: number): PteTable | null {
  chargeWalk(th);
  return pteWalkPeek(th, addr);
}

/** The walk's result without its cost (pteWalk() is chargeWalk() + pteWalkPeek()). */
function pteWalkPeek(th: Thread, addr: number): PteTable | null {
  return pteTableOf(th, addr);
}

/**
 * The PTE table that maps addr (null if a level is missing), as lookupPteTable() finds it,
 * remembered per thread until the mm's page tables change (MmStruct.pgtableGen moves whenever a
 * table is freed, collapsed or split): the walk of user accesses and of the fault path.
 */
export function pteTableOf(th: Thread, addr: number): PteTable | null {
  const geo = th.k.geo;
  const base = geo.tableBase(addr);
  if (th.leafBase === base && th.leafGen === th.mm.pgtableGen && th.leaf !== null) return th.leaf;
  const pt = lookupPteTable(geo, th.mm.pgd, addr);
  if (pt !== null) {
    th.leaf = pt;
    th.leafBase = base;
    th.leafGen = th.mm.pgtableGen;
  }
  return pt;
}

/** The cost of a software walk from the pgd down to the PTE table. */
function chargeWalk(th: Thread): void {
  th.t.cost((th.k.geo.levels - 1) * th.k.costs.pgtableLevelNs);
}

/** handle_pte_fault() */
export function* handlePteFault(th: Thread, vmf: Vmf): Code<number> {
  vmfUse(th, vmf.vma, vmf.pt, vmf.addr, 'handle_pte_fault');
  const t = th.t;
  const orig = vmf.orig;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  if (orig === 0) {
    if (vmf.vma.isAnonymous()) return yield* doAnonymousPage(th, vmf);
    // do_fault(): a speculative fault cannot take file faults (no trace event: the series
    // returns RETRY silently here).
    if (vmf.spec !== null) return VM_FAULT_RETRY;
    return yield* doFault(th, vmf);
  }
  if (isSwapEntry(orig)) return yield* doSwapPage(th, vmf);
  vmf.spec?.enter?.(th, write && (orig & PTE_WRITE) === 0 ? 'wp' : 'pte');
  if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
  if (vmf.pt.ptes[vmf.idx] !== orig) {
    // Another thread changed the PTE meanwhile: nothing left to do.
    yield* pteUnlock(th, vmf);
    return 0;
  }
  if (write && (orig & PTE_WRITE) === 0) return yield* doWpPage(th, vmf);
  // pte_mkyoung / pte_mkdirty through ptep_set_access_flags (a spurious or access-bit fault).
  if (write) vmf.pt.ptes[vmf.idx] = orig | PTE_DIRTY;
  t.cost(th.k.costs.pteSetNs);
  yield* pteUnlock(th, vmf);
  return 0;
}

/** do_wp_page(): a write to a present read-only PTE; entered with the PTE lock held. */
function* doWpPage(th: Thread, vmf: Vmf): Code<number> {
  const t = th.t;
  const k = th.k;
  const { vma, pt, idx, orig } = vmf;
  const old = orig >>> PTE_SHIFT;
  th.kfn = 'do_wp_page';
  if (vma.flags & VM_SHARED && vma.file !== null) {
    // wp_page_shared(): a write to a clean shared file page: make it writable, dirty it.
    if (vmf.spec !== null) {
      yield* pteUnlock(th, vmf);
      return VM_FAULT_RETRY;
    }
    pt.ptes[idx] = orig | PTE_WRITE | PTE_DIRTY;
    t.cost(k.costs.pteSetNs);
    yield* pteUnlock(th, vmf);
    return yield* faultDirtySharedPage(th, vmf, vma.file, old);
  }
  if (old !== ZERO_PFN && k.pages.flags[old] & PG_ANON && k.pages.refcount[old] === 1) {
    // wp_page_reuse(): the page is ours alone, just make the PTE writable.
    pt.ptes[idx] = orig | PTE_WRITE | PTE_DIRTY;
    t.cost(k.costs.pteSetNs);
    yield* pteUnlock(th, vmf);
    return 0;
  }
  // wp_page_copy(): drop the lock, get a new page (zeroed when copying the zero page), retake.
  th.kfn = 'wp_page_copy';
  yield* pteUnlock(th, vmf);
  if (vma.anonVma === null) {
    if (vmf.spec !== null) {
      vmf.spec.noAnonVma?.(th);
      return VM_FAULT_RETRY;
    }
    const r = yield* vmfAnonPrepare(th, vma, vmf.flags);
    if (r !== 0) return r;
  }
  const pfn = yield* k.alloc.allocPage(th);
  if (pfn < 0) return VM_FAULT_OOM;
  t.cost(k.eng.jitter(old === ZERO_PFN ? k.pageSize / k.costs.clearBytesPerNs : k.pageSize / k.costs.copyBytesPerNs));
  if (k.contents !== null) {
    // __wp_page_copy_user(): the copy is made before the PTE lock is taken again.
    if (old === ZERO_PFN) k.contents.clear(th, pfn, 'wp_page_copy');
    else k.contents.copy(th, old, pfn, 'wp_page_copy');
  }
  if (!(yield* pteMapLock(th, vmf))) {
    yield* putPage(th, pfn);
    return VM_FAULT_RETRY;
  }
  // pte_same(): another fault may have replaced the PTE meanwhile (not under the test mutant).
  if (pt.ptes[idx] !== orig && k.opts.mutant !== 'wp-copy-no-recheck') {
    yield* pteUnlock(th, vmf);
    yield* putPage(th, pfn);
    return 0;
  }
  pageAddNewAnonRmap(th, pfn);
  yield* k.lru.add(th, pfn);
  // ptep_clear_flush(): the old translation may be cached by other CPUs.
  yield* flushTlbRange(th, 1);
  pt.ptes[idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | PTE_WRITE | PTE_DIRTY;
  t.cost(k.costs.pteSetNs);
  // inc_mm_counter_fast(MM_ANONPAGES) when no page was mapped (the zero page is none).
  if (old === ZERO_PFN) yield* addMmCounterFastSync(th, 1);
  yield* pteUnlock(th, vmf);
  if (old !== ZERO_PFN) {
    // page_remove_rmap(), then put_page() of an LRU page (release_pages: off the LRU, freed).
    pageRemoveRmap(k, old);
    yield* putLruPage(th, old);
  }
  return 0;
}
