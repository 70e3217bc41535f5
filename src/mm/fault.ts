import { SYNC, type Code } from '../engine/engine.js';
import { EV } from '../events/catalog.js';
import type { Thread } from './kernel.js';
import { lookupPteTable, PtDir, PteTable } from './pgtable.js';
import { PG_ANON } from './page.js';
import { findGetPage, setPageDirty, type File } from './filemap.js';
import { isSwapEntry } from './swap.js';
import { doHugePmdAnonymousPage, doHugePmdWpPage, pmdAlloc, thpEligible, VM_FAULT_FALLBACK } from './huge_memory.js';
import type { Vma } from './vma.js';
import { flushTlbRange } from './tlb.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_TRIED, FAULT_FLAG_USER, FAULT_FLAG_VMA_LOCK, FAULT_FLAG_WRITE,
  PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE, SIGBUS, SIGKILL, SIGSEGV,
  VM_EXEC, VM_FAULT_ERROR, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS,
  VM_ACCESS_FLAGS, VM_FAULT_COMPLETED, VM_FAULT_SIGSEGV, VM_GROWSDOWN, VM_READ, VM_SHARED, VM_WRITE, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE, ZERO_PFN,
} from './types.js';

/**
 * The classic page-fault path, step by step as in arch/x86/mm/fault.c and mm/memory.c (4.17+):
 * trap -> perf/trace accounting -> [speculative attempt] -> mmap_read_lock -> find_vma ->
 * access_error -> handle_mm_fault -> page-table walk/allocation -> handle_pte_fault ->
 * do_anonymous_page / do_wp_page -> PTE set under the PTE lock -> unlock -> account.
 */

/** Why a user access ended in a signal (for the message the workload's user sees). */
export interface FaultOutcome {
  readonly signal: number;
  readonly detail: string;
}

/** TASK_RSS_EVENTS_THRESH: a task folds its RSS delta into mm->rss_stat every 64 updates. */
const TASK_RSS_EVENTS_THRESH = 64;

/**
 * do_user_addr_fault() (x86 __do_page_fault): one hardware exception at `addr`. Returns null when
 * the access can be retried by user space, or the signal it ends in.
 */
export function* doUserAddrFault(th: Thread, addr: number, write: boolean, ip: number): Code<FaultOutcome | null> {
  const t = th.t;
  const k = th.k;
  const c = k.costs;
  const mm = th.mm;
  t.enterKernel();
  t.cost(k.eng.jitter(c.trapEntryNs));
  k.eng.absorbIrq(t);

  // perf_sw_event(PERF_COUNT_SW_PAGE_FAULTS) and trace_page_fault_user() at entry.
  k.em.count(EV.PAGE_FAULTS, th);
  if (k.em.sampling(EV.PAGE_FAULT_USER)) {
    const pte = peekPte(th, addr);
    const err = X86_PF_USER | (write ? X86_PF_WRITE : 0) | (pte & PTE_PRESENT ? X86_PF_PROT : 0);
    k.em.hit(EV.PAGE_FAULT_USER, th, [addr, ip, err]);
  } else {
    k.em.count(EV.PAGE_FAULT_USER, th);
  }

  let flags = FAULT_FLAG_USER | FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (write ? FAULT_FLAG_WRITE : 0);
  let fault = VM_FAULT_RETRY;
  if (k.spf.faultWithoutMmapLock !== undefined) fault = yield* k.spf.faultWithoutMmapLock(th, addr, flags);

  let major = fault & VM_FAULT_MAJOR;
  while (fault & VM_FAULT_RETRY) {
    // lock_mm_and_find_vma(): mmap_read_lock, find_vma, access checks.
    if (!mm.mmapLock.downReadFast(t)) {
      // The sync down_read() would do first, here, one generator up (the hot path's usual wait).
      yield SYNC;
      if (!mm.mmapLock.downReadFast(t)) yield* mm.mmapLock.downRead(t);
    }
    // No sync of its own: the down_read() above just synced, and the walk is one step.
    const vma = k.opts.vmacache === 'none' ? findVmaLocked(th, addr) : yield* findVmaCached(th, addr);
    if (vma === null || (vma.start > addr && !(yield* expandStack(th, vma, addr)))) {
      yield* mm.mmapLock.upRead(t);
      return finishSignal(th, SIGSEGV, `no mapping at 0x${addr.toString(16)}`);
    }
    if (accessError(write, vma)) {
      yield* mm.mmapLock.upRead(t);
      return finishSignal(th, SIGSEGV, `${write ? 'write' : 'read'} to ${vma.toString()} at 0x${addr.toString(16)}`);
    }
    // handle_mm_fault(), its common anonymous case one generator up.
    const vmf = handleMmFaultAnonFast(th, vma, addr, flags);
    fault = vmf !== null ? yield* doAnonymousPage(th, vmf) : yield* handleMmFaultWalked(th, vma, addr, flags);
    major |= fault & VM_FAULT_MAJOR;
    if (fault & VM_FAULT_RETRY) {
      // The handler dropped the mmap lock; go round again with FAULT_FLAG_TRIED.
      flags |= FAULT_FLAG_TRIED;
      flags &= ~FAULT_FLAG_ALLOW_RETRY;
      continue;
    }
    // VM_FAULT_COMPLETED: done, and the handler already released the lock.
    if ((fault & VM_FAULT_COMPLETED) === 0 && !mm.mmapLock.upReadFast(t)) yield* mm.mmapLock.upRead(t);
  }

  if (fault & VM_FAULT_ERROR) {
    if (fault & VM_FAULT_OOM) return finishSignal(th, SIGKILL, 'out of memory (the model\'s memory limit)');
    if (fault & VM_FAULT_SIGBUS) return finishSignal(th, SIGBUS, `bus error at 0x${addr.toString(16)}`);
    if (fault & VM_FAULT_SIGSEGV) return finishSignal(th, SIGSEGV, `access error at 0x${addr.toString(16)}`);
  }
  // Per-task and perf accounting of a completed fault (mm_account_fault()).
  if (major || flags & FAULT_FLAG_TRIED) {
    th.majFlt++;
    k.em.count(EV.MAJOR_FAULTS, th);
  } else {
    th.minFlt++;
    k.em.count(EV.MINOR_FAULTS, th);
  }
  t.cost(c.trapExitNs);
  t.exitKernel();
  return null;
}

function finishSignal(th: Thread, signal: number, detail: string): FaultOutcome {
  th.t.cost(th.k.costs.trapExitNs);
  th.t.exitKernel();
  return { signal, detail };
}

/** stack_guard_gap: 256 pages (1 MiB with 4 KiB pages) must stay free below a stack. */
const STACK_GUARD_GAP_PAGES = 256;
/** RLIMIT_STACK's usual soft limit (ulimit -s 8192). */
const RLIMIT_STACK = 8 * 1024 * 1024;

/**
 * expand_stack() -> expand_downwards() for a fault below a VM_GROWSDOWN VMA, under the mmap
 * lock held for reading (as until 6.5) and page_table_lock: the VMA's start moves down to the
 * faulting page, keeping the guard gap to the VMA below. False if it cannot grow there.
 */
function* expandStack(th: Thread, vma: Vma, addr: number): Code<boolean> {
  if ((vma.flags & VM_GROWSDOWN) === 0) return false;
  const k = th.k;
  const ps = k.pageSize;
  const newStart = addr - (addr % ps);
  // RLIMIT_STACK (8 MiB by default) bounds the stack's size.
  if (vma.end - newStart > RLIMIT_STACK) return false;
  // The guard gap is kept to the VMA below unless that is another stack or PROT_NONE.
  const below = th.mm.vmas.prev(vma);
  const guarded = below !== null && (below.flags & VM_GROWSDOWN) === 0 && (below.flags & VM_ACCESS_FLAGS) !== 0;
  if (below !== null && newStart < below.end + (guarded ? STACK_GUARD_GAP_PAGES * ps : 0)) return false;
  if (vma.anonVma === null) yield* anonVmaPrepare(th, vma);
  yield* th.mm.pageTableLock.lock(th.t);
  if (vma.start > newStart) {
    yield* k.spf.anonVmaAttach(th, vma, () => {
      vma.pgoff -= (vma.start - newStart) / ps;
      vma.start = newStart;
    });
    th.t.stall(vma.line.write(th.t.cpu, th.t.clock));
  }
  yield* th.mm.pageTableLock.unlock(th.t);
  return true;
}

/** access_error(): does the VMA allow this access? */
export function accessError(write: boolean, vma: Vma): boolean {
  if (write) return (vma.flags & VM_WRITE) === 0;
  return (vma.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0;
}

/** find_vma(): walk the VMA tree, paying per level and reading each node's line. */
export function* findVma(th: Thread, addr: number): Code<Vma | null> {
  yield SYNC;
  return findVmaLocked(th, addr);
}

/** find_vma() for a caller that has just synced. */
export function findVmaLocked(th: Thread, addr: number): Vma | null {
  const t = th.t;
  let levels = 0;
  let lineCost = 0;
  const cpu = t.cpu;
  const now = t.clock;
  const v = th.mm.vmas.find(addr, (n) => {
    levels++;
    lineCost += n.line.read(cpu, now);
  });
  t.cost(levels * th.k.costs.vmaLookupLevelNs);
  t.stall(lineCost);
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
  yield SYNC;
  if (mode === 'mm') t.stall(mm.mmapCacheLine.read(t.cpu, t.clock));
  const hit = mode === 'mm' ? mm.mmapCache : th.vmacache;
  t.cost(th.k.costs.vmaLookupLevelNs);
  if (hit !== null && hit.attached && hit.start <= addr && addr < hit.end) return hit;
  yield SYNC; // the walk reads the tree's lines
  const vma = findVmaLocked(th, addr);
  if (vma !== null) {
    if (mode === 'task') th.vmacache = vma;
    else if (vma !== mm.mmapCache) {
      yield SYNC;
      t.stall(mm.mmapCacheLine.write(t.cpu, t.clock));
      mm.mmapCache = vma;
    }
  }
  return vma;
}

/** The PTE the MMU would see at addr (0 if no table), without costs: for trace fields. */
function peekPte(th: Thread, addr: number): number {
  const pt = leafFor(th, addr);
  return pt === null ? 0 : pt.ptes[th.k.geo.index(th.k.geo.levels - 1, addr)];
}

/** The PTE table mapping addr, as a user-mode access finds it (cached per thread). */
export function leafFor(th: Thread, addr: number): PteTable | null {
  const geo = th.k.geo;
  const base = addr - (addr % geo.pteTableSpan);
  if (th.leafBase === base && th.leafGen === th.mm.pgtableGen && th.leaf !== null) return th.leaf;
  const pt = lookupPteTable(geo, th.mm.pgd, addr);
  if (pt !== null) {
    th.leaf = pt;
    th.leafBase = base;
    th.leafGen = th.mm.pgtableGen;
  }
  return pt;
}

/**
 * struct vm_fault: what one fault knows as it goes down the handlers. A speculative fault carries
 * `spec`, the design's commit check: the PTE lock is then taken through it (pte_map_lock), and
 * handlers answer VM_FAULT_RETRY where they cannot work without the mmap lock.
 */
export interface Vmf {
  readonly vma: Vma;
  readonly addr: number;
  readonly flags: number;
  readonly pt: PteTable;
  readonly idx: number;
  /** The PTE as read before taking the PTE lock (vmf->orig_pte). */
  orig: number;
  readonly spec: SpecCommit | null;
}

/** A design's commit point: take the PTE lock only if the speculation still holds. */
export interface SpecCommit {
  /** pte_map_lock()/pte_spinlock(): true with the PTE lock held, false to abort (no lock held). */
  pteMapLock(th: Thread, vmf: Vmf): Code<boolean>;
  /** The handler being entered ('anon', 'wp', 'pte'), for designs that count attempts per handler. */
  enter?(th: Thread, handler: 'anon' | 'wp' | 'pte'): void;
  /** The handler needs an anon_vma the VMA does not have yet (anon_vma_prepare needs the mmap lock). */
  noAnonVma?(th: Thread): void;
  /** The PTE is a swap entry: do_swap_page() is not done speculatively. */
  noSwap?(th: Thread): void;
}

/** pte_offset_map_lock() for the classic path, pte_map_lock() for a speculative one. */
function* pteMapLock(th: Thread, vmf: Vmf): Code<boolean> {
  if (vmf.spec !== null) return yield* vmf.spec.pteMapLock(th, vmf);
  if (!vmf.pt.ptl.lockFast(th.t)) yield* vmf.pt.ptl.lock(th.t);
  return true;
}

function* pteUnlock(th: Thread, vmf: Vmf): Code {
  if (!vmf.pt.ptl.unlockFast(th.t)) yield* vmf.pt.ptl.unlock(th.t);
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
 * it, and handleMmFaultWalked() walks (and charges) itself.
 */
function handleMmFaultAnonFast(th: Thread, vma: Vma, addr: number, flags: number): Vmf | null {
  th.k.em.count(EV.PGFAULT, th);
  if (!vma.isAnonymous()) return null;
  const pt = pteWalkPeek(th, addr);
  if (pt === null || pt.huge) return null;
  const idx = th.k.geo.index(th.k.geo.levels - 1, addr);
  if (pt.ptes[idx] !== 0) return null;
  chargeWalk(th);
  return { vma, addr, flags, pt, idx, orig: 0, spec: null };
}

/** handle_mm_fault() after the PGFAULT count: the general case. */
function* handleMmFaultWalked(th: Thread, vma: Vma, addr: number, flags: number): Code<number> {
  // The lockless walk needs no sync: a level it finds missing is populated under
  // page_table_lock (pteAlloc syncs and rechecks), and a PTE it reads is rechecked under its lock.
  let pt = pteWalk(th, addr);
  if (pt === null && thpEligible(th, vma, addr)) {
    // create_huge_pmd(): an empty PMD in a THP-eligible range.
    const pmd = yield* pmdAlloc(th, addr);
    if (pmd === null) return VM_FAULT_OOM;
    if (pmd.dir.entries[pmd.i] === null) {
      const prepare = function* (): Code {
        if (vma.anonVma === null) yield* anonVmaPrepare(th, vma);
      };
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
  return lookupPteTable(th.k.geo, th.mm.pgd, addr);
}

/** The cost of a software walk from the pgd down to the PTE table. */
function chargeWalk(th: Thread): void {
  th.t.cost((th.k.geo.levels - 1) * th.k.costs.pgtableLevelNs);
}

/** pgd_offset / p4d_alloc / pud_alloc / pmd_alloc, then pte_alloc: walk, populating missing levels. */
function* pteAlloc(th: Thread, addr: number): Code<PteTable | null> {
  const pmd = yield* pmdAlloc(th, addr);
  if (pmd === null) return null;
  const k = th.k;
  const geo = k.geo;
  th.t.cost(k.costs.pgtableLevelNs);
  const made = yield* populateLevel(th, pmd.dir, pmd.i, () => new PteTable(k.eng, geo.entries[geo.levels - 1], addr - (addr % geo.pteTableSpan)));
  return made as PteTable | null;
}

/**
 * __pXd_alloc(): if entry i of dir is empty, allocate and clear a table page, then populate the
 * entry under page_table_lock unless another thread beat us to it (then free ours). Returns the
 * entry's table, or null when memory is exhausted.
 */
export function* populateLevel(th: Thread, dir: PtDir, i: number, make: () => PtDir | PteTable): Code<PtDir | PteTable | null> {
  const existing = dir.entries[i];
  if (existing !== null) return existing;
  const t = th.t;
  const k = th.k;
  const pfn = yield* k.alloc.allocPage(th);
  if (pfn < 0) return null;
  t.cost(k.costs.pgtableAllocNs);
  const child = make();
  yield* th.mm.pageTableLock.lock(t);
  let next = dir.entries[i];
  if (next === null) {
    dir.entries[i] = child;
    dir.used++;
    child.pfn = pfn;
    next = child;
  }
  yield* th.mm.pageTableLock.unlock(t);
  if (next !== child) {
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
  }
  return next;
}

/** handle_pte_fault() */
export function* handlePteFault(th: Thread, vmf: Vmf): Code<number> {
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

/** Fold the task's RSS delta into mm->rss_stat every TASK_RSS_EVENTS_THRESH updates. */
function* addMmCounterFast(th: Thread, delta: number): Code {
  th.rssPending += delta;
  if (++th.rssEvents < TASK_RSS_EVENTS_THRESH) return;
  yield* syncMmRss(th);
}

/** sync_mm_rss() */
export function* syncMmRss(th: Thread): Code {
  const t = th.t;
  yield SYNC;
  t.stall(th.mm.rssLine.write(t.cpu, t.clock));
  th.mm.rss += th.rssPending;
  th.rssPending = 0;
  th.rssEvents = 0;
}

/** anon_vma_prepare(): attach an anon_vma to the VMA on its first anonymous fault. */
function* anonVmaPrepare(th: Thread, vma: Vma): Code {
  if (vma.anonVma !== null) return;
  const t = th.t;
  t.cost(th.k.costs.vmaAllocNs);
  yield* th.mm.pageTableLock.lock(t);
  if (vma.anonVma === null) {
    const av = th.k.newAnonVma();
    yield* th.k.spf.anonVmaAttach(th, vma, () => {
      vma.anonVma = av;
    });
    yield SYNC;
    t.stall(vma.line.write(t.cpu, t.clock));
  }
  yield* th.mm.pageTableLock.unlock(t);
}

/** do_anonymous_page() */
function* doAnonymousPage(th: Thread, vmf: Vmf): Code<number> {
  const t = th.t;
  const k = th.k;
  const { vma, pt, idx } = vmf;
  if (vma.flags & VM_SHARED) return VM_FAULT_SIGBUS; // shared anonymous memory is shmem
  vmf.spec?.enter?.(th, 'anon');
  if ((vmf.flags & FAULT_FLAG_WRITE) === 0) {
    // Map the shared zero page read-only.
    if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
    if (pt.ptes[idx] === 0) {
      pt.ptes[idx] = (ZERO_PFN << PTE_SHIFT) | PTE_PRESENT;
      pt.used++;
      t.cost(k.costs.pteSetNs);
    }
    yield* pteUnlock(th, vmf);
    return 0;
  }
  if (vma.anonVma === null) {
    // anon_vma_prepare() needs the mmap lock.
    if (vmf.spec !== null) {
      vmf.spec.noAnonVma?.(th);
      return VM_FAULT_RETRY;
    }
    yield* anonVmaPrepare(th, vma);
  }
  let pfn = k.alloc.allocPageFast(th);
  if (pfn === -2) pfn = yield* k.alloc.allocPage(th);
  if (pfn < 0) return VM_FAULT_OOM;
  t.cost(k.eng.jitter(k.pageSize / k.costs.clearBytesPerNs));
  // The uncontended classic case inline (no generator): the hot path of every anonymous fault.
  let locked = true;
  if (vmf.spec !== null) locked = yield* vmf.spec.pteMapLock(th, vmf);
  else if (!pt.ptl.lockFast(t)) {
    // spin_lock()'s sync here, without a generator of its own; then the lock proper.
    yield SYNC;
    if (!pt.ptl.lockFast(t)) yield* pt.ptl.lock(t);
  }
  if (!locked) {
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
    return VM_FAULT_RETRY;
  }
  if (pt.ptes[idx] !== 0) {
    yield* pteUnlock(th, vmf);
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
    return 0;
  }
  // inc_mm_counter_fast()
  th.rssPending++;
  if (++th.rssEvents >= TASK_RSS_EVENTS_THRESH) yield* syncMmRss(th);
  // page_add_new_anon_rmap() + lru_cache_add_active_or_unevictable()
  k.pages.mapcount[pfn] = 1;
  k.pages.flags[pfn] |= PG_ANON;
  t.cost(k.costs.anonRmapNs);
  if (k.lru.addFast(th, pfn)) yield* k.lru.drain(th);
  pt.ptes[idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | (vma.flags & VM_WRITE ? PTE_WRITE | PTE_DIRTY : 0);
  pt.used++;
  t.cost(k.costs.pteSetNs);
  if (!pt.ptl.unlockFast(t)) {
    yield SYNC; // spin_unlock()'s sync, without a generator of its own
    if (!pt.ptl.unlockFast(t)) yield* pt.ptl.unlock(t);
  }
  return 0;
}

/** do_wp_page(): a write to a present read-only PTE; entered with the PTE lock held. */
function* doWpPage(th: Thread, vmf: Vmf): Code<number> {
  const t = th.t;
  const k = th.k;
  const { vma, pt, idx, orig } = vmf;
  const old = orig >>> PTE_SHIFT;
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
  yield* pteUnlock(th, vmf);
  if (vma.anonVma === null) {
    if (vmf.spec !== null) {
      vmf.spec.noAnonVma?.(th);
      return VM_FAULT_RETRY;
    }
    yield* anonVmaPrepare(th, vma);
  }
  const pfn = yield* k.alloc.allocPage(th);
  if (pfn < 0) return VM_FAULT_OOM;
  t.cost(k.eng.jitter(old === ZERO_PFN ? k.pageSize / k.costs.clearBytesPerNs : k.pageSize / k.costs.copyBytesPerNs));
  if (!(yield* pteMapLock(th, vmf))) {
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
    return VM_FAULT_RETRY;
  }
  if (pt.ptes[idx] !== orig) {
    yield* pteUnlock(th, vmf);
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
    return 0;
  }
  k.pages.mapcount[pfn] = 1;
  k.pages.flags[pfn] |= PG_ANON;
  t.cost(k.costs.anonRmapNs);
  yield* k.lru.add(th, pfn);
  // ptep_clear_flush(): the old translation may be cached by other CPUs.
  yield* flushTlbRange(th, 1);
  pt.ptes[idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | PTE_WRITE | PTE_DIRTY;
  t.cost(k.costs.pteSetNs);
  if (old === ZERO_PFN) yield* addMmCounterFast(th, 1);
  yield* pteUnlock(th, vmf);
  if (old !== ZERO_PFN) {
    k.pages.mapcount[old]--;
    if (--k.pages.refcount[old] === 0) {
      yield* k.lru.remove(th, 1);
      yield* k.alloc.freePage(th, old);
    }
  }
  return 0;
}

/** fault_around_bytes: read faults map up to 64 KiB of cached pages around the fault. */
const FAULT_AROUND_BYTES = 64 * 1024;
/**
 * balance_dirty_pages_ratelimited() fast path: a per-CPU counter bump and a compare, ~50 cycles
 * (estimate: a this_cpu_inc and two loads, Intel optimization manual latencies).
 */
const DIRTY_RATELIMIT_NS = 20;
/**
 * balance_dirty_pages(): the dirty-threshold computation every ratelimit pages
 * (global_dirty_limits + wb stats, a few hundred instructions and some cache misses; estimate,
 * ~2000 cycles).
 */
const BALANCE_DIRTY_NS = 800;
/** ratelimit_pages: how many pages a task dirties between two balance_dirty_pages() calls. */
const RATELIMIT_PAGES = 32;

/** The page index of `addr` in the VMA's file. */
function fileIndex(th: Thread, vma: Vma, addr: number): number {
  return vma.pgoff + Math.floor((addr - vma.start) / th.k.pageSize);
}

/** do_fault(): a missing PTE in a file-backed VMA. */
function* doFault(th: Thread, vmf: Vmf): Code<number> {
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  if (!write) return yield* doReadFault(th, vmf);
  if ((vmf.vma.flags & VM_SHARED) === 0) return yield* doCowFault(th, vmf);
  return yield* doSharedFault(th, vmf);
}

/**
 * __do_fault(): get the file page (filemap_fault / shmem_fault). A read from storage drops the
 * mmap lock around the I/O when the fault may retry, and then answers VM_FAULT_RETRY.
 */
function* doFileFault(th: Thread, vmf: Vmf): Code<{ fault: number; pfn: number }> {
  const file = vmf.vma.file!;
  const index = fileIndex(th, vmf.vma, vmf.addr);
  if (index >= file.sizePages) return { fault: VM_FAULT_SIGBUS, pfn: -1 };
  let dropped = false;
  const io = function* (ns: number): Code {
    if (vmf.flags & FAULT_FLAG_ALLOW_RETRY) {
      // lock_page_or_retry() / maybe_unlock_mmap_for_io(): wait for the I/O without the lock.
      yield* th.mm.mmapLock.upRead(th.t);
      dropped = true;
    }
    yield* th.k.eng.sleep(th.t, ns, `I/O on ${file.name}`);
  };
  const r = yield* findGetPage(th, file, index, io);
  if (r.pfn < 0) return { fault: VM_FAULT_OOM, pfn: -1 };
  if (dropped) {
    th.k.pages.refcount[r.pfn]--;
    return { fault: VM_FAULT_RETRY | VM_FAULT_MAJOR, pfn: -1 };
  }
  return { fault: r.major ? VM_FAULT_MAJOR : 0, pfn: r.pfn };
}

/** finish_fault() / alloc_set_pte(): install the page under the PTE lock if the PTE is still none. */
function* finishFault(th: Thread, vmf: Vmf, pfn: number, bits: number, anon: boolean): Code<boolean> {
  const t = th.t;
  const k = th.k;
  if (!(yield* pteMapLock(th, vmf))) return false;
  if (vmf.pt.ptes[vmf.idx] !== 0) {
    yield* pteUnlock(th, vmf);
    return false;
  }
  k.pages.mapcount[pfn]++;
  if (anon) k.pages.flags[pfn] |= PG_ANON;
  t.cost(anon ? k.costs.anonRmapNs : k.costs.anonRmapNs / 2);
  vmf.pt.ptes[vmf.idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | bits;
  vmf.pt.used++;
  th.rssPending++;
  if (++th.rssEvents >= TASK_RSS_EVENTS_THRESH) yield* syncMmRss(th);
  t.cost(k.costs.pteSetNs);
  yield* pteUnlock(th, vmf);
  return true;
}

/** Drop the caller's reference to a page (put_page), freeing it if it was the last. */
function* putPage(th: Thread, pfn: number): Code {
  const k = th.k;
  if (--k.pages.refcount[pfn] === 0) yield* k.alloc.freePage(th, pfn);
}

/** PTE bits a file page gets on a read fault: writable only where no dirty tracking is needed. */
function readBits(vma: Vma): number {
  const file = vma.file!;
  return vma.flags & VM_SHARED && vma.flags & VM_WRITE && file.shmem ? PTE_WRITE : 0;
}

/** do_read_fault(): map cached pages around the fault first (do_fault_around), then the page itself. */
function* doReadFault(th: Thread, vmf: Vmf): Code<number> {
  const k = th.k;
  const { vma, pt } = vmf;
  const file = vma.file!;
  const around = Math.floor(FAULT_AROUND_BYTES / k.pageSize);
  if (around > 1) {
    // do_fault_around() -> filemap_map_pages(): cached pages in the aligned window, this VMA and
    // this PTE table, mapped under one PTE lock without faults of their own.
    const span = around * k.pageSize;
    const lo = Math.max(vma.start, vmf.addr - (vmf.addr % span), pt.base);
    const hi = Math.min(vma.end, lo + span, pt.base + k.geo.pteTableSpan);
    if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
    for (let a = lo; a < hi; a += k.pageSize) {
      const i = k.geo.index(k.geo.levels - 1, a);
      if (pt.ptes[i] !== 0) continue;
      const pfn = file.pages.get(fileIndex(th, vma, a));
      if (pfn === undefined) continue;
      k.pages.refcount[pfn]++;
      k.pages.mapcount[pfn]++;
      pt.ptes[i] = (pfn << PTE_SHIFT) | PTE_PRESENT | readBits(vma);
      pt.used++;
      th.rssPending++;
      th.t.cost(k.costs.pteSetNs + k.costs.anonRmapNs / 2);
    }
    yield* pteUnlock(th, vmf);
    if (pt.ptes[vmf.idx] !== 0) return 0;
  }
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) return r.fault;
  if (!(yield* finishFault(th, vmf, r.pfn, readBits(vma), false))) yield* putPage(th, r.pfn);
  return r.fault;
}

/** do_cow_fault(): a write to a private file mapping: copy the file page into a new anon page. */
function* doCowFault(th: Thread, vmf: Vmf): Code<number> {
  const k = th.k;
  if (vmf.vma.anonVma === null) yield* anonVmaPrepare(th, vmf.vma);
  const cow = yield* k.alloc.allocPage(th);
  if (cow < 0) return VM_FAULT_OOM;
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) {
    k.pages.refcount[cow] = 0;
    yield* k.alloc.freePage(th, cow);
    return r.fault;
  }
  th.t.cost(k.eng.jitter(k.pageSize / k.costs.copyBytesPerNs));
  yield* putPage(th, r.pfn);
  if (yield* finishFault(th, vmf, cow, PTE_WRITE | PTE_DIRTY, true)) {
    yield* k.lru.add(th, cow);
  } else {
    k.pages.refcount[cow] = 0;
    yield* k.alloc.freePage(th, cow);
  }
  return r.fault;
}

/** do_shared_fault(): a write to a shared file mapping: map the page writable and dirty it. */
function* doSharedFault(th: Thread, vmf: Vmf): Code<number> {
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) return r.fault;
  const file = vmf.vma.file!;
  if (!(yield* finishFault(th, vmf, r.pfn, PTE_WRITE | PTE_DIRTY, false))) {
    yield* putPage(th, r.pfn);
    return r.fault;
  }
  return r.fault | (yield* faultDirtySharedPage(th, vmf, file, r.pfn));
}

/**
 * fault_dirty_shared_page(): dirty the page; if it was clean (or the fs has page_mkwrite),
 * drop the mmap lock and balance dirty pages. Then the fault must tell the arch code the lock is
 * gone: VM_FAULT_RETRY (a second pass that finds the PTE done), or, with Peter Xu's 2022
 * change, VM_FAULT_COMPLETED.
 */
function* faultDirtySharedPage(th: Thread, vmf: Vmf, file: File, pfn: number): Code<number> {
  const dirtied = setPageDirty(th, file, pfn);
  const pageMkwrite = !file.shmem;
  if (!(dirtied || pageMkwrite)) return 0;
  if (vmf.spec !== null || (vmf.flags & FAULT_FLAG_ALLOW_RETRY) === 0) {
    yield* balanceDirtyPagesRatelimited(th, file);
    return 0;
  }
  yield* th.mm.mmapLock.upRead(th.t);
  yield* balanceDirtyPagesRatelimited(th, file);
  return th.k.opts.faultCompleted ? VM_FAULT_COMPLETED : VM_FAULT_RETRY;
}

/** balance_dirty_pages_ratelimited(): shmem is not dirty-accounted; disk files check every 32 pages. */
function* balanceDirtyPagesRatelimited(th: Thread, file: File): Code {
  if (file.shmem) return;
  th.t.cost(DIRTY_RATELIMIT_NS);
  if (++th.nrDirtied < RATELIMIT_PAGES) return;
  th.nrDirtied = 0;
  yield* balanceDirtyPages(th);
}

/**
 * balance_dirty_pages(): the flusher writes dirty file pages back at the storage bandwidth; a
 * task that finds more than dirty_ratio (20 %) of memory dirty pauses (io_schedule_timeout) for
 * as long as writeback needs to bring the dirty count back under the limit, at most 200 ms
 * (MAX_PAUSE). The mmap lock has already been dropped by the caller.
 */
function* balanceDirtyPages(th: Thread): Code {
  const t = th.t;
  const k = th.k;
  t.cost(BALANCE_DIRTY_NS);
  yield SYNC;
  const wb = k.writeback;
  // Writeback since the last look (the flusher starts once background_ratio, 10 %, is passed).
  const perNs = k.opts.writebackBytesPerNs / k.pageSize;
  const cleaned = Math.floor((t.clock - wb.last) * perNs);
  wb.last = t.clock;
  if (wb.dirty > k.pages.maxPages * 0.1) wb.dirty = Math.max(0, wb.dirty - cleaned);
  const limit = k.pages.maxPages * 0.2;
  if (wb.dirty <= limit) return;
  // MAX_PAUSE in mm/page-writeback.c: at most 200 ms per pause (HZ / 5).
  const pauseNs = Math.min(200e6, (wb.dirty - limit) / perNs);
  yield* k.eng.sleep(t, pauseNs, 'balance_dirty_pages');
}

/**
 * do_swap_page(): a swap entry. A page still in the swap cache is mapped again (a minor fault);
 * otherwise it is read from storage (a major fault: the mmap lock is dropped for the I/O and the
 * fault retried, lock_page_or_retry()). Not done speculatively, nor under a VMA lock (6.4 returns
 * VM_FAULT_RETRY there). The page leaves the swap cache once mapped (it is exclusive).
 */
function* doSwapPage(th: Thread, vmf: Vmf): Code<number> {
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
        k.pages.refcount[page] = 0;
        yield* k.alloc.freePage(th, page);
      } else {
        k.swap.cache.set(slot, page);
        k.pages.flags[page] |= PG_ANON;
        k.em.count(EV.PSWPIN, th);
      }
      return VM_FAULT_RETRY | VM_FAULT_MAJOR;
    }
    yield* k.eng.sleep(t, k.ioLatencyNs, 'swap-in I/O');
    k.swap.cache.set(slot, page);
    k.pages.flags[page] |= PG_ANON;
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
  k.pages.mapcount[pfn]++;
  const writeNow = !shared && (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (vmf.vma.flags & VM_WRITE) !== 0;
  vmf.pt.ptes[vmf.idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | (writeNow ? PTE_WRITE | PTE_DIRTY : 0);
  th.rssPending++;
  t.cost(k.costs.pteSetNs + k.costs.anonRmapNs);
  yield* pteUnlock(th, vmf);
  return major;
}
