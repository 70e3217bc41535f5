import { SYNC, type Code, type Engine } from '../../engine/engine.js';
import { Atomic, WaitQueue } from '../../engine/locks.js';
import { EV } from '../../events/catalog.js';
import { accessError, findVmaLocked, handleMmFault } from '../fault.js';
import type { Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import { FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_RETRY, VM_FAULT_SIGSEGV } from '../types.js';
import { VmaState, type DesignDescriptor, type DesignHooks } from './registry.js';
import { rcuFreeVma, rcuReadLock, rcuReadUnlock } from './strategy.js';

/**
 * KAMEZAWA Hiroyuki's "asynchronous page fault" RFC (2009-12; kernel-facts.md section 4).
 *
 * find_vma_speculative() walks the rb-tree under rcu_read_lock() and pins the VMA that contains
 * the address with atomic_inc_not_zero(&vma->refcnt) (refcnt is 1 while the VMA is linked); the
 * x86 handler then jumps to good_area and runs the ordinary fault without mmap_sem, ending with
 * vma_put() instead of up_read(). Before a VMA is torn down, invalidate_vma_before_free() drops
 * the tree's reference and waits on vma->wait_queue until refcnt is 0.
 *
 * vma_put() as posted wakes the waiter only when the count drops to exactly 1, so a put that
 * drops it to 0 while the unmapper sleeps is a lost wake-up (Minchan Kim's race, 2009-12-27):
 * the unmapper, holding mmap_sem for writing, never wakes. `fixed` wakes at 0 instead.
 */

class KameVma {
  readonly refcnt: Atomic;
  readonly wq: WaitQueue;
  constructor(eng: Engine) {
    this.refcnt = new Atomic(eng, 'vma->refcnt', 1);
    this.wq = new WaitQueue(eng, 'vma->wait_queue');
  }
}


export class KamezawaStrategy implements DesignHooks {
  /** The RFC revalidates nothing: a pinned VMA may be split or merged away under the fault. */
  readonly staleVmaCommit = true;
  private readonly vmaState: VmaState<KameVma>;

  constructor(
    eng: Engine,
    readonly fixed: boolean,
  ) {
    this.vmaState = new VmaState(() => new KameVma(eng));
  }

  private st(vma: Vma): KameVma {
    return this.vmaState.of(vma);
  }

  *faultWithoutMmapLock(th: Thread, addr: number, flags: number): Code<number> {
    const k = th.k;
    if ((flags & FAULT_FLAG_USER) === 0 || th.mm.users <= 1) return VM_FAULT_RETRY;
    const vma = yield* this.findVmaSpeculative(th, addr);
    if (vma === null) return VM_FAULT_RETRY;
    let fault: number;
    // good_area:
    if (accessError((flags & FAULT_FLAG_WRITE) !== 0, vma)) fault = VM_FAULT_SIGSEGV;
    // No mmap lock is held here, so the handler must not drop one to retry (a read that needs
    // I/O waits for it instead).
    else fault = yield* handleMmFault(th, vma, addr, flags & ~FAULT_FLAG_ALLOW_RETRY);
    yield* this.vmaPut(th, vma);
    if ((fault & VM_FAULT_RETRY) === 0) k.em.count(EV.SPF, th);
    return fault;
  }

  /** find_vma_speculative(): only a VMA that contains addr, pinned unless its count is 0. */
  private *findVmaSpeculative(th: Thread, addr: number): Code<Vma | null> {
    if (th.t.mustSync()) yield SYNC;
    rcuReadLock(th);
    const vma = findVmaLocked(th, addr);
    const pinned = vma !== null && vma.start <= addr && (yield* this.st(vma).refcnt.incNotZero(th.t));
    rcuReadUnlock(th);
    return pinned ? vma : null;
  }

  /** vma_put() */
  private *vmaPut(th: Thread, vma: Vma): Code {
    const st = this.st(vma);
    const v = yield* st.refcnt.add(th.t, -1);
    const wake = this.fixed ? v === 0 : v === 1;
    if (wake && st.wq.active) st.wq.wakeUp(th.t.clock);
  }

  /** invalidate_vma_before_free(): drop the tree's reference, wait for the speculative users. */
  *vmaDetached(th: Thread, vma: Vma): Code {
    const st = this.st(vma);
    yield* st.refcnt.add(th.t, -1);
    const at = { object: `VMA ${vma.start.toString(16)}-${vma.end.toString(16)}`, fn: 'invalidate_vma_before_free' };
    yield* st.wq.waitEvent(th.t, () => st.refcnt.value === 0, at);
  }

  // treeModify: rb-tree stores become rcu_assign_pointer(), no lock beyond mmap_sem (the
  // classic default).

  /** VMAs are freed by call_rcu(). */
  *vmaFree(th: Thread, vma: Vma): Code {
    yield* rcuFreeVma(th, vma);
  }
}

export const design: DesignDescriptor = {
  name: 'kamezawa',
  title: 'KAMEZAWA Hiroyuki RFC: RCU VMA lookup, VMA refcount and wait queue',
  since: '2009-12',
  source: 'kernel-facts.md section 4; lkml "[RFC] asynchronous page fault" (2009-12) and Minchan Kim\'s review',
  needs: 'CONFIG_SPECULATIVE_PAGE_FAULT',
  lockless:
    'every user fault of a multithreaded process: VMA found under RCU and pinned by `refcnt`; unmap waits on the VMA\'s wait queue; the RFC as posted has the lost wake-up found in review',
  settings: {
    kamezawa_fixed: { values: ['y', 'n'], def: 'n', doc: 'kamezawa: wake the unmapper when the count drops to 0' },
  },
  presets: {
    kamezawa: {
      description: 'KAMEZAWA Hiroyuki 2009 RFC: RCU VMA lookup, VMA refcount and wait queue (with the lost wake-up)',
      settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'y', kamezawa_fixed: 'n' },
    },
    'kamezawa-fixed': {
      description: 'the 2009 RFC with the lost wake-up fixed: vma_put() wakes the unmapper at 0',
      settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'y', kamezawa_fixed: 'y' },
    },
  },
  events: ['speculative-faults'],
  create: ({ eng, settings }) => new KamezawaStrategy(eng, settings.kamezawa_fixed === 'y'),
};
