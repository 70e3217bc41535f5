import { BLOCK, SPIN, SYNC, TaskState, type Code, type Engine, type Task } from './engine.js';
import type { CacheLine } from './cacheline.js';
import type { LockWaitee } from './wait.js';

/**
 * The kernel's lock primitives on the engine. Every operation first syncs (so shared state is
 * touched in global time order), then pays for its atomic on the lock's cache line, then acts.
 * Contention costs come from two places: the line's transfers (serialised, so they grow with the
 * number of CPUs hitting it) and the waiting itself (sleeping or spinning).
 */

/** Counters a lock keeps about itself, for reports and tests. */
export interface LockStats {
  acquired: number;
  contended: number;
}

interface Waiter {
  readonly t: Task;
  readonly write: boolean;
}

/**
 * Reader-writer lock with the kernel's fairness: a queued writer blocks new readers; a release
 * hands the lock to the writer at the head of the queue, or to every reader at the head up to the
 * first writer (4.x `__rwsem_mark_wake`). Sleeping (rw_semaphore) or spinning (qrwlock).
 */
class RwBase implements LockWaitee {
  readers = 0;
  writer: Task | null = null;
  readonly waiters: Waiter[] = [];
  /**
   * Writers spinning on a running writer owner (rwsem optimistic spinning, the OSQ in order of
   * arrival): the next write release hands the lock to the first of them.
   */
  private readonly spinners: Task[] = [];
  /** CONFIG_RWSEM_SPIN_ON_OWNER: writers spin while the lock's writer owner runs (3.16+). */
  spinOnOwner = false;
  /**
   * Writers also spin on a reader-owned lock, for at most (10 + readers / 2) us, after which the
   * lock is marked non-spinnable until a writer next takes it (5.3+, rwsem_rspin_threshold()).
   */
  spinOnReaders = false;
  /** RWSEM_NONSPINNABLE: a writer gave up spinning on the readers; cleared when a writer takes the lock. */
  private nonspinnable = false;
  readonly stats: LockStats = { acquired: 0, contended: 0 };
  readonly line: CacheLine;

  constructor(
    protected readonly eng: Engine,
    readonly name: string,
    private readonly sleeping: boolean,
  ) {
    this.line = eng.line(name);
  }

  private waitYield(): typeof BLOCK | typeof SPIN {
    return this.sleeping ? BLOCK : SPIN;
  }

  /** Free for this mode, and nobody queued ahead (a queued writer blocks new readers). */
  private canTake(write: boolean): boolean {
    const free = write ? this.readers === 0 && this.writer === null : this.writer === null;
    return free && this.waiters.length === 0;
  }

  /** Take the lock now: the atomic on its line, and the holder's accounting. */
  private take(t: Task, write: boolean): void {
    if (!this.sleeping) t.preemptCount++;
    t.stall(this.line.write(t.cpu, t.clock));
    this.stats.acquired++;
    if (write) this.setWriter(t);
    else this.readers++;
  }

  private setWriter(t: Task): void {
    this.writer = t;
    this.nonspinnable = false;
    if (this.spinOnOwner) t.onSleep.push(this.ownerSleeps);
  }

  /**
   * rwsem_spin_on_owner() ends when the owner is no longer on a CPU: the spinners queue and
   * sleep like any waiter (rwsem_down_write_slowpath).
   */
  private readonly ownerSleeps = (time: number): void => {
    for (const s of this.spinners.splice(0)) {
      this.waiters.push({ t: s, write: true });
      s.wait = { kind: 'lock', lock: this, fn: this.sleeping ? 'down_write' : 'write_lock', mode: 'write' };
      this.eng.stopSpinning(s, time);
    }
  };

  /**
   * May a writer that cannot take the lock spin instead of sleeping? Only on a running writer
   * owner, and not while tasks wait for a CPU (the spinner would see need_resched and stop).
   */
  private canSpin(): boolean {
    if (!this.spinOnOwner || this.eng.runqueue.length > 0) return false;
    const o = this.writer;
    if (o === null) return this.readerOwnedSpin();
    return o.state === TaskState.Running || o.state === TaskState.Spinning;
  }

  /** rwsem_can_spin_on_owner() on a reader-owned lock (5.3+): unless marked non-spinnable. */
  private readerOwnedSpin(): boolean {
    return this.spinOnReaders && this.writer === null && this.readers > 0 && !this.nonspinnable;
  }

  /**
   * rwsem_optimistic_spin() on readers: spin until rwsem_rspin_threshold() ((20 + readers) / 2 us,
   * readers capped at 30), then set RWSEM_NONSPINNABLE and go to the slow path (queue and sleep).
   */
  private armReaderSpin(s: Task, from: number): void {
    const limit = ((20 + Math.min(this.readers, 30)) * 1000) / 2;
    this.eng.at(from + limit, () => {
      const i = this.spinners.indexOf(s);
      if (i < 0 || this.writer !== null) return;
      this.spinners.splice(i, 1);
      this.nonspinnable = true;
      this.waiters.push({ t: s, write: true });
      s.wait = { kind: 'lock', lock: this, fn: 'down_write', mode: 'write' };
      this.eng.stopSpinning(s, from + limit);
    });
  }

  /** Take the lock without waiting or syncing if that is possible now: true if taken. */
  protected acquireFast(t: Task, write: boolean): boolean {
    if (!this.canTake(write) || t.mustSync()) return false;
    this.take(t, write);
    return true;
  }

  protected *acquire(t: Task, write: boolean): Code {
    if (t.mustSync()) yield SYNC;
    if (this.acquireFast(t, write)) return;
    if (!this.sleeping) t.preemptCount++;
    t.stall(this.line.write(t.cpu, t.clock));
    this.stats.acquired++;
    this.stats.contended++;
    if (write && this.sleeping && this.canSpin()) {
      // rwsem_optimistic_spin(): stay on the CPU, watching the owner; granted by its release.
      this.spinners.push(t);
      if (this.writer === null) this.armReaderSpin(t, t.clock);
      t.wait = { kind: 'lock', lock: this, fn: 'down_write', mode: 'write-spin' };
      yield SPIN;
      return;
    }
    this.waiters.push({ t, write });
    t.wait = { kind: 'lock', lock: this, fn: (this.sleeping ? 'down_' : '') + (write ? 'write' : 'read') + (this.sleeping ? '' : '_lock'), mode: write ? 'write' : 'read' };
    yield this.waitYield();
    // Granted by the releaser (grant() below): readers/writer already account for us.
  }

  protected *tryAcquire(t: Task, write: boolean): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    if (!this.canTake(write)) {
      t.stall(this.line.read(t.cpu, t.clock));
      return false;
    }
    this.take(t, write);
    return true;
  }

  /** Release without syncing if no sync is needed now: true if released. */
  protected releaseFast(t: Task, write: boolean): boolean {
    if (t.mustSync()) return false;
    this.releaseNow(t, write);
    return true;
  }

  protected *release(t: Task, write: boolean): Code {
    if (t.mustSync()) yield SYNC;
    this.releaseNow(t, write);
  }

  private releaseNow(t: Task, write: boolean): void {
    t.stall(this.line.write(t.cpu, t.clock));
    if (!this.sleeping) t.preemptCount--;
    if (write) {
      this.writer = null;
      const h = t.onSleep.indexOf(this.ownerSleeps);
      if (h >= 0) t.onSleep.splice(h, 1);
      const s = this.spinners.shift();
      if (s !== undefined) {
        // The spinner sees the owner go and takes the lock ahead of the sleepers (lock stealing).
        this.setWriter(s);
        this.eng.resumeSpinner(s, t.clock + this.line.write(s.cpu, t.clock));
        return;
      }
    } else {
      this.readers--;
      if (this.readers === 0 && this.spinners.length > 0) {
        // The writer spinning on the readers sees the count drop and takes the lock (lock stealing).
        const s = this.spinners.shift()!;
        this.setWriter(s);
        this.eng.resumeSpinner(s, t.clock + this.line.write(s.cpu, t.clock));
        return;
      }
    }
    if (this.waiters.length > 0 && this.readers === 0 && this.writer === null) {
      // rwsem_wake() runs in the releaser: it pays for the wake-ups it issues.
      const at = t.clock;
      t.cost(this.grant(at));
    }
  }

  /** Hand the lock to the head of the queue at `time`; returns the releaser's cost of the wake-ups. */
  private grant(time: number): number {
    // A sleeper's wake-up costs the releaser a try_to_wake_up(); a spinner needs none.
    const ttwu = this.sleeping ? (this.eng.costs.ttwuNs ?? 0) : 0;
    const head = this.waiters[0];
    if (head.write) {
      this.waiters.shift();
      this.setWriter(head.t);
      this.handTo(head.t, time);
      return ttwu;
    }
    // __rwsem_mark_wake() grants every reader at the head, then wake_up_q() wakes them one by
    // one: the k-th is woken k try_to_wake_up()s after the release.
    let k = 0;
    while (this.waiters.length > 0 && !this.waiters[0].write) {
      const w = this.waiters.shift()!;
      this.readers++;
      this.handTo(w.t, time + k * ttwu);
      k++;
    }
    return k * ttwu;
  }

  private handTo(t: Task, time: number): void {
    if (this.sleeping) {
      this.eng.wake(t, time);
    } else {
      // The spinner sees the release and takes the line.
      this.eng.resumeSpinner(t, time + this.line.write(t.cpu, time));
    }
  }

  /**
   * downgrade_write(): the writer `t` keeps the lock as a reader, and the readers queued at the
   * head of the wait list (up to the first writer) are let in with it (rwsem_downgrade_wake()).
   * Writers spinning on the owner stop: it is no longer a writer (they queue and sleep).
   */
  protected *downgradeNow(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    t.stall(this.line.write(t.cpu, t.clock));
    const h = t.onSleep.indexOf(this.ownerSleeps);
    if (h >= 0) t.onSleep.splice(h, 1);
    this.writer = null;
    this.readers++;
    // The spinners now watch a reader-owned lock: on 5.3+ they go on, within the reader threshold.
    if (this.readerOwnedSpin()) for (const s of this.spinners) this.armReaderSpin(s, t.clock);
    else this.ownerSleeps(t.clock);
    if (this.waiters.length > 0 && !this.waiters[0].write) t.cost(this.grant(t.clock));
  }

  /** Is the lock held or waited for by a writer? (rwsem_is_contended-like check for tests.) */
  get writeLocked(): boolean {
    return this.writer !== null;
  }

  exclusiveHolder(): Task | null {
    return this.writer;
  }
}

/** struct rw_semaphore: sleeping reader-writer lock (the mmap lock). */
export class RwSemaphore extends RwBase {
  constructor(eng: Engine, name: string) {
    super(eng, name, true);
  }
  /** down_read() */
  downRead(t: Task): Code {
    return this.acquire(t, false);
  }
  /** down_read() when it can complete at once (no sync, no wait): true if taken. */
  downReadFast(t: Task): boolean {
    return this.acquireFast(t, false);
  }
  /** up_read() */
  upRead(t: Task): Code {
    return this.release(t, false);
  }
  /** up_read() when no sync is needed: true if released. */
  upReadFast(t: Task): boolean {
    return this.releaseFast(t, false);
  }
  /** down_write() */
  downWrite(t: Task): Code {
    return this.acquire(t, true);
  }
  /** up_write() */
  upWrite(t: Task): Code {
    return this.release(t, true);
  }
  /** down_read_trylock() */
  downReadTrylock(t: Task): Code<boolean> {
    return this.tryAcquire(t, false);
  }
  /** down_write_trylock() */
  downWriteTrylock(t: Task): Code<boolean> {
    return this.tryAcquire(t, true);
  }
  /** downgrade_write(): the writer keeps the lock for reading; queued readers come in. */
  downgradeWrite(t: Task): Code {
    return this.downgradeNow(t);
  }
}

/** rwlock_t (qrwlock): spinning reader-writer lock, fair to a waiting writer. */
export class RwLock extends RwBase {
  constructor(eng: Engine, name: string) {
    super(eng, name, false);
  }
  /** read_lock() */
  readLock(t: Task): Code {
    return this.acquire(t, false);
  }
  /** read_lock() when it can complete at once (no sync, no wait): true if taken. */
  readLockFast(t: Task): boolean {
    return this.acquireFast(t, false);
  }
  /** read_unlock() */
  readUnlock(t: Task): Code {
    return this.release(t, false);
  }
  /** read_unlock() when no sync is needed: true if released. */
  readUnlockFast(t: Task): boolean {
    return this.releaseFast(t, false);
  }
  /** write_lock() */
  writeLock(t: Task): Code {
    return this.acquire(t, true);
  }
  /** write_unlock() */
  writeUnlock(t: Task): Code {
    return this.release(t, true);
  }
}

/** spinlock_t (queued spinlock: FIFO hand-off to the next spinner). */
export class SpinLock implements LockWaitee {
  holder: Task | null = null;
  readonly waiters: Task[] = [];
  readonly stats: LockStats = { acquired: 0, contended: 0 };
  readonly line: CacheLine;

  constructor(
    private readonly eng: Engine,
    readonly name: string,
    line?: CacheLine,
  ) {
    this.line = line ?? eng.line(name);
  }

  /** spin_lock() when it can complete at once (no sync, not held): true if taken. */
  lockFast(t: Task): boolean {
    if (this.holder !== null || t.mustSync()) return false;
    t.preemptCount++;
    t.stall(this.line.write(t.cpu, t.clock));
    this.stats.acquired++;
    this.holder = t;
    return true;
  }

  /** spin_lock() */
  *lock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    if (this.lockFast(t)) return;
    t.preemptCount++;
    t.stall(this.line.write(t.cpu, t.clock));
    this.stats.acquired++;
    this.stats.contended++;
    this.waiters.push(t);
    t.wait = { kind: 'lock', lock: this, fn: 'spin_lock', mode: 'spin' };
    yield SPIN;
  }

  /** spin_trylock(): true if taken. */
  *trylock(t: Task): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    return this.trylockNow(t);
  }

  /** spin_trylock() for a task that has synced. */
  trylockNow(t: Task): boolean {
    if (this.holder !== null) {
      t.stall(this.line.read(t.cpu, t.clock));
      return false;
    }
    t.preemptCount++;
    t.stall(this.line.write(t.cpu, t.clock));
    this.stats.acquired++;
    this.holder = t;
    return true;
  }

  /** spin_unlock() when no sync is needed: true if released. */
  unlockFast(t: Task): boolean {
    if (t.mustSync()) return false;
    this.unlockNow(t);
    return true;
  }

  /** spin_unlock() */
  *unlock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.unlockNow(t);
  }

  private unlockNow(t: Task): void {
    t.stall(this.line.write(t.cpu, t.clock));
    t.preemptCount--;
    const next = this.waiters.shift();
    if (next === undefined) {
      this.holder = null;
      return;
    }
    this.holder = next;
    this.eng.resumeSpinner(next, t.clock + this.line.write(next.cpu, t.clock));
  }

  get locked(): boolean {
    return this.holder !== null;
  }

  exclusiveHolder(): Task | null {
    return this.holder;
  }
}

export { SeqCount, Atomic } from './atomics.js';
export { Barrier, WaitQueue } from './waitqueue.js';
