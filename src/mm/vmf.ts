import type { Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import type { PteTable } from './pgtable.js';
import type { Vma } from './vma.js';
import { vmfUse } from './debug_vm.js';

/**
 * struct vm_fault and the PTE lock of a fault (pte_offset_map_lock, or a speculative design's
 * pte_map_lock): shared by the fault handlers of fault.ts, do_fault.ts and swap.ts.
 */

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
  /**
   * pteMapLock() without a generator, for the hot path of doAnonymousPage(): 1 with the PTE lock
   * held, 0 to abort, -1 when a sync is owed first (the caller yields SYNC and calls again, and the
   * commit goes on where it was). Optional: a design without it is called through pteMapLock().
   */
  pteMapLockStep?(th: Thread, vmf: Vmf): number;
  /** The handler being entered ('anon', 'wp', 'pte'), for designs that count attempts per handler. */
  enter?(th: Thread, handler: 'anon' | 'wp' | 'pte'): void;
  /** The handler needs an anon_vma the VMA does not have yet (anon_vma_prepare needs the mmap lock). */
  noAnonVma?(th: Thread): void;
  /** The PTE is a swap entry: do_swap_page() is not done speculatively. */
  noSwap?(th: Thread): void;
}

/** pte_offset_map_lock() for the classic path, pte_map_lock() for a speculative one. */
export function* pteMapLock(th: Thread, vmf: Vmf): Code<boolean> {
  const fn = th.kfn;
  if (vmf.spec !== null) {
    if (!(yield* vmf.spec.pteMapLock(th, vmf))) return false;
  } else if (!vmf.pt.ptl.lockFast(th.t)) yield* vmf.pt.ptl.lock(th.t);
  // The commit point: what the fault found must still be there (the invariant checks).
  vmfUse(th, vmf.vma, vmf.pt, vmf.addr, fn);
  if (th.k.spf.staleVmaCommit !== true) th.k.dbg?.vmaCurrent(th, vmf.vma, vmf.addr, fn);
  return true;
}

export function* pteUnlock(th: Thread, vmf: Vmf): Code {
  if (!vmf.pt.ptl.unlockFast(th.t)) yield* vmf.pt.ptl.unlock(th.t);
}
