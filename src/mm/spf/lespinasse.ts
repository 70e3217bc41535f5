import { SYNC, type Code, type Engine } from '../../engine/engine.js';
import { EV } from '../../events/catalog.js';
import { accessError, findVmaLocked, handlePteFault, pteWalk, type SpecCommit, type Vmf } from '../fault.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import { FAULT_FLAG_SPECULATIVE, FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_RETRY } from '../types.js';
import type { DesignDescriptor, DesignHooks } from './registry.js';
import { MmSeqs, rcuFreeVma, rcuReadLock, rcuReadUnlock, type MmSeq } from './strategy.js';

/**
 * Michel Lespinasse's speculative page faults (2021-22; kernel-facts.md section 2).
 *
 * A per-mm sequence count, mm->mmap_seq, is bumped by mmap_write_lock() and by
 * mmap_write_unlock() (odd while a writer holds the lock). The x86 handler counts spf_attempt,
 * samples the count, finds the VMA under RCU, copies it to the stack, re-checks the count, and
 * runs the fault handlers on the copy; at PTE-lock time pte_map_lock() checks the count (SEQ1),
 * the PMD, trylocks the PTE lock (aborting, never looping, "because of the starvation potential
 * against a stream of lockers") and checks the count again (SEQ2). Any abort counts spf_abort
 * and its SPF_ABORT_* reason and falls back to the mmap lock. Anonymous VMAs only (v1/v2).
 */

/** Abort reasons and handler attempts (CONFIG_SPECULATIVE_PAGE_FAULT_STATS, v2 31/35). */
export type LespinasseAbort =
  | 'ODD' | 'UNMAPPED' | 'NO_SPECULATE' | 'VMA_COPY' | 'ACCESS_ERROR' | 'PUD' | 'PMD' | 'ANON_VMA'
  | 'PTE_MAP_LOCK_SEQ1' | 'PTE_MAP_LOCK_PMD' | 'PTE_MAP_LOCK_PTL' | 'PTE_MAP_LOCK_SEQ2' | 'SWAP';

const ABORT_EV: Readonly<Record<LespinasseAbort, number>> = {
  ODD: EV.SPF_ABORT_ODD,
  UNMAPPED: EV.SPF_ABORT_UNMAPPED,
  NO_SPECULATE: EV.SPF_ABORT_NO_SPECULATE,
  VMA_COPY: EV.SPF_ABORT_VMA_COPY,
  ACCESS_ERROR: EV.SPF_ABORT_ACCESS_ERROR,
  PUD: EV.SPF_ABORT_PUD,
  PMD: EV.SPF_ABORT_PMD,
  ANON_VMA: EV.SPF_ABORT_ANON_VMA,
  PTE_MAP_LOCK_SEQ1: EV.SPF_ABORT_PTE_MAP_LOCK_SEQ1,
  PTE_MAP_LOCK_PMD: EV.SPF_ABORT_PTE_MAP_LOCK_PMD,
  PTE_MAP_LOCK_PTL: EV.SPF_ABORT_PTE_MAP_LOCK_PTL,
  PTE_MAP_LOCK_SEQ2: EV.SPF_ABORT_PTE_MAP_LOCK_SEQ2,
  SWAP: EV.SPF_ABORT_SWAP,
};

export class LespinasseStrategy implements DesignHooks {
  /** mm->mmap_seq */
  private readonly seqs: MmSeqs;

  constructor(eng: Engine) {
    this.seqs = new MmSeqs(eng, 'mmap_seq');
  }

  mmSeq(mm: MmStruct): MmSeq {
    return this.seqs.of(mm);
  }

  /** mmap_seq_read_start() / mmap_seq_read_check(): READ_ONCE + smp_rmb on the count's line. */
  *readSeq(th: Thread, mm: MmStruct): Code<number> {
    const t = th.t;
    if (t.mustSync()) yield SYNC;
    const s = this.mmSeq(mm);
    s.line.readBy(t);
    return s.value;
  }

  abort(th: Thread, why: LespinasseAbort): number {
    th.k.em.count(ABORT_EV[why], th);
    return VM_FAULT_RETRY;
  }

  /** The speculative part of x86 do_user_addr_fault(). */
  *faultWithoutMmapLock(th: Thread, addr: number, flags: number): Code<number> {
    const k = th.k;
    if ((flags & FAULT_FLAG_USER) === 0 || th.mm.users <= 1) return VM_FAULT_RETRY;
    k.em.count(EV.SPF_ATTEMPT, th);
    const ret = yield* this.attempt(th, addr, flags | FAULT_FLAG_SPECULATIVE);
    if (ret === VM_FAULT_RETRY) {
      k.em.count(EV.SPF_ABORT, th);
    } else {
      k.em.count(EV.SPF, th);
      k.em.count(EV.PGFAULT, th);
    }
    return ret;
  }

  private *attempt(th: Thread, addr: number, flags: number): Code<number> {
    const t = th.t;
    const mm = th.mm;
    const seq = yield* this.readSeq(th, mm);
    if (seq & 1) return this.abort(th, 'ODD');
    // rcu_read_lock(); vma = __find_vma(mm, address); copy it; rcu_read_unlock();
    rcuReadLock(th);
    const vma = findVmaLocked(th, addr);
    if (vma !== null && addr >= vma.start && vma.isAnonymous()) t.cost(th.k.est.VMA_COPY_NS);
    rcuReadUnlock(th);
    if (vma === null || addr < vma.start) return this.abort(th, 'UNMAPPED');
    if (!vma.isAnonymous()) return this.abort(th, 'NO_SPECULATE');
    if ((yield* this.readSeq(th, mm)) !== seq) return this.abort(th, 'VMA_COPY');
    if (accessError((flags & FAULT_FLAG_WRITE) !== 0, vma)) return this.abort(th, 'ACCESS_ERROR');
    // The walk (RCU or IRQs off): no page-table level may be allocated speculatively.
    if (t.mustSync()) yield SYNC;
    const pt = pteWalk(th, addr);
    if (pt === null || pt.huge) return this.abort(th, 'PMD');
    const idx = th.k.geo.index(th.k.geo.levels - 1, addr);
    const vmf: Vmf = { vma, addr, flags, pt, idx, orig: pt.ptes[idx], spec: new LespinasseCommit(this, mm, seq, addr) };
    return yield* handlePteFault(th, vmf);
  }

  /** __mmap_seq_write_lock(): the count becomes odd. */
  *mmapWriteLocked(th: Thread, mm: MmStruct): Code {
    yield* this.bump(th, mm);
  }

  /** mmap_write_unlock(): the count becomes even again. */
  *mmapWriteUnlocking(th: Thread, mm: MmStruct): Code {
    yield* this.bump(th, mm);
  }

  private *bump(th: Thread, mm: MmStruct): Code {
    const t = th.t;
    if (t.mustSync()) yield SYNC;
    const s = this.mmSeq(mm);
    s.line.writeBy(t);
    s.value++;
  }

  /** "mm: rcu safe VMA freeing": call_rcu(), the free runs after a grace period. */
  *vmaFree(th: Thread, vma: Vma): Code {
    yield* rcuFreeVma(th, vma);
  }
}

/** pte_map_lock() / pte_spinlock() of the series: SEQ1, PMD, PTL (trylock, abort), SEQ2. */
class LespinasseCommit implements SpecCommit {
  constructor(
    private readonly l: LespinasseStrategy,
    private readonly mm: MmStruct,
    private readonly seq: number,
    private readonly addr: number,
  ) {}

  /** do_swap_page(): swap-in is not speculated in v2. */
  noSwap(th: Thread): void {
    this.l.abort(th, 'SWAP');
  }

  /** do_anonymous_page / wp_page_copy would need anon_vma_prepare(). */
  noAnonVma(th: Thread): void {
    this.l.abort(th, 'ANON_VMA');
  }

  enter(th: Thread, handler: 'anon' | 'wp' | 'pte'): void {
    th.k.em.count(handler === 'anon' ? EV.SPF_ATTEMPT_ANON : handler === 'wp' ? EV.SPF_ATTEMPT_WP : EV.SPF_ATTEMPT_PTE, th);
  }

  *pteMapLock(th: Thread, vmf: Vmf): Code<boolean> {
    const t = th.t;
    // The test-only mutant 'lespinasse-no-mmap-seq-check' skips SEQ1 and SEQ2.
    const check = th.k.opts.mutant !== 'lespinasse-no-mmap-seq-check';
    if (check && (yield* this.l.readSeq(th, this.mm)) !== this.seq) return this.fail(th, 'PTE_MAP_LOCK_SEQ1');
    if (pteWalk(th, this.addr) !== vmf.pt) return this.fail(th, 'PTE_MAP_LOCK_PMD');
    if (!(yield* vmf.pt.ptl.trylock(t))) return this.fail(th, 'PTE_MAP_LOCK_PTL');
    if (check && (yield* this.l.readSeq(th, this.mm)) !== this.seq) {
      yield* vmf.pt.ptl.unlock(t);
      return this.fail(th, 'PTE_MAP_LOCK_SEQ2');
    }
    return true;
  }

  private fail(th: Thread, why: LespinasseAbort): boolean {
    this.l.abort(th, why);
    return false;
  }
}

export const design: DesignDescriptor = {
  name: 'lespinasse',
  title: 'Michel Lespinasse SPF: per-mm sequence count, VMA copy under RCU, validation at PTE-lock time',
  since: '2021-04',
  source: 'kernel-facts.md section 2; lkml "[PATCH v2 00/35] Speculative page faults" (2022-01)',
  needs: 'CONFIG_SPECULATIVE_PAGE_FAULT',
  lockless:
    'anonymous faults: per-mm `mmap_seq` (odd while a writer holds the mmap lock), VMA copied under RCU, checks SEQ1/PMD/PTL (trylock, no loop)/SEQ2 at PTE-lock time',
  kconfig: {
    CONFIG_SPECULATIVE_PAGE_FAULT_STATS: { values: ['y', 'n'], def: 'n', doc: 'Lespinasse: SPF_ABORT_* / SPF_ATTEMPT_* vmstat breakdown' },
  },
  presets: {
    lespinasse: {
      description: 'Lespinasse SPF (2021-22): per-mm sequence count, VMA copy under RCU, validation at PTE-lock time',
      settings: { CONFIG_SPECULATIVE_PAGE_FAULT: 'y', CONFIG_SPECULATIVE_PAGE_FAULT_STATS: 'y' },
    },
  },
  vmstat: [
    { names: ['spf_attempt', 'spf_abort'] },
    {
      names: [
        ...(Object.keys(ABORT_EV) as LespinasseAbort[]).map((r) => `SPF_ABORT_${r}`),
        'SPF_ATTEMPT_ANON',
        'SPF_ATTEMPT_WP',
        'SPF_ATTEMPT_PTE',
      ],
      when: 'CONFIG_SPECULATIVE_PAGE_FAULT_STATS',
    },
  ],
  events: ['speculative-faults'],
  create: ({ eng }) => new LespinasseStrategy(eng),
};
