import type { Code, Engine } from '../../engine/engine.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { CacheLine } from '../../engine/cacheline.js';
import type { Vma } from '../vma.js';

/**
 * A page-fault design: how a fault may be handled without the mmap lock, and what VMA writers
 * must do so that such faults stay safe. One file per design implements this; the classic code
 * (fault.ts, mmap.ts) calls these hooks at the points where the kernel patches put their code,
 * and never branches on design names.
 *
 * All hooks that take a VMA are called with the mmap lock held for writing.
 */
export interface SpfStrategy {
  /** The config name of the design (e.g. 'dufour-v11'), or 'none'. */
  readonly name: string;
  /** False for the classic kernel: doUserAddrFault goes straight to the mmap-lock path. */
  readonly speculative: boolean;
  /** Attempt the fault at `addr`; VM_FAULT_RETRY means "fall back to the mmap-lock path". */
  handleSpeculativeFault(th: Thread, addr: number, flags: number): Code<number>;

  /** mmap_write_lock() just succeeded. */
  mmapWriteLocked(th: Thread, mm: MmStruct): Code;
  /** mmap_write_unlock() is about to release the lock. */
  mmapWriteUnlocking(th: Thread, mm: MmStruct): Code;
  /** A writer is about to change vma's bounds, flags or anon_vma, or unmap its pages. */
  vmaWriteBegin(th: Thread, vma: Vma): Code;
  /** ... and is done with it. */
  vmaWriteEnd(th: Thread, vma: Vma): Code;
  /**
   * A VMA change made under the mmap *read* lock and page_table_lock (__anon_vma_prepare()
   * attaching an anon_vma, expand_downwards() growing a stack): run `attach` as the design
   * requires.
   */
  anonVmaAttach(th: Thread, vma: Vma, attach: () => void): Code;
  /** Run `change` (a VMA tree insert or erase) as the design requires (e.g. under mm_rb_lock). */
  treeModify(th: Thread, mm: MmStruct, change: () => void): Code;
  /** Pages of vma are about to be zapped without the VMA changing (MADV_DONTNEED). */
  unmapBegin(th: Thread, vma: Vma): Code;
  unmapEnd(th: Thread, vma: Vma): Code;
  /** khugepaged (th, a kernel thread) is about to collapse a range of vma in mm (mm's lock held for writing). */
  collapseBegin(th: Thread, vma: Vma, mm: MmStruct): Code;
  /** vma left the tree for good and is about to be torn down (its pages zapped, then freed). */
  vmaDetached(th: Thread, vma: Vma): Code;
  /** remove_vma(): the last reference of the mmap-lock side is dropped; free it as the design does. */
  vmaFree(th: Thread, vma: Vma): Code;
}

/** The classic kernel: every fault takes the mmap lock; VMA writers need nothing more. */
export class ClassicStrategy implements SpfStrategy {
  readonly name: string = 'none';
  readonly speculative: boolean = false;

  // eslint-disable-next-line require-yield
  *handleSpeculativeFault(): Code<number> {
    return 0x400; // VM_FAULT_RETRY
  }
  *mmapWriteLocked(): Code {}
  *mmapWriteUnlocking(): Code {}
  *vmaWriteBegin(): Code {}
  *vmaWriteEnd(): Code {}
  *anonVmaAttach(_th: Thread, _vma: Vma, attach: () => void): Code {
    attach();
  }
  *treeModify(_th: Thread, _mm: MmStruct, change: () => void): Code {
    change();
  }
  *unmapBegin(): Code {}
  *unmapEnd(): Code {}
  *collapseBegin(): Code {}
  *vmaDetached(): Code {}
  *vmaFree(): Code {}
}

/** call_rcu() of a VMA, on the caller: queue a callback on this CPU's list (~100 cycles; estimate). */
const CALL_RCU_NS = 40;
/**
 * __free_vma(): fput/mpol_put/kmem_cache_free of the VMA (a slab free ~50-100 cycles, Mel
 * Gorman's SLUB microbenchmarks, plus the two puts; estimate ~250 cycles).
 */
export const FREE_VMA_NS = 100;

/**
 * Free a VMA after an RCU grace period ("mm: rcu safe VMA freeing"), through the kernel's Rcu:
 * the grace period ends once every speculative lookup that was inside rcu_read_lock() when it
 * began has left (and no earlier than the arch's grace-period time). The caller pays for
 * call_rcu(); the CPU it ran on pays the free when the callback runs (RCU callbacks run on the
 * CPU that queued them, from softirq).
 */
export function* rcuFreeVma(th: Thread): Code {
  th.t.cost(CALL_RCU_NS);
  const cpu = th.t.cpu;
  const eng = th.k.eng;
  th.k.rcu.callRcu(th.t, () => {
    eng.irqDebt[cpu] += FREE_VMA_NS;
  });
}

/** rcu_read_lock() around a speculative VMA lookup (CPU-local: no sync, no cost of its own). */
export function rcuReadLock(th: Thread): void {
  th.k.rcu.enter(th.t);
}

/** rcu_read_unlock() */
export function rcuReadUnlock(th: Thread): void {
  th.k.rcu.exit(th.t);
}

/** A per-mm sequence number a design adds (mmap_seq, mm_lock_seq) on its own cache line. */
export class MmSeq {
  value = 0;
  constructor(readonly line: CacheLine) {}
}

/** The MmSeq of each mm, created on first use with a line named `name(pid)`. */
export class MmSeqs {
  private readonly seqs = new WeakMap<MmStruct, MmSeq>();
  constructor(
    private readonly eng: Engine,
    private readonly name: string,
  ) {}

  of(mm: MmStruct): MmSeq {
    let s = this.seqs.get(mm);
    if (s === undefined) {
      s = new MmSeq(this.eng.line(`${this.name}(${mm.owner.pid})`));
      this.seqs.set(mm, s);
    }
    return s;
  }
}
