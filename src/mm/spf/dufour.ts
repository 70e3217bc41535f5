import { SYNC, type Code, type Engine } from '../../engine/engine.js';
import { Atomic, RwLock, SeqCount } from '../../engine/locks.js';
import { LCB_F_SPIN } from '../../engine/lockstat.js';
import { EV } from '../../events/catalog.js';
import { vmfUse } from '../debug_vm.js';
import { accessError, doAnonymousPage, findVmaLocked, handlePteFault, pteWalk, type SpecCommit, type Vmf } from '../fault.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import { FAULT_FLAG_SPECULATIVE, FAULT_FLAG_USER, FAULT_FLAG_WRITE, VM_FAULT_RETRY, VM_FAULT_SIGSEGV, VM_GROWSDOWN } from '../types.js';
import { VmaState, type DesignDescriptor, type DesignHooks } from './registry.js';
import { site, traceSpf } from './trace.js';

/** Abort sites (function + offset), stable across runs. */
const AT = {
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
 * Laurent Dufour's speculative page faults (2018; kernel-facts.md section 1).
 *
 * v11: the VMA is found under mm->mm_rb_lock (a rwlock taken for writing only by tree inserts and
 * erases) and pinned with vma->vm_ref_count (get_vma/put_vma); vma->vm_sequence (a seqcount)
 * is bumped by every VMA writer; the page-table walk runs with IRQs off and saves the PMD and
 * PTE; pte_map_lock() re-checks the VMA and the PMD and trylocks the PTE lock, looping when it is
 * busy. v9 aborts on a busy PTE lock (pagefault:spf_pte_lock) instead. The SRCU variant of the
 * earlier postings finds the VMA under SRCU with no refcount and frees VMAs through call_srcu(),
 * whose callbacks run in a kworker.
 */

/** Per-VMA fields the series adds (INIT_VMA: vm_sequence 0, vm_ref_count 1). */
class DufourVma {
  readonly seq: SeqCount;
  readonly ref: Atomic;
  constructor(eng: Engine) {
    this.seq = new SeqCount(eng, 'vm_sequence');
    this.ref = new Atomic(eng, 'vm_ref_count', 1);
  }
}

type DufourVersion = 'v9' | 'v11' | 'srcu';

export class DufourStrategy implements DesignHooks {
  private readonly rbLocks = new WeakMap<MmStruct, RwLock>();
  private readonly vmaState: VmaState<DufourVma>;

  constructor(
    private readonly eng: Engine,
    readonly version: DufourVersion,
    /** SRCU grace period (ns) before call_srcu() callbacks run. */
    private readonly srcuGpNs: number,
    /** Cost of running one call_srcu() callback in a kworker (wake-up + two switches + free). */
    private readonly srcuCallbackNs: number,
  ) {
    this.vmaState = new VmaState(() => new DufourVma(eng));
  }

  private st(vma: Vma): DufourVma {
    return this.vmaState.of(vma);
  }

  /** mm->mm_rb_lock */
  private rb(mm: MmStruct): RwLock {
    let l = this.rbLocks.get(mm);
    if (l === undefined) {
      l = new RwLock(this.eng, `mm_rb_lock(${mm.owner.pid})`);
      this.rbLocks.set(mm, l);
    }
    return l;
  }

  /** handle_speculative_fault() */
  *faultWithoutMmapLock(th: Thread, addr: number, flags: number): Code<number> {
    const t = th.t;
    // Only user faults of multithreaded processes try (mm_users > 1).
    if ((flags & FAULT_FLAG_USER) === 0) return VM_FAULT_RETRY;
    // atomic_read(&mm->mm_users): in the 4.16-4.17 mm_struct, mm_users shares its cache line
    // with mmap_sem (pgd, mm_users, mm_count, map_count, page_table_lock, mmap_sem), so this
    // read misses whenever another CPU has just taken or released the mmap lock.
    if (t.mustSync()) yield SYNC;
    t.stall(th.mm.mmapLock.line.read(t.cpu, t.clock));
    if (th.mm.users <= 1) return VM_FAULT_RETRY;
    flags |= FAULT_FLAG_SPECULATIVE;
    // get_vma(): find the VMA under mm_rb_lock and pin it (v9/v11), or under SRCU.
    let vma: Vma | null;
    if (this.version === 'srcu') {
      t.cost(th.k.est.SRCU_READ_NS);
      if (t.mustSync()) yield SYNC;
      vma = findVmaLocked(th, addr);
    } else {
      const rb = this.rb(th.mm);
      if (t.mustSync()) yield SYNC;
      if (!rb.readLockFast(t)) yield* rb.readLock(t);
      vma = findVmaLocked(th, addr);
      if (vma !== null) {
        if (t.mustSync()) yield SYNC;
        this.st(vma).ref.addNow(t, 1);
      }
      if (t.mustSync()) yield SYNC;
      if (!rb.readUnlockFast(t)) yield* rb.readUnlock(t);
    }
    if (vma === null) return VM_FAULT_RETRY;
    // __handle_speculative_fault(), written out here rather than as a generator of its own: every
    // sync below would pass one more generator on its way to the engine and back.
    const st = this.st(vma);
    let ret = VM_FAULT_RETRY;
    speculate: {
      if (t.mustSync()) yield SYNC;
      const seq = st.seq.readNow(t);
      ret = vmaChecks(th, vma, seq, addr, flags);
      if (ret !== 0) break speculate;
      ret = VM_FAULT_RETRY;
      // The page-table walk with IRQs off: every level must exist (no allocation speculatively,
      // "we take at least one !speculative fault per PMD in order to instantiate it").
      if (t.mustSync()) yield SYNC;
      const pt = pteWalk(th, addr);
      if (pt === null || pt.huge) {
        traceSpf(th, EV.SPF_VMA_NOTSUP, AT.walk, vma, addr);
        break speculate;
      }
      const idx = th.k.geo.index(th.k.geo.levels - 1, addr);
      const orig = pt.ptes[idx];
      if (t.mustSync()) yield SYNC;
      if (st.seq.readNow(t) !== seq) {
        traceSpf(th, EV.SPF_VMA_CHANGED, AT.seqRetry, vma, addr);
        break speculate;
      }
      const vmf: Vmf = { vma, addr, flags, pt, idx, orig, spec: new DufourCommit(this, st, seq, addr) };
      if (orig === 0 && vma.isAnonymous()) {
        // handle_pte_fault()'s first case, dispatched here as the classic path does (fault.ts).
        vmfUse(th, vma, pt, addr, 'handle_pte_fault');
        if (th.k.eng.calls) {
          yield t.call(doAnonymousPage(th, vmf));
          ret = t.ret as number;
        } else ret = yield* doAnonymousPage(th, vmf);
      } else ret = yield* handlePteFault(th, vmf);
    }
    if (this.version === 'srcu') t.cost(th.k.est.SRCU_READ_NS);
    else {
      // put_vma(), its sync here rather than in a generator of its own.
      if (t.mustSync()) yield SYNC;
      this.putVmaNow(th, vma);
    }
    if (ret !== VM_FAULT_RETRY) {
      // count_vm_event(SPECULATIVE_PGFAULT) and, in the arch handler, perf_sw_event(PERF_COUNT_SW_SPF).
      th.k.em.count(EV.SPECULATIVE_PGFAULT, th);
      th.k.em.count(EV.SPF, th);
      th.k.em.count(EV.PGFAULT, th);
    }
    return ret;
  }

  /** put_vma(): drop a reference; the last one frees the VMA. */
  private *putVma(th: Thread, vma: Vma): Code {
    if (th.t.mustSync()) yield SYNC;
    this.putVmaNow(th, vma);
  }

  /** put_vma() for a task that has synced. */
  private putVmaNow(th: Thread, vma: Vma): void {
    const t = th.t;
    if (this.st(vma).ref.addNow(t, -1) === 0) {
      t.cost(th.k.est.FREE_VMA_NS);
      th.k.dbg?.vmaFreed(vma, t.clock);
    }
  }

  /** vma_has_changed(): erased from the tree, or its sequence moved. */
  hasChanged(vma: Vma, st: DufourVma, seq: number): boolean {
    return !vma.attached || st.seq.seq !== seq;
  }

  get v9(): boolean {
    return this.version === 'v9';
  }

  /** vm_write_begin() */
  *vmaWriteBegin(th: Thread, vma: Vma): Code {
    yield* this.st(vma).seq.writeBegin(th.t);
  }

  /** vm_write_end() */
  *vmaWriteEnd(th: Thread, vma: Vma): Code {
    yield* this.st(vma).seq.writeEnd(th.t);
  }

  /** unmap_page_range() is bracketed by vm_write_begin/end in the series. */
  unmapBegin(th: Thread, vma: Vma): Code {
    return this.vmaWriteBegin(th, vma);
  }

  unmapEnd(th: Thread, vma: Vma): Code {
    return this.vmaWriteEnd(th, vma);
  }

  *anonVmaAttach(th: Thread, vma: Vma, attach: () => void): Code {
    yield* this.vmaWriteBegin(th, vma);
    attach();
    yield* this.vmaWriteEnd(th, vma);
  }

  /** mm_rb_write_lock() around __vma_link_rb / __vma_rb_erase (v9/v11). */
  *treeModify(th: Thread, mm: MmStruct, change: () => void): Code {
    if (this.version === 'srcu') {
      change();
      return;
    }
    const rb = this.rb(mm);
    yield* rb.writeLock(th.t);
    change();
    yield* rb.writeUnlock(th.t);
  }

  /** remove_vma(): put_vma() (v9/v11), or call_srcu() whose callback a kworker runs later. */
  *vmaFree(th: Thread, vma: Vma): Code {
    if (this.version !== 'srcu') {
      yield* this.putVma(th, vma);
      return;
    }
    const eng = this.eng;
    const cpu = th.t.cpu;
    const k = th.k;
    const at = th.t.clock + this.srcuGpNs;
    eng.at(at, () => {
      eng.irqDebt[cpu] += this.srcuCallbackNs;
      k.dbg?.vmaFreed(vma, at);
    });
  }
}

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

const YN = ['y', 'n'];
const SPF_ON = { CONFIG_SPECULATIVE_PAGE_FAULT: 'y' };

export const design: DesignDescriptor = {
  name: 'dufour',
  // read_lock(&mm->mm_rb_lock) is get_vma()'s; mm_rb_write_lock() is static inline in mm/mmap.c.
  // pte_map_lock() is the step function; its generator wrapper is no frame of its own.
  lockCallers: { 'DufourStrategy.faultWithoutMmapLock': 'get_vma', 'DufourStrategy.treeModify': null, 'DufourCommit.pteMapLockStep': 'pte_map_lock', 'DufourCommit.pteMapLock': null },
  title: 'Laurent Dufour SPF: mm_rb rwlock, VMA refcount, per-VMA seqcount',
  since: '2017-06',
  source: 'kernel-facts.md section 1; lkml "[PATCH v9/v11] Speculative page faults" (2018), SRCU postings v1-v5 (2017)',
  needs: 'CONFIG_SPECULATIVE_PAGE_FAULT',
  lockless:
    'anonymous faults of multithreaded processes whose VMA has an anon_vma and whose page tables exist: VMA found under `mm_rb_lock` and pinned (`vm_ref_count`), per-VMA `vm_sequence` checked at PTE-lock time, PTE trylock looped (v11) or aborting (v9); before v6, VMAs found under SRCU and freed by `call_srcu()` callbacks in a kworker',
  kconfig: {
    CONFIG_SPECULATIVE_PAGE_FAULT: { values: YN, def: 'n', doc: 'speculative page faults (Dufour 2018, Lespinasse 2021 series)' },
  },
  settings: {
    spf_version: { values: ['v9', 'v11', 'srcu'], def: 'v11', doc: 'dufour: posting modelled' },
  },
  presets: {
    'dufour-v9': {
      description: 'Dufour SPF v9 (2018-03): mm_rb rwlock, VMA refcount, per-VMA seqcount; aborts on a busy PTE lock',
      settings: { ...SPF_ON, spf_version: 'v9' },
    },
    'dufour-v11': {
      description: 'Dufour SPF v11 (2018-05): as v9, but loops on a busy PTE lock instead of aborting',
      aliases: ['spf'],
      settings: { ...SPF_ON, spf_version: 'v11' },
    },
    'dufour-srcu': {
      description: 'Dufour SPF before v6 (2017): VMAs freed through SRCU instead of the rwlock + refcount',
      settings: { ...SPF_ON, spf_version: 'srcu' },
    },
  },
  vmstat: [{ names: ['speculative_pgfault'] }],
  events: [
    'speculative-faults',
    'pagefault:spf_vma_changed',
    'pagefault:spf_vma_noanon',
    'pagefault:spf_vma_notsup',
    'pagefault:spf_vma_access',
    'pagefault:spf_pmd_changed',
    'pagefault:spf_pte_lock',
  ],
  sites: Object.values(AT),
  // call_srcu() callbacks run in a kworker: a wake-up and two context switches per batch item.
  create: ({ eng, settings, costs }) =>
    new DufourStrategy(eng, settings.spf_version as DufourVersion, costs.rcuGracePeriodNs, costs.wakeupNs + 2 * costs.contextSwitchNs),
};
