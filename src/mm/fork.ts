import type { Code } from '../engine/engine.js';
import type { Thread, MmStruct } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { Vma } from './vma.js';
import { isSwapEntry } from './swap.js';
import { flushTlbRange } from './tlb.js';
import { pteAllocMm } from './pgalloc.js';
import { addMmCounter } from './rss.js';
import { anonVmaClone, pageAddRmap } from './rmap.js';
import { PTE_HASHED, PTE_SHIFT, PTE_WRITE, VM_MAYWRITE, VM_SHARED, ZERO_PFN } from './types.js';
import { mmapWriteLock, mmapWriteUnlock } from './mmap.js';
import { EV } from '../events/catalog.js';
import { fire } from './syscall-trace.js';

/** fork(2)'s address-space copy (kernel/fork.c dup_mmap, mm/memory.c copy_page_range). */

/**
 * dup_mmap() for fork(2): copy every VMA into the child's mm and copy the page tables
 * (copy_page_range): private writable pages become read-only in both and shared by reference
 * (copy-on-write); shared mappings are copied as they are. The parent's mmap lock is held for
 * writing throughout, and the parent's TLB is flushed once, at the end; until then another CPU
 * may still write a page through a translation cached writable before (tlb.ts). What keeps a
 * design's lockless faults off the VMAs meanwhile is its dupMmapVma() hook: per-VMA locks
 * write-lock each VMA (6.4.3/6.5); Dufour's postings up to v11 and Kamezawa's RFC have nothing
 * (Dufour's v12 of 2019 added "mm: protect against PTE changes done by dup_mmap()", for the
 * race Vinayak Menon and Ganesh Mahendran reported); Lespinasse's mmap_seq is odd throughout.
 */
export function* dupMmap(th: Thread, child: MmStruct): Code {
  th.kfn = 'dup_mmap';
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  yield* mmapWriteLock(th);
  let cowed = 0;
  // The test-only mutant 'per-vma-lock-no-fork-vma-lock': dup_mmap() as 6.4.0 shipped it, taking
  // no VMA's write lock, so a fault under a VMA lock runs while the PTEs are write-protected.
  const vmaLocked = k.opts.mutant !== 'per-vma-lock-no-fork-vma-lock';
  for (const v of th.mm.vmas.all()) {
    if (vmaLocked) yield* k.spf.dupMmapVma(th, v);
    const nv = new Vma(k.vmaId(), v.start, v.end, v.flags, v.pgoff, v.file, k.line('vma'));
    anonVmaClone(nv, v); // anon_vma_fork(): the child's chain links the parent's anon_vma
    child.vmas.insert(nv);
    t.cost(k.costs.vmaAllocNs);
    const cow = (v.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
    // copy_page_range(): "Don't copy ptes where a page fault will fill them correctly": a VMA
    // without anonymous pages (no anon_vma) is left for the child to fault in.
    if (v.anonVma === null) continue;
    for (let base = v.start - (v.start % geo.pteTableSpan); base < v.end; base += geo.pteTableSpan) {
      const src = lookupPteTable(th.k.geo, th.mm.pgd, base);
      if (src === null || src.used === 0) continue;
      const dst = yield* pteAllocMm(th, child, base);
      if (dst === null) break;
      yield* src.ptl.lock(t);
      let rss = 0;
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
          k.pages.refcount[pfn]++; // get_page() + page_dup_rmap()
          pageAddRmap(k, pfn);
          rss++;
        }
        t.cost(k.costs.changePteNs);
      }
      yield* src.ptl.unlock(t);
      // copy_pte_range()'s add_mm_rss_vec(dst_mm, rss): an atomic on the child's mm->rss_stat.
      if (rss !== 0) yield* addMmCounter(th, child, rss);
    }
  }
  // The parent's write-protected PTEs may be cached in other CPUs' TLBs.
  if (cowed > 0) yield* flushTlbRange(th, cowed);
  yield* mmapWriteUnlock(th);
}

/** sched:sched_process_fork (kernel_clone(), kernel/fork.c, after copy_process()): `th` cloned `childPid`. */
export function traceSchedProcessFork(th: Thread, childPid: number): void {
  fire(th, EV.SCHED_PROCESS_FORK, () => [th.tid, childPid]);
}

/** The priority sched_process_exit prints for a task of nice 0 (MAX_RT_PRIO + 20). */
const DEFAULT_PRIO = 120;

/** sched:sched_process_exit (do_exit(), kernel/exit.c, before exit_mm()): `groupDead` when it is the process's last task. */
export function traceSchedProcessExit(th: Thread, groupDead: boolean): void {
  fire(th, EV.SCHED_PROCESS_EXIT, () => [DEFAULT_PRIO, groupDead ? 1 : 0]);
}
