import { BLOCK, SPIN, SYNC, TaskState, type Code, type Engine, type Task, type Timer } from './engine.js';
import type { CacheLine } from './cacheline.js';
import type { LockStats } from './locks.js';
import type { LockWaitee } from './wait.js';
import { SpinLock } from './locks.js';
import { LCB_F_READ, LCB_F_WRITE } from './lockstat.js';
import { spinlockDowngrade, spinlockDownRead, spinlockDownWrite, spinlockRelease, spinlockTrylock } from './rwsem-spinlock.js';
import { MAX_READERS_WAKEUP, RWSEM_2_6, RWSEM_WAIT_TIMEOUT_NS, rspinThresholdNs, type RwsemEra, type RwsemWaiter } from './rwsem-era.js';
import { objectList } from './object-list.js';

export { RWSEM_2_6, type RwsemEra, type RwsemWaiter } from './rwsem-era.js';

/**
 * struct rw_semaphore (the mmap lock) as each kernel era implemented it. What changed, and when,
 * is the era table of src/config/era.ts and the audit of docs/locking.md; an RwSemaphore takes
 * the era's behaviour as an RwsemEra (configure()). Without one it behaves as 2.6.33's
 * lib/rwsem.c did: every hand-off is a grant made by the releaser, no one spins.
 *
 * Every operation first syncs, then pays for its atomic on the lock's cache line (the count,
 * the owner and the wait_lock share it), then acts; the releaser pays for the wake-ups it issues.
 * Each takes the interrupt time its CPU owes first (an IPI's handler, a hypervisor's stall of the
 * vCPU): owed from before a lock, it is paid before taking it; from inside, it delays the release.
 */

export class RwSemaphore implements LockWaitee {
  readers = 0;
  writer: Task | null = null;
  /** sem->wait_list, in arrival order. */
  readonly waiters: RwsemWaiter[] = objectList();
  /** Tasks in rwsem_optimistic_spin(), in OSQ order (the head spins on the owner): writers, and readers in the `spin` era. */
  private readonly spinners: RwsemWaiter[] = objectList();
  /** RWSEM_FLAG_HANDOFF */
  handoff = false;
  /** RWSEM_WR_NONSPINNABLE (5.3-5.10), RWSEM_NONSPINNABLE (5.11+): writers do not spin on readers. */
  wrNonspinnable = false;
  /** RWSEM_RD_NONSPINNABLE (5.3-5.10): readers do not spin. */
  rdNonspinnable = false;
  /** The time limit of the OSQ head writer spinning on readers, and that writer. */
  private rspinTimer: Timer | null = null;
  private rspinFor: RwsemWaiter | null = null;
  /** The kernel era's behaviour (configure()). */
  era: RwsemEra = RWSEM_2_6;
  readonly stats: LockStats = { acquired: 0, contended: 0 };
  readonly line: CacheLine;

  constructor(
    private readonly eng: Engine,
    readonly name: string,
  ) {
    this.line = eng.line(name);
    eng.locks?.add(this);
  }

  /** sem->wait_lock of the generic spinlock rw_semaphore (era.genericSpinlock, rwsem-spinlock.ts), on the lock's line. */
  waitLock: SpinLock | null = null;

  /** Take the behaviour of a kernel era (before the lock is first used). */
  configure(era: RwsemEra): void {
    this.era = era;
    this.waitLock = era.genericSpinlock ? new SpinLock(this.eng, `${this.name}.wait_lock`, this.line) : null;
  }

  /** CONFIG_RWSEM_SPIN_ON_OWNER alone, for tests of the 3.16 writer spinning. */
  get spinOnOwner(): boolean {
    return this.era.spinOnOwner;
  }
  set spinOnOwner(on: boolean) {
    this.era = { ...this.era, spinOnOwner: on };
  }

  // --- the public API --------------------------------------------------------------------------

  /** down_read() */
  *downRead(t: Task): Code {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null) return yield* spinlockDownRead(this, t);
    if (t.mustSync()) yield SYNC;
    if (this.downReadFast(t)) return;
    this.enterSlowpath(t);
    yield* this.downReadSlowpath(t);
  }

  /**
   * down_read() when it can complete at once (no sync, no wait): true if taken. The fast path
   * adds a reader and fails on a writer, on waiters, or on the hand-off bit (which implies
   * waiters): RWSEM_READ_FAILED_MASK (5.3+), a negative count (before).
   */
  downReadFast(t: Task): boolean {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null || this.writer !== null || this.waiters.length > 0 || t.owesSync()) return false;
    this.line.writeBy(t);
    this.stats.acquired++;
    this.readers++;
    return true;
  }

  /** up_read() */
  *upRead(t: Task): Code {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null) return yield* spinlockRelease(this, t, false);
    if (t.mustSync()) yield SYNC;
    this.release(t, false);
  }

  /** up_read() when no sync is needed: true if released. */
  upReadFast(t: Task): boolean {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null || t.owesSync()) return false;
    this.release(t, false);
    return true;
  }

  /** down_write() */
  *downWrite(t: Task): Code {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null) return yield* spinlockDownWrite(this, t);
    if (t.mustSync()) yield SYNC;
    if (this.writer === null && this.readers === 0 && this.waiters.length === 0) {
      // The fast path: cmpxchg from unlocked (an atomic add of the write bias before 5.3).
      this.line.writeBy(t);
      this.stats.acquired++;
      this.setWriter(t, false);
      return;
    }
    this.enterSlowpath(t);
    yield* this.downWriteSlowpath(t);
  }

  /** up_write() */
  *upWrite(t: Task): Code {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null) return yield* spinlockRelease(this, t, true);
    if (t.mustSync()) yield SYNC;
    this.release(t, true);
  }

  /** down_read_trylock(): fails on a writer and on waiters, in every era. */
  *downReadTrylock(t: Task): Code<boolean> {
    if (this.waitLock !== null) return yield* spinlockTrylock(this, t, false);
    if (t.mustSync()) yield SYNC;
    if (this.writer !== null || this.waiters.length > 0) {
      this.line.readBy(t);
      return false;
    }
    this.line.writeBy(t);
    this.stats.acquired++;
    this.readers++;
    return true;
  }

  /** down_write_trylock(): a cmpxchg from the unlocked count, which waiters make fail. */
  *downWriteTrylock(t: Task): Code<boolean> {
    if (this.waitLock !== null) return yield* spinlockTrylock(this, t, true);
    if (t.mustSync()) yield SYNC;
    if (this.writer !== null || this.readers > 0 || this.waiters.length > 0) {
      this.line.readBy(t);
      return false;
    }
    this.line.writeBy(t);
    this.stats.acquired++;
    this.setWriter(t, false);
    return true;
  }

  /**
   * downgrade_write(): the writer keeps the lock as a reader and rwsem_downgrade_wake() lets in
   * the queued readers (rwsem_mark_wake(RWSEM_WAKE_READ_OWNED)). The tasks spinning on it see a
   * reader owner: writers stop (up to 5.2) or spin on the readers (5.3+); readers join (5.3-5.10).
   */
  *downgradeWrite(t: Task): Code {
    this.eng.absorbIrq(t);
    if (this.waitLock !== null) return yield* spinlockDowngrade(this, t);
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    const rd = this.rdNonspinnable; // rwsem_set_reader_owned() keeps the reader bit
    this.dropOwner(t);
    this.rdNonspinnable = rd;
    this.readers++;
    if (this.spinners.length > 0) this.serveSpinners(t.clock);
    if (this.waiters.length > 0 && !this.waiters[0].write) t.cost(this.grantReaders(t.clock, false));
  }

  /** Is the lock held by a writer? */
  get writeLocked(): boolean {
    return this.writer !== null;
  }

  exclusiveHolder(): Task | null {
    return this.writer;
  }

  // --- the slow paths ------------------------------------------------------------------------

  /** The atomic of the failed fast path, and the counts. */
  private enterSlowpath(t: Task): void {
    this.line.writeBy(t);
    this.stats.acquired++;
    this.stats.contended++;
  }

  private newWaiter(t: Task, write: boolean): RwsemWaiter {
    return { t, write, since: t.clock, granted: false, sawNonspinnable: write ? this.rdNonspinnable || this.wrNonspinnable : this.rdNonspinnable };
  }

  /** May a task spin now? Not while tasks wait for a CPU: it would see need_resched() and stop. */
  private mayspin(): boolean {
    return this.era.spinOnOwner && this.eng.runqueue.length === 0;
  }

  /** owner_on_cpu(): the writer owner runs (or spins on another lock: it is on its CPU). */
  private ownerRunning(): boolean {
    const o = this.writer;
    return o !== null && (o.state === TaskState.Running || o.state === TaskState.Spinning);
  }

  /**
   * rwsem_down_read_slowpath() (5.3+), rwsem_down_read_failed() (before): a reader that could
   * not take the lock at once.
   */
  private *downReadSlowpath(t: Task): Code {
    if (this.era.readerOpt === 'steal') {
      // 5.11+: reader optimistic lock stealing, when neither a writer, nor the hand-off bit, nor
      // other readers (a constant stream of readers would starve the waiters) hold the lock.
      if (this.writer === null && this.readers === 0 && !this.handoff) return this.joinReaders(t);
    } else if (this.era.readerOpt === 'spin' && this.mayspin() && !this.rdNonspinnable && (this.writer === null || this.ownerRunning())) {
      // 5.3-5.10: rwsem_optimistic_spin(sem, false); rwsem_try_read_lock_unqueued() takes a lock
      // that no writer and no hand-off holds, ahead of any waiter.
      if (this.spinners.length === 0 && this.writer === null && !this.handoff) return this.joinReaders(t);
      this.spinners.push(this.newWaiter(t, false));
      t.wait = { kind: 'lock', lock: this, fn: 'down_read', mode: 'read-spin' };
      this.eng.contention?.begin(t, this, LCB_F_READ);
      yield SPIN; // granted at the owner's release, or stopped, queued and granted later
      this.eng.contention?.end(t, this);
      return;
    }
    const w = this.newWaiter(t, false);
    this.waiters.push(w);
    t.wait = { kind: 'lock', lock: this, fn: 'down_read', mode: 'read' };
    this.eng.contention?.begin(t, this, LCB_F_READ); // trace_contention_begin(sem, LCB_F_READ)
    // Readers are always granted by the task that wakes them (rwsem_mark_wake).
    while (!w.granted) yield BLOCK;
    this.eng.contention?.end(t, this);
  }

  /** A reader got in without queueing: if readers head the queue it wakes them (RWSEM_WAKE_READ_OWNED). */
  private joinReaders(t: Task): void {
    this.readers++;
    if (this.waiters.length > 0 && !this.waiters[0].write) t.cost(this.grantReaders(t.clock, false));
  }

  /**
   * rwsem_down_write_slowpath() (5.3+), rwsem_down_write_failed() (before): a writer that could
   * not take the lock at once.
   */
  private *downWriteSlowpath(t: Task): Code {
    if (this.era.writerSteal && this.writer === null && this.readers === 0 && !this.handoff) {
      // The lock is free but a woken waiter has not taken it yet: take it first
      // (rwsem_try_write_lock_unqueued() while spinning, rwsem_try_write_lock() before 3.16).
      this.setWriter(t, false);
      return;
    }
    const w = this.newWaiter(t, true);
    this.eng.contention?.begin(t, this, LCB_F_WRITE); // the spin too: see docs/lock.md
    // rwsem_can_spin_on_owner(): not on a writer owner off its CPU; on readers only from 5.3,
    // and not once a writer's time on them ran out (the non-spinnable bit).
    const spin = this.mayspin() && (this.writer !== null ? this.ownerRunning() : this.readers === 0 || (this.era.spinOnReaders && !this.wrNonspinnable));
    if (spin) {
      // rwsem_optimistic_spin(): stay on the CPU watching the owner (the OSQ orders the spinners).
      this.spinners.push(w);
      if (this.spinners.length === 1 && this.writer === null && this.readers > 0) this.startRspin(w, t.clock);
      t.wait = { kind: 'lock', lock: this, fn: 'down_write', mode: 'write-spin' };
      yield SPIN;
      if (w.granted) return this.eng.contention?.end(t, this);
      // Stopped (the owner slept, or the time on readers ran out), queued, slept and woken.
    } else {
      this.waiters.push(w);
      t.wait = { kind: 'lock', lock: this, fn: 'down_write', mode: 'write' };
      yield BLOCK;
    }
    for (;;) {
      if (w.granted) return this.eng.contention?.end(t, this);
      // Woken by rwsem_wake() with the lock free: rwsem_try_write_lock(), which someone that
      // came first may have made fail.
      if (t.mustSync()) {
        yield SYNC;
        continue;
      }
      if (this.writer === null && this.readers === 0 && (!this.handoff || this.waiters[0] === w)) {
        this.line.writeBy(t);
        this.waiters.splice(this.waiters.indexOf(w), 1);
        this.handoff = false;
        this.setWriter(t, w.sawNonspinnable);
        return this.eng.contention?.end(t, this);
      }
      this.line.readBy(t);
      if (this.era.handoff && !this.handoff && this.waiters[0] === w && t.clock - w.since >= RWSEM_WAIT_TIMEOUT_NS) {
        // Waited too long: set RWSEM_FLAG_HANDOFF; the next release is this waiter's.
        this.line.writeBy(t);
        this.handoff = true;
      }
      t.wait = { kind: 'lock', lock: this, fn: 'down_write', mode: 'write' };
      yield BLOCK;
    }
  }

  // --- ownership and release -------------------------------------------------------------------

  /**
   * rwsem_set_owner(): the owner word is overwritten, which clears the non-spinnable bits; a
   * writer that queued having seen them sets the reader one again (5.3-5.10,
   * rwsem_disable_reader_optspin()).
   */
  setWriter(t: Task, sawNonspinnable: boolean): void {
    this.writer = t;
    this.wrNonspinnable = false;
    this.rdNonspinnable = sawNonspinnable && this.era.readerOpt === 'spin';
    this.cancelRspin();
    if (this.era.spinOnOwner) t.onSleep.push(this.ownerSleeps);
  }

  /** The writer `t` leaves: rwsem_clear_owner(), and its spinners no longer watch it sleep. */
  dropOwner(t: Task): void {
    this.writer = null;
    this.rdNonspinnable = false;
    const h = t.onSleep.indexOf(this.ownerSleeps);
    if (h >= 0) t.onSleep.splice(h, 1);
  }

  /** __up_read() / __up_write(), then rwsem_wake() if the lock is free and someone waits. */
  private release(t: Task, write: boolean): void {
    this.line.writeBy(t);
    if (write) this.dropOwner(t);
    else this.readers--;
    if (this.readers > 0 || this.writer !== null) return;
    if (!write && this.waiters.length > 0) this.wrNonspinnable = false; // clear_wr_nonspinnable()
    if (this.spinners.length > 0) {
      // A spinner sees the owner go and takes the lock ahead of the sleepers. rwsem_wake() runs
      // all the same (the count said waiters): a writer at the head wakes to find it taken.
      this.serveSpinners(t.clock);
      if (this.readers > 0 || this.writer !== null) {
        if (this.era.writerSteal && this.waiters.length > 0 && this.waiters[0].write) t.cost(this.wakeup(this.waiters[0].t, t.clock));
        return;
      }
    }
    // rwsem_wake() runs in the releaser: it pays for the wake-ups it issues.
    if (this.waiters.length > 0) t.cost(this.markWake(t.clock));
  }

  /**
   * rwsem_mark_wake(RWSEM_WAKE_ANY) (5.3+), __rwsem_mark_wake() / __rwsem_do_wake() (before), at
   * `time` with the lock free: returns the releaser's cost of the wake-ups. `grantWriter`: grant
   * a head writer even with writer stealing (rwsem-spinlock.ts: its writer does not retry).
   */
  markWake(time: number, grantWriter = false): number {
    const head = this.waiters[0];
    if (!head.write) return this.grantReaders(time, true);
    if (this.era.writerSteal && !this.handoff && !grantWriter) {
      // Wake the writer at the head, but do not grant it the lock: other writers may steal it.
      return this.wakeup(head.t, time);
    }
    // 2.6.33's __rwsem_do_wake() granted the lock to the woken writer; with the hand-off bit set
    // nobody else can take it, which comes to the same.
    this.waiters.shift();
    head.granted = true;
    this.handoff = false;
    this.setWriter(head.t, head.sawNonspinnable);
    // The new owner is not on a CPU yet: rwsem_spin_on_owner() stops whoever spins.
    if (this.spinners.length > 0) this.stopSpinners(time);
    return this.wakeup(head.t, time);
  }

  /** try_to_wake_up() of a sleeping task at `time`: the waker's cost (none if it is not asleep). */
  private wakeup(t: Task, time: number): number {
    if (t.state !== TaskState.Blocked) return 0;
    this.eng.wake(t, time);
    return this.eng.costs.ttwuNs ?? 0;
  }

  /**
   * Grant the queued readers the lock: those at the head up to the first writer (up to 5.2), or
   * every queued reader up to MAX_READERS_WAKEUP (5.3+). wake_up_q() wakes them one after the
   * other: the k-th is woken k try_to_wake_up()s after `time`. Returns the waker's cost.
   * `afterWriter`: the lock was write-held, so the reader owner word is the first woken reader's.
   */
  grantReaders(time: number, afterWriter: boolean): number {
    const ttwu = this.eng.costs.ttwuNs ?? 0;
    const all = this.era.readerWake === 'all';
    const ws = this.waiters;
    if (afterWriter) this.rdNonspinnable = ws[0].sawNonspinnable && this.era.readerOpt === 'spin';
    let k = 0;
    let kept = 0;
    let open = true;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i];
      if (open && !w.write && (!all || k < MAX_READERS_WAKEUP)) {
        w.granted = true;
        this.readers++;
        this.eng.wake(w.t, time + k * ttwu);
        k++;
      } else {
        if (w.write && !all) open = false;
        ws[kept++] = w;
      }
    }
    ws.length = kept;
    return k * ttwu;
  }

  // --- optimistic spinning ---------------------------------------------------------------------

  /**
   * rwsem_optimistic_spin() of the OSQ head, when the lock changed hands at `time`: a writer takes
   * a free lock (rwsem_try_write_lock_unqueued), a reader one no writer holds
   * (rwsem_try_read_lock_unqueued, 5.3-5.10); a writer facing readers spins on them with a time
   * limit (5.3+) or gives up (before). The others keep spinning behind.
   */
  private serveSpinners(time: number): void {
    while (this.spinners.length > 0) {
      const s = this.spinners[0];
      if (s.write) {
        if (this.writer === null && this.readers === 0) {
          if (this.handoff) return; // the head waiter's: keep spinning
          this.spinners.shift();
          s.granted = true;
          this.setWriter(s.t, false);
          this.eng.resumeSpinner(s.t, time + this.line.write(s.t.cpu, time));
          return;
        }
        if (this.writer === null) {
          // Reader-owned: spin on the readers for rwsem_rspin_threshold(), or give up.
          if (this.era.spinOnReaders && !this.wrNonspinnable) {
            if (this.rspinFor !== s) this.startRspin(s, time);
          } else this.stopSpinners(time);
        }
        return;
      }
      if (this.writer !== null || this.handoff) return;
      if (this.rdNonspinnable) {
        this.stopSpinners(time);
        return;
      }
      this.spinners.shift();
      s.granted = true;
      this.readers++;
      const at = time + this.line.write(s.t.cpu, time);
      // The reader that got in wakes the readers queued at the head before it goes on.
      const cost = this.waiters.length > 0 && !this.waiters[0].write ? this.grantReaders(at, false) : 0;
      this.eng.resumeSpinner(s.t, at + cost);
    }
  }

  /**
   * Every spinner stops and queues (in OSQ order) and sleeps from `time`: the owner left its CPU
   * (rwsem_spin_on_owner() returns OWNER_NONSPINNABLE), the lock became non-spinnable, or a
   * writer faces readers it may not spin on.
   */
  private stopSpinners(time: number): void {
    this.cancelRspin();
    for (const s of this.spinners) {
      s.since = time;
      s.sawNonspinnable = s.write ? this.rdNonspinnable || this.wrNonspinnable : this.rdNonspinnable;
      this.waiters.push(s);
      s.t.wait = { kind: 'lock', lock: this, fn: s.write ? 'down_write' : 'down_read', mode: s.write ? 'write' : 'read' };
      this.eng.stopSpinning(s.t, time);
    }
    this.spinners.length = 0;
  }

  /** The writer owner goes to sleep: its spinners stop (hung on the owner's onSleep). */
  private readonly ownerSleeps = (time: number): void => {
    if (this.spinners.length > 0) this.stopSpinners(time);
  };

  private startRspin(s: RwsemWaiter, time: number): void {
    this.cancelRspin();
    this.rspinFor = s;
    this.rspinTimer = this.eng.at(time + rspinThresholdNs(this.readers), this.rspinExpired);
  }

  private cancelRspin(): void {
    if (this.rspinTimer !== null) this.eng.cancel(this.rspinTimer);
    this.rspinTimer = null;
    this.rspinFor = null;
  }

  /**
   * The OSQ head writer spun on readers for rwsem_rspin_threshold(): rwsem_set_nonspinnable()
   * (both bits in 5.3-5.10, the one in 5.11+), and every spinner gives up and queues.
   */
  private readonly rspinExpired = (): void => {
    this.rspinTimer = null;
    this.rspinFor = null;
    if (this.writer !== null || this.readers === 0) return;
    this.wrNonspinnable = true;
    if (this.era.readerOpt === 'spin') this.rdNonspinnable = true;
    this.stopSpinners(this.eng.now);
  };
}
