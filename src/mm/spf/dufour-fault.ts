import { SYNC, STEP_SYNC, StepFrame, type Code, type Task } from '../../engine/engine.js';
import { LCB_F_SPIN } from '../../engine/lockstat.js';
import { EV } from '../../events/catalog.js';
import { vmfUse } from '../debug_vm.js';
import { accessError, doAnonymousPageCall, findVmaLocked, handlePteFault, pteWalk, type SpecCommit, type Vmf } from '../fault.js';
import type { Thread } from '../kernel.js';
import type { PteTable } from '../pgtable.js';
import type { Vma } from '../vma.js';
import { FAULT_FLAG_SPECULATIVE, FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_RETRY, VM_FAULT_SIGSEGV, VM_GROWSDOWN } from '../types.js';
import type { RwLock } from '../../engine/locks.js';
import type { DufourStrategy, DufourVma } from './dufour.js';
import { site, traceSpf } from './trace.js';

/**
 * The fault path of Laurent Dufour's speculative page faults (dufour.ts has the design):
 * handle_speculative_fault() as a step function, and pte_map_lock(), its commit point.
 */

/** Abort sites (function + offset), stable across runs. */
export const AT = {
  seqOdd: site('__handle_speculative_fault', 0x5c),
  notsup: site('__handle_speculative_fault', 0x9a),
  bounds: site('__handle_speculative_fault', 0xd4),
  access: site('__handle_speculative_fault', 0x112),
  walk: site('__handle_speculative_fault', 0x1a0),
  seqRetry: site('__handle_speculative_fault', 0x1f8),
  lockChanged: site('pte_map_lock', 0x4c),
  lockPmd: site('pte_map_lock', 0x8e),
  lockTry: site('pte_map_lock', 0xc0),
  lockAfter: site('pte_map_lock', 0xf2),
} as const;

/**
 * The checks of __handle_speculative_fault() on the VMA found, after vm_sequence was read: 0 to go
 * on, else the fault's answer (VM_FAULT_RETRY to fall back, VM_FAULT_SIGSEGV), traced.
 */
function vmaChecks(th: Thread, vma: Vma, seq: number, addr: number, flags: number): number {
  if (seq & 1) {
    traceSpf(th, EV.SPF_VMA_CHANGED, AT.seqOdd, vma, addr);
    return VM_FAULT_RETRY;
  }
  // VMA types the series cannot handle: vm_ops (file, shmem), no anon_vma yet (traced as
  // notsup: spf_vma_noanon is never fired), stacks.
  if (vma.file !== null || vma.anonVma === null || vma.flags & VM_GROWSDOWN) {
    traceSpf(th, EV.SPF_VMA_NOTSUP, AT.notsup, vma, addr);
    return VM_FAULT_RETRY;
  }
  if (addr < vma.start || addr >= vma.end) {
    traceSpf(th, EV.SPF_VMA_CHANGED, AT.bounds, vma, addr);
    return VM_FAULT_RETRY;
  }
  if (accessError((flags & FAULT_FLAG_WRITE) !== 0, vma)) {
    // A completed fault that ends in SIGSEGV, not a fallback.
    traceSpf(th, EV.SPF_VMA_ACCESS, AT.access, vma, addr);
    return VM_FAULT_SIGSEGV;
  }
  return 0;
}

/** Where FaultWithoutMmapLock.step() goes on (after the sync or call that ended its last call). */
const enum At {
  Start,
  MmUsers,
  SrcuFind,
  RbLock,
  RbLocked,
  Pin,
  RbUnlock,
  RbUnlocked,
  Seq,
  Walk,
  SeqRecheck,
  Recheck,
  Handled,
  PutVma,
  PutVmaSynced,
}

/**
 * handle_speculative_fault() as a step function (StepFrame): the same steps and sync points as a
 * generator would take, in the same order, its locals in fields. get_vma() (find the VMA under
 * mm_rb_lock and pin it, or under SRCU), then __handle_speculative_fault(): vm_sequence read, the
 * VMA checks, the page-table walk with IRQs off, vm_sequence read again, then the PTE handled as
 * the classic path does (do_anonymous_page() for an empty PTE of an anonymous VMA), put_vma().
 */
export class FaultWithoutMmapLock extends StepFrame {
  private at = At.Start;
  private vma: Vma | null = null;
  private st: DufourVma | null = null;
  private seq = 0;
  private pt: PteTable | null = null;
  private idx = 0;
  private orig = 0;
  private ret = VM_FAULT_RETRY;
  /** mm->mm_rb_lock (v9/v11), looked up once a fault. */
  private rb: RwLock | null = null;

  constructor(
    private readonly d: DufourStrategy,
    private readonly th: Thread,
    private readonly addr: number,
    private flags: number,
  ) {
    super();
  }

  step(t: Task): number {
    const th = this.th;
    for (;;) {
      switch (this.at) {
        case At.Start:
          // Only user faults of multithreaded processes try (mm_users > 1).
          if ((this.flags & FAULT_FLAG_USER) === 0) return VM_FAULT_RETRY;
          this.at = At.MmUsers;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.MmUsers:
          // atomic_read(&mm->mm_users): in the 4.16-4.17 mm_struct, mm_users shares its cache
          // line with mmap_sem (pgd, mm_users, mm_count, map_count, page_table_lock, mmap_sem),
          // so this read misses whenever another CPU has just taken or released the mmap lock.
          th.mm.mmapLock.line.readBy(t);
          if (th.mm.users <= 1) return VM_FAULT_RETRY;
          this.flags |= FAULT_FLAG_SPECULATIVE;
          // get_vma(): find the VMA under mm_rb_lock and pin it (v9/v11), or under SRCU.
          if (this.d.srcu) {
            t.cost(th.k.est.SRCU_READ_NS);
            this.at = At.SrcuFind;
          } else {
            this.rb = this.d.rbOf(th);
            this.at = At.RbLock;
          }
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.SrcuFind:
          this.vma = findVmaLocked(th, this.addr);
          this.at = At.Seq;
          if (this.vma === null) return VM_FAULT_RETRY;
          break;
        case At.RbLock:
          this.at = At.RbLocked;
          if (!this.rb!.readLockFast(t)) return t.stepCall(this.rb!.readLock(t));
          break;
        case At.RbLocked:
          this.vma = findVmaLocked(th, this.addr);
          this.at = this.vma !== null ? At.Pin : At.RbUnlock;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.Pin:
          this.d.vmaOf(this.vma!).ref.addNow(t, 1);
          this.at = At.RbUnlock;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.RbUnlock:
          this.at = At.RbUnlocked;
          if (!this.rb!.readUnlockFast(t)) return t.stepCall(this.rb!.readUnlock(t));
          break;
        case At.RbUnlocked:
          if (this.vma === null) return VM_FAULT_RETRY;
          this.at = At.Seq;
          break;
        case At.Seq:
          // __handle_speculative_fault()
          this.st = this.d.vmaOf(this.vma!);
          this.at = At.Walk;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.Walk: {
          this.seq = this.st!.seq.readNow(t);
          const r = vmaChecks(th, this.vma!, this.seq, this.addr, this.flags);
          if (r !== 0) {
            this.ret = r;
            this.at = At.PutVma;
            break;
          }
          // The page-table walk with IRQs off: every level must exist (no allocation
          // speculatively, "we take at least one !speculative fault per PMD in order to
          // instantiate it").
          this.at = At.SeqRecheck;
          if (t.mustSync()) return STEP_SYNC;
          break;
        }
        case At.SeqRecheck: {
          const vma = this.vma!;
          const pt = pteWalk(th, this.addr);
          if (pt === null || pt.huge) {
            traceSpf(th, EV.SPF_VMA_NOTSUP, AT.walk, vma, this.addr);
            this.at = At.PutVma;
            break;
          }
          this.pt = pt;
          this.idx = th.k.geo.index(th.k.geo.levels - 1, this.addr);
          this.orig = pt.ptes[this.idx];
          this.at = At.Recheck;
          if (t.mustSync()) return STEP_SYNC;
          break;
        }
        case At.Recheck:
          if (this.st!.seq.readNow(t) !== this.seq) {
            traceSpf(th, EV.SPF_VMA_CHANGED, AT.seqRetry, this.vma!, this.addr);
            this.at = At.PutVma;
            break;
          }
          this.at = At.Handled;
          return t.stepCall(this.handle());
        case At.Handled:
          this.ret = t.ret as number;
          this.at = At.PutVma;
          break;
        case At.PutVma:
          if (this.d.srcu) {
            t.cost(th.k.est.SRCU_READ_NS);
            return this.done();
          }
          // put_vma(), its sync here.
          this.at = At.PutVmaSynced;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case At.PutVmaSynced:
          this.d.putVmaNow(th, this.vma!);
          return this.done();
      }
    }
  }

  /** The PTE handled as the classic path does, once vm_sequence has not moved. */
  private handle(): Code<number> | StepFrame {
    const th = this.th;
    const vma = this.vma!;
    const vmf: Vmf = { vma, addr: this.addr, flags: this.flags, pt: this.pt!, idx: this.idx, orig: this.orig, spec: new DufourCommit(this.d, this.st!, this.seq, this.addr) };
    if (this.orig === 0 && vma.isAnonymous()) {
      // handle_pte_fault()'s first case, dispatched here as the classic path does (fault.ts).
      vmfUse(th, vma, vmf.pt, this.addr, 'handle_pte_fault');
      return doAnonymousPageCall(th, vmf);
    }
    return handlePteFault(th, vmf);
  }

  /** The fault's answer, counted as the series counts a completed speculative fault. */
  private done(): number {
    const th = this.th;
    if (this.ret !== VM_FAULT_RETRY) {
      // count_vm_event(SPECULATIVE_PGFAULT) and, in the arch handler, perf_sw_event(PERF_COUNT_SW_SPF).
      th.k.em.count(EV.SPECULATIVE_PGFAULT, th);
      th.k.em.count(EV.SPF, th);
      th.k.em.count(EV.PGFAULT, th);
    }
    return this.ret;
  }
}

/** pte_map_lock() / pte_spinlock() of the series. */
class DufourCommit implements SpecCommit {
  constructor(
    private readonly d: DufourStrategy,
    private readonly st: DufourVma,
    private readonly seq: number,
    private readonly addr: number,
  ) {}

  /** Where pteMapLockStep() goes on: 0 at the top of its loop, 1 after its sync, 2 before the trylock, 3 to unlock after a failed recheck. */
  private at = 0;
  /**
   * v11 spins on the PTE lock by trylocks: a wait on it for `spfperf lock contention`, from the
   * first failed trylock until it is taken or the loop gives up.
   */
  private spinning = false;

  *pteMapLock(th: Thread, vmf: Vmf): Code<boolean> {
    let r: number;
    while ((r = this.pteMapLockStep(th, vmf)) < 0) yield SYNC;
    return r > 0;
  }

  /**
   * pte_map_lock() as a step function (SpecCommit.pteMapLockStep): the same sync points, answered
   * as -1 (yield SYNC and call again; `at` says where to go on) instead of yielded.
   */
  pteMapLockStep(th: Thread, vmf: Vmf): number {
    const t = th.t;
    // The recheck under the PTE lock and the VMA check before it (the test-only mutant
    // 'dufour-no-seq-recheck' skips both).
    const recheck = th.k.opts.mutant !== 'dufour-no-seq-recheck';
    for (;;) {
      if (this.at === 0) {
        // With IRQs off: the VMA, then the PMD, then the PTE lock by trylock.
        this.at = 1;
        if (t.mustSync()) return -1;
      }
      if (this.at === 1) {
        if (recheck && this.d.hasChanged(vmf.vma, this.st, this.seq)) {
          this.at = 0;
          this.endSpin(th, vmf);
          traceSpf(th, EV.SPF_VMA_CHANGED, AT.lockChanged, vmf.vma, this.addr);
          return 0;
        }
        if (pteWalk(th, this.addr) !== vmf.pt) {
          this.at = 0;
          this.endSpin(th, vmf);
          traceSpf(th, EV.SPF_PMD_CHANGED, AT.lockPmd, vmf.vma, this.addr);
          return 0;
        }
        this.at = 2;
        if (t.mustSync()) return -1;
      }
      if (this.at === 2) {
        if (!vmf.pt.ptl.trylockNow(t)) {
          this.at = 0;
          if (this.d.v9) {
            traceSpf(th, EV.SPF_PTE_LOCK, AT.lockTry, vmf.vma, this.addr);
            return 0;
          }
          if (!this.spinning) th.k.eng.contention?.begin(t, vmf.pt.ptl, LCB_F_SPIN);
          this.spinning = true;
          t.cost(th.k.costs.cpuRelaxNs); // cpu_relax() between two trylocks
          continue;
        }
        this.endSpin(th, vmf);
        if (!recheck || !this.d.hasChanged(vmf.vma, this.st, this.seq)) {
          this.at = 0;
          return 1;
        }
        // spin_unlock()'s sync.
        this.at = 3;
        if (t.mustSync()) return -1;
      }
      vmf.pt.ptl.unlockNow(t);
      this.at = 0;
      traceSpf(th, EV.SPF_VMA_CHANGED, AT.lockAfter, vmf.vma, this.addr);
      return 0;
    }
  }

  /** The trylock loop's wait ends (the lock taken, or the loop given up). */
  private endSpin(th: Thread, vmf: Vmf): void {
    if (!this.spinning) return;
    this.spinning = false;
    th.k.eng.contention?.end(th.t, vmf.pt.ptl);
  }
}
