import { BLOCK, SYNC, type Code, type Engine, type Task } from '../../engine/engine.js';
import type { CacheLine } from '../../engine/cacheline.js';
import { LCB_F_WRITE } from '../../engine/lockstat.js';
import type { LockWaitee } from '../../engine/wait.js';
import { TaskState } from '../../engine/task.js';
import { RwSemaphore, type RwsemEra } from '../../engine/rwsem.js';
import { EV } from '../../events/catalog.js';
import { accessError, findVmaLocked, handleMmFault } from '../fault.js';
import type { MmStruct, Thread } from '../kernel.js';
import type { Vma } from '../vma.js';
import { FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_USER, FAULT_FLAG_VMA_LOCK, FAULT_FLAG_WRITE, VM_FAULT_RETRY } from '../types.js';
import { VmaState, type DesignDescriptor, type DesignHooks } from './registry.js';
import { MmSeqs, rcuFreeVma, rcuReadLock, rcuReadUnlock, type MmSeq } from './strategy.js';

/**
 * Per-VMA locks as merged in Linux 6.4 (Suren Baghdasaryan; kernel-facts.md section 3).
 *
 * Each VMA has a reader-writer semaphore in a separately allocated struct (its own cache line)
 * and vm_lock_seq; the mm has mm_lock_seq. A VMA writer, holding the mmap lock for writing,
 * write-locks the VMA (vma_start_write: down_write, vm_lock_seq = mm_lock_seq, up_write); all
 * VMAs are unlocked at once by mmap_write_unlock() (vma_end_write_all: mm_lock_seq++).
 * lock_vma_under_rcu() finds the VMA in the maple tree under RCU, refuses non-anonymous VMAs (and
 * before 6.10 VMAs without an anon_vma: kconfig `vma_lock_anon_vma`), and read-locks it with a
 * trylock that fails while it is write-locked. The fault then runs the ordinary handler
 * (page-table allocation included) under the VMA lock; from 6.10 a missing anon_vma is attached
 * there by vmf_anon_prepare() under a trylocked mmap lock (rmap.ts).
 */

/**
 * vma->vm_lock as 6.4-6.14 have it: a reader-writer semaphore of the kernel's era. A fault
 * read-trylocks it (down_read_trylock, which fails while a writer holds or waits); a VMA writer
 * takes it with down_write, spinning and sleeping as the era's rwsem does.
 */
class VmaRwsem {
  readonly lock: RwSemaphore;
  constructor(eng: Engine, rwsem: RwsemEra | undefined) {
    this.lock = new RwSemaphore(eng, 'vma->vm_lock');
    if (rwsem !== undefined) this.lock.configure(rwsem);
  }
  readTrylock(t: Task): Code<boolean> {
    return this.lock.downReadTrylock(t);
  }
  readUnlock(t: Task): Code {
    return this.lock.upRead(t);
  }
  writeLock(t: Task): Code {
    return this.lock.downWrite(t);
  }
  writeUnlock(t: Task): Code {
    return this.lock.upWrite(t);
  }
}

/**
 * vma->vm_refcnt as 6.15 made the lock ("mm: replace vm_lock and detached flag with a reference
 * count", Suren Baghdasaryan): one atomic count. A fault's vma_start_read() raises it unless a
 * writer has added VMA_LOCK_OFFSET; __vma_start_write() adds the offset and sleeps on the mm's
 * vma_writer_wait (rcuwait: no spinning) until the readers are gone; the last reader's
 * vma_end_read() wakes it (rcuwait_wake_up(), the reader's try_to_wake_up()).
 */
class VmRefcnt implements LockWaitee {
  readonly name = 'vma->vm_refcnt';
  readers = 0;
  /** The writer that added VMA_LOCK_OFFSET (it may be asleep waiting for the readers). */
  writer: Task | null = null;
  private readonly line: CacheLine;
  constructor(private readonly eng: Engine) {
    this.line = eng.line(this.name);
  }
  exclusiveHolder(): Task | null {
    return this.writer;
  }
  /** vma_start_read(): __refcount_inc_not_zero_limited_acquire(), refused while a writer is in. */
  *readTrylock(t: Task): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    if (this.writer !== null) return false;
    this.readers++;
    return true;
  }
  /** vma_end_read(): vma_refcount_put(); the last reader wakes a waiting writer. */
  *readUnlock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    this.readers--;
    const w = this.writer;
    if (this.readers === 0 && w !== null && w.state === TaskState.Blocked) {
      this.eng.wake(w, t.clock);
      t.cost(this.eng.costs.ttwuNs ?? 0);
    }
  }
  /** __vma_enter_locked(): add VMA_LOCK_OFFSET, then rcuwait_wait_event() for the readers to go. */
  *writeLock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    this.writer = t;
    // A wait for the VMA lock, for spfperf lock contention (as the rwsem's writer wait it replaced).
    let waited = false;
    for (;;) {
      if (t.mustSync()) yield SYNC;
      if (this.readers === 0) {
        if (waited) this.eng.contention?.end(t, this);
        return;
      }
      t.wait = { kind: 'queue', queue: 'vma_writer_wait', object: 'vma->vm_refcnt', fn: '__vma_start_write' };
      if (!waited) this.eng.contention?.begin(t, this, LCB_F_WRITE);
      waited = true;
      yield BLOCK;
    }
  }
  /** __vma_exit_locked(): take the offset back off. */
  *writeUnlock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    this.writer = null;
  }
}

class VmaLock {
  readonly lock: VmaRwsem | VmRefcnt;
  vmLockSeq = -1;
  constructor(eng: Engine, rwsem: RwsemEra | undefined, kind: VmaLockKind) {
    this.lock = kind === 'refcount' ? new VmRefcnt(eng) : new VmaRwsem(eng, rwsem);
  }
}

/** The `vma_lock` setting: what vma->vm_lock is (era key, 6.15). */
type VmaLockKind = 'rwsem' | 'refcount';

/** Not a speculative design: faults count vma_lock_*, not the SPF series' spf. */
export class PerVmaLockStrategy implements DesignHooks {
  /** A fault completed by lock_vma_under_rcu()'s path held the VMA's read lock. */
  readonly attemptLock = 'vma' as const;
  /** mm->mm_lock_seq */
  private readonly seqs: MmSeqs;
  private readonly vmaState: VmaState<VmaLock>;

  /** `rwsem`: the kernel era's rw_semaphore, which vma->vm_lock is up to 6.14; `kind`: which lock it is. */
  constructor(eng: Engine, rwsem?: RwsemEra, kind: VmaLockKind = 'rwsem') {
    this.seqs = new MmSeqs(eng, 'mm_lock_seq');
    this.vmaState = new VmaState(() => new VmaLock(eng, rwsem, kind));
  }

  private st(vma: Vma): VmaLock {
    return this.vmaState.of(vma);
  }

  private mmSeq(mm: MmStruct): MmSeq {
    return this.seqs.of(mm);
  }

  /** The x86 6.4 do_user_addr_fault() part before lock_mm_and_find_vma(). */
  *faultWithoutMmapLock(th: Thread, addr: number, flags: number): Code<number> {
    const k = th.k;
    if ((flags & FAULT_FLAG_USER) === 0) return VM_FAULT_RETRY;
    const vma = yield* this.lockVmaUnderRcu(th, addr);
    if (vma === null) return VM_FAULT_RETRY;
    const st = this.st(vma);
    if (accessError((flags & FAULT_FLAG_WRITE) !== 0, vma)) {
      // 6.4: unlock the VMA and let the mmap-lock path raise the signal.
      yield* st.lock.readUnlock(th.t);
      return VM_FAULT_RETRY;
    }
    const fault = yield* handleMmFault(th, vma, addr, (flags | FAULT_FLAG_VMA_LOCK) & ~FAULT_FLAG_ALLOW_RETRY);
    yield* st.lock.readUnlock(th.t);
    if ((fault & VM_FAULT_RETRY) === 0) {
      k.em.count(EV.VMA_LOCK_SUCCESS, th);
      return fault;
    }
    k.em.count(EV.VMA_LOCK_RETRY, th);
    return VM_FAULT_RETRY;
  }

  /** lock_vma_under_rcu() */
  private *lockVmaUnderRcu(th: Thread, addr: number): Code<Vma | null> {
    const t = th.t;
    const mm = th.mm;
    rcuReadLock(th);
    for (;;) {
      if (t.mustSync()) yield SYNC;
      const vma = findVmaLocked(th, addr); // mas_walk() under rcu_read_lock()
      if (vma === null || vma.start > addr || !vma.isAnonymous()) return this.inval(th);
      // 6.4-6.9: no anon_vma yet, give up (__anon_vma_prepare() looks at unlocked neighbours).
      // From 6.10 the fault goes on, and vmf_anon_prepare() trylocks the mmap lock for it.
      if (vma.anonVma === null && th.k.opts.vmaLockAnonVma === 'inval') return this.inval(th);
      if (!(yield* this.vmaStartRead(th, mm, vma))) return this.inval(th);
      if (addr < vma.start || addr >= vma.end) {
        yield* this.st(vma).lock.readUnlock(t);
        return this.inval(th);
      }
      if (!vma.attached) {
        yield* this.st(vma).lock.readUnlock(t);
        th.k.em.count(EV.VMA_LOCK_MISS, th);
        continue;
      }
      rcuReadUnlock(th);
      return vma;
    }
  }

  private inval(th: Thread): null {
    rcuReadUnlock(th);
    th.k.em.count(EV.VMA_LOCK_ABORT, th);
    return null;
  }

  /** vma_start_read(): fails if the VMA is write-locked (vm_lock_seq == mm_lock_seq) or contended. */
  private *vmaStartRead(th: Thread, mm: MmStruct, vma: Vma): Code<boolean> {
    const t = th.t;
    const st = this.st(vma);
    const s = this.mmSeq(mm);
    if (t.mustSync()) yield SYNC;
    s.line.readBy(t);
    const seq = st.vmLockSeq;
    if (seq === s.value) return false;
    if (!(yield* st.lock.readTrylock(t))) return false;
    // Re-check against the value sampled before the trylock (the June 2023 fix).
    if (st.vmLockSeq !== seq) {
      yield* st.lock.readUnlock(t);
      return false;
    }
    return true;
  }

  /** vma_end_write_all(): every VMA write-locked under this mmap_lock is unlocked at once. */
  *mmapWriteUnlocking(th: Thread, mm: MmStruct): Code {
    const t = th.t;
    if (t.mustSync()) yield SYNC;
    const s = this.mmSeq(mm);
    s.line.writeBy(t);
    s.value++;
  }

  /** vma_start_write(): wait for the VMA's readers (in-flight faults), then mark it write-locked. */
  vmaWriteBegin(th: Thread, vma: Vma): Code {
    return this.vmaStartWrite(th, vma, th.mm);
  }

  /**
   * dup_mmap() write-locks each parent VMA (fb49c455323f, "fork: lock VMAs of the parent process
   * when forking", 6.5 and 6.4.3): the lock holds until mmap_write_unlock(), after the flush, so
   * no fault under a VMA lock copies a page while another CPU may still write it through a
   * translation cached before the fork write-protected it.
   */
  dupMmapVma(th: Thread, vma: Vma): Code {
    return this.vmaStartWrite(th, vma, th.mm);
  }

  private *vmaStartWrite(th: Thread, vma: Vma, mm: MmStruct): Code {
    const st = this.st(vma);
    const s = this.mmSeq(mm);
    if (st.vmLockSeq === s.value) return;
    yield* st.lock.writeLock(th.t);
    st.vmLockSeq = s.value;
    yield* st.lock.writeUnlock(th.t);
  }

  /** "mm/khugepaged: write-lock VMA while collapsing a huge page" (in the VMA's own mm). */
  collapseBegin(th: Thread, vma: Vma, mm: MmStruct): Code {
    return this.vmaStartWrite(th, vma, mm);
  }

  /** VMAs are freed after an RCU grace period (lock_vma_under_rcu may still be looking). */
  *vmaFree(th: Thread, vma: Vma): Code {
    yield* rcuFreeVma(th, vma);
  }
}

export const design: DesignDescriptor = {
  name: 'per-vma-lock',
  // The refcount lock's writer wait (6.15+) is a lock function: its caller is vma_start_write.
  // Its fault attempt is code of do_user_addr_fault() (arch/x86/mm/fault.c, 6.4+).
  lockCallers: { 'VmRefcnt.writeLock': null, 'PerVmaLockStrategy.faultWithoutMmapLock': null },
  title: 'per-VMA locks as merged in 6.4: lock_vma_under_rcu, anonymous VMAs only',
  since: '2023-02',
  source: 'kernel-facts.md section 3; Suren Baghdasaryan, "Per-VMA locks" (merged in 6.4)',
  mainline: { release: '6.4', label: 'per-VMA locks' },
  needs: 'CONFIG_PER_VMA_LOCK',
  lockless:
    'faults in anonymous VMAs with an anon_vma, under the VMA\'s read lock (`lock_vma_under_rcu`); VMA writers write-lock VMAs until `mmap_write_unlock`',
  settings: {
    vma_lock: {
      values: ['refcount', 'rwsem'],
      def: 'refcount',
      doc: 'per-VMA locks: vma->vm_lock is an rw_semaphore (rwsem: 6.4-6.14; a VMA writer spins and sleeps as the era\'s rwsem does) or vma->vm_refcnt (refcount: 6.15+; the writer sleeps until the faults in the VMA are gone, and the last one wakes it)',
    },
  },
  kconfig: {
    CONFIG_PER_VMA_LOCK: { values: ['y', 'n'], def: 'n', doc: 'per-VMA locks (6.4)' },
    CONFIG_PER_VMA_LOCK_STATS: { values: ['y', 'n'], def: 'n', doc: 'per-VMA locks: vma_lock_* vmstat counters' },
  },
  presets: {
    'per-vma-lock': {
      description: 'per-VMA locks as merged in 6.4: lock_vma_under_rcu, anonymous VMAs only',
      // As merged: lock_vma_under_rcu() gives up on a VMA without an anon_vma (kernel=6.10 or
      // later, given after the preset, lets the fault attach one under a trylocked mmap lock),
      // and vma->vm_lock is an rw_semaphore (kernel=6.15 or later: the reference count).
      settings: { CONFIG_PER_VMA_LOCK: 'y', CONFIG_PER_VMA_LOCK_STATS: 'y', vma_lock_anon_vma: 'inval', vma_lock: 'rwsem' },
    },
  },
  vmstat: [{ names: ['vma_lock_success', 'vma_lock_abort', 'vma_lock_retry', 'vma_lock_miss'], when: 'CONFIG_PER_VMA_LOCK_STATS' }],
  create: ({ eng, rwsem, settings }) => new PerVmaLockStrategy(eng, rwsem, settings.vma_lock as VmaLockKind | undefined),
};
