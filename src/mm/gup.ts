import { SYNC, type Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { findVmaLocked, handleMmFault } from './fault.js';
import type { Vma } from './vma.js';
import {
  EFAULT, EINVAL, ENOMEM, FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_WRITE, PTE_PRESENT, PTE_WRITE,
  VM_ACCESS_FLAGS, VM_FAULT_COMPLETED, VM_FAULT_ERROR, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_SHARED, VM_WRITE,
} from './types.js';

/**
 * Populating a range of an address space from the kernel (mm/gup.c, 6.x): MAP_POPULATE's
 * __mm_populate() and MADV_POPULATE_(READ|WRITE)'s faultin_page_range(). Both run
 * __get_user_pages() under the mmap lock held for reading: per page, follow_page_mask() looks the
 * PTE up under its lock, and a page that is missing (or read-only for a write) is faulted in by
 * faultin_page() -> handle_mm_fault() with no pt_regs and without FAULT_FLAG_USER.
 *
 * Such a fault is counted as mm_account_fault() (mm/memory.c, 5.9+) counts a GUP fault: vmstat
 * pgfault (handle_mm_fault counts it on every pass) and the task's min_flt / maj_flt, but no
 * perf page-faults / minor-faults / major-faults event and no exceptions:page_fault_user
 * tracepoint: those belong to the arch fault handler, which a GUP fault never enters. A design's
 * speculative attempt is not made either (it is the arch handler's too).
 */

/** Per-page work of one __get_user_pages() call: how far it got, and why it stopped. */
interface GupResult {
  /** Pages done from the start. */
  readonly pages: number;
  /** 0, or -errno (EFAULT for a fault that ended in an error, ENOMEM for out of memory). */
  readonly err: number;
  /** Whether the mmap lock is still held (a fault answered VM_FAULT_RETRY and dropped it). */
  readonly locked: boolean;
}

/** Faults one page may take before the model calls it a bug (the kernel would loop for ever). */
const MAX_FAULTS_PER_PAGE = 64;

/**
 * __get_user_pages() over [start, end) of `vma`, with the mmap lock held for reading; FOLL_WRITE
 * when `write`. FOLL_UNLOCKABLE: a fault may drop the lock (VM_FAULT_RETRY), which ends the call.
 */
function* getUserPages(th: Thread, vma: Vma, start: number, end: number, write: boolean): Code<GupResult> {
  const t = th.t;
  const k = th.k;
  const ps = k.pageSize;
  const geo = k.geo;
  let faults = 0;
  for (let addr = start; addr < end; ) {
    // cond_resched() per page; the PTE lookup reads the page tables (shared state).
    if (t.mustSync()) yield SYNC;
    // follow_page_mask() -> follow_page_pte(): a walk to the PTE, read under its lock.
    t.cost((geo.levels - 1) * k.costs.pgtableLevelNs);
    const pt = lookupPteTable(geo, th.mm.pgd, addr);
    let found = false;
    if (pt !== null) {
      if (!pt.ptl.lockFast(t)) {
        if (t.mustSync()) yield SYNC;
        if (!pt.ptl.lockFast(t)) yield* pt.ptl.lock(t);
      }
      const pte = pt.ptes[geo.index(geo.levels - 1, addr)];
      found = (pte & PTE_PRESENT) !== 0 && (!write || (pte & PTE_WRITE) !== 0);
      if (!pt.ptl.unlockFast(t)) {
        if (t.mustSync()) yield SYNC;
        if (!pt.ptl.unlockFast(t)) yield* pt.ptl.unlock(t);
      }
    }
    if (found) {
      addr += ps;
      faults = 0;
      continue;
    }
    if (++faults > MAX_FAULTS_PER_PAGE) throw new Error(`populate at 0x${addr.toString(16)} keeps faulting`);
    // faultin_page(): handle_mm_fault(vma, address, fault_flags, NULL).
    const flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | (write ? FAULT_FLAG_WRITE : 0);
    const fault = yield* handleMmFault(th, vma, addr, flags);
    // The lock was dropped: VM_FAULT_RETRY, or VM_FAULT_COMPLETED (done, and released). The caller
    // takes it again and comes back to this page (follow_page_mask then finds it, if completed).
    if (fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) return { pages: (addr - start) / ps, err: 0, locked: false };
    if (fault & VM_FAULT_ERROR) return { pages: (addr - start) / ps, err: fault & VM_FAULT_OOM ? -ENOMEM : -EFAULT, locked: true };
    // mm_account_fault() with regs == NULL: the task's counter only.
    if (fault & VM_FAULT_MAJOR) th.majFlt++;
    else th.minFlt++;
    // Round again: follow_page_mask() now finds the page (or faults once more).
  }
  return { pages: (end - start) / ps, err: 0, locked: true };
}

/** mmap_read_lock() (killable in the kernel; no signal can arrive here in the model). */
export function* mmapReadLock(th: Thread): Code {
  if (!th.mm.mmapLock.downReadFast(th.t)) yield* th.mm.mmapLock.downRead(th.t);
}

export function* mmapReadUnlock(th: Thread): Code {
  if (!th.mm.mmapLock.upReadFast(th.t)) yield* th.mm.mmapLock.upRead(th.t);
}

/**
 * mm_populate() -> __mm_populate(start, len, ignore_errors = 1): MAP_POPULATE, after do_mmap()
 * and the mmap write unlock. VMA by VMA under the mmap read lock, populate_vma_page_range():
 * FOLL_WRITE for a private writable VMA (to break copy-on-write now), a read fault for a shared
 * one (no dirtying for nothing); an inaccessible (PROT_NONE) VMA is skipped, as check_vma_flags()
 * refuses it and the error is ignored. A fault that drops the lock: take it again and go on.
 */
export function* mmPopulate(th: Thread, start: number, len: number): Code {
  const ps = th.k.pageSize;
  const end = start + len;
  const kfn = th.kfn;
  th.kfn = '__mm_populate';
  let locked = false;
  let vma: Vma | null = null;
  for (let nstart = start; nstart < end; ) {
    if (!locked) {
      yield* mmapReadLock(th);
      locked = true;
      vma = findVmaLocked(th, nstart);
    } else if (vma !== null && nstart >= vma.end) {
      vma = findVmaLocked(th, vma.end);
    }
    if (vma === null || vma.start >= end) break;
    const lo = Math.max(nstart, vma.start);
    const nend = Math.min(end, vma.end);
    if ((vma.flags & VM_ACCESS_FLAGS) === 0) {
      nstart = nend;
      continue;
    }
    const write = (vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    const r = yield* getUserPages(th, vma, lo, nend, write);
    locked = r.locked;
    // An error is ignored (ignore_errors): on to the next VMA.
    nstart = r.err < 0 ? nend : lo + r.pages * ps;
  }
  if (locked) yield* mmapReadUnlock(th);
  th.kfn = kfn;
}

/**
 * madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE) (mm/madvise.c madvise_populate(), 5.14+),
 * called with the mmap lock held for reading: fault the range in as reads or writes, without
 * ignoring errors. A hole is -ENOMEM; a VMA that does not allow the access (a write to a
 * read-only mapping, PROT_NONE) is -EINVAL; a fault that ends in an error -EFAULT (or -ENOMEM).
 * Returns with the mmap lock held, 0 or -errno.
 */
export function* madvisePopulate(th: Thread, start: number, end: number, write: boolean): Code<number> {
  const ps = th.k.pageSize;
  let locked = true;
  for (let addr = start; addr < end; ) {
    if (!locked) {
      yield* mmapReadLock(th);
      locked = true;
    }
    const vma = findVmaLocked(th, addr);
    if (vma === null || vma.start > addr) return -ENOMEM;
    if ((vma.flags & VM_ACCESS_FLAGS) === 0 || (write && (vma.flags & VM_WRITE) === 0)) return -EINVAL;
    const r = yield* getUserPages(th, vma, addr, Math.min(end, vma.end), write);
    locked = r.locked;
    if (r.err < 0) {
      if (!locked) yield* mmapReadLock(th);
      return r.err;
    }
    addr += r.pages * ps;
  }
  if (!locked) yield* mmapReadLock(th);
  return 0;
}
