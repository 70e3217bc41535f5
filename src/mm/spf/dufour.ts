import { SYNC, StepFrame, runFrame, type Code, type Engine } from '../../engine/engine.js';
import { Atomic, RwLock, SeqCount } from '../../engine/locks.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import { VmaState, type DesignDescriptor, type DesignHooks } from './registry.js';
import { AT, FaultWithoutMmapLock } from './dufour-fault.js';

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
export class DufourVma {
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

  /** handle_speculative_fault(), where calls are off (Engine.calls): the step function below. */
  *faultWithoutMmapLock(th: Thread, addr: number, flags: number): Code<number> {
    return yield* runFrame(th.t, this.faultFrame(th, addr, flags));
  }

  /** handle_speculative_fault() as a step function (a call of its own where calls are on). */
  faultFrame(th: Thread, addr: number, flags: number): StepFrame {
    return new FaultWithoutMmapLock(this, th, addr, flags);
  }

  get srcu(): boolean {
    return this.version === 'srcu';
  }

  /** mm->mm_rb_lock of th's mm */
  rbOf(th: Thread): RwLock {
    return this.rb(th.mm);
  }

  vmaOf(vma: Vma): DufourVma {
    return this.st(vma);
  }

  /** put_vma(): drop a reference; the last one frees the VMA. */
  private *putVma(th: Thread, vma: Vma): Code {
    if (th.t.mustSync()) yield SYNC;
    this.putVmaNow(th, vma);
  }

  /** put_vma() for a task that has synced. */
  putVmaNow(th: Thread, vma: Vma): void {
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

const YN = ['y', 'n'];
const SPF_ON = { CONFIG_SPECULATIVE_PAGE_FAULT: 'y' };

export const design: DesignDescriptor = {
  name: 'dufour',
  // read_lock(&mm->mm_rb_lock) is get_vma()'s (the step function under the generator that runs it
  // where calls are off); mm_rb_write_lock() is static inline in mm/mmap.c.
  // pte_map_lock() is the step function; its generator wrapper is no frame of its own.
  lockCallers: { 'DufourStrategy.faultWithoutMmapLock': 'get_vma', 'FaultWithoutMmapLock.step': null, 'FaultWithoutMmapLock.handle': null, 'FaultWithoutMmapLock.done': null, 'DufourStrategy.treeModify': null, 'DufourCommit.pteMapLockStep': 'pte_map_lock', 'DufourCommit.pteMapLock': null },
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
