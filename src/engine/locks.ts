import { SPIN, SYNC, type Code, type Engine, type Task } from './engine.js';
import type { CacheLine } from './cacheline.js';
import type { LockWaitee } from './wait.js';
import { LCB_F_READ, LCB_F_SPIN, LCB_F_WRITE } from './lockstat.js';
import { objectList } from './object-list.js';

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
 * rwlock_t (qrwlock, x86 since 3.16): a spinning reader-writer lock, fair to a waiting writer. A
 * queued writer blocks new readers; a release hands the lock to the writer at the head of the
 * queue, or to every reader at the head up to the first writer. Waiters spin on their CPUs.
 * (The sleeping reader-writer lock, rw_semaphore, is RwSemaphore in rwsem.ts.)
 */
export class RwLock implements LockWaitee {
  readers = 0;
  writer: Task | null = null;
  readonly waiters: Waiter[] = objectList();
  readonly stats: LockStats = { acquired: 0, contended: 0 };
  readonly line: CacheLine;

  constructor(
    private readonly eng: Engine,
    readonly name: string,
  ) {
    this.line = eng.line(name);
    eng.locks?.add(this);
  }

  /** read_lock() */
  readLock(t: Task): Code {
    return this.acquire(t, false);
  }
  /** read_lock() when it can complete at once (no sync, no wait): true if taken. */
  readLockFast(t: Task): boolean {
    if (!this.canTake(false) || t.owesSync()) return false;
    this.enter(t);
    this.readers++;
    return true;
  }
  /** read_unlock() */
  readUnlock(t: Task): Code {
    return this.release(t, false);
  }
  /** read_unlock() when no sync is needed: true if released. */
  readUnlockFast(t: Task): boolean {
    if (t.owesSync()) return false;
    this.releaseNow(t, false);
    return true;
  }
  /** write_lock() */
  writeLock(t: Task): Code {
    return this.acquire(t, true);
  }
  /** write_unlock() */
  writeUnlock(t: Task): Code {
    return this.release(t, true);
  }

  /** Free for this mode, and nobody queued ahead (a queued writer blocks new readers). */
  private canTake(write: boolean): boolean {
    const free = write ? this.readers === 0 && this.writer === null : this.writer === null;
    return free && this.waiters.length === 0;
  }

  /** The atomic on the lock word that every acquisition makes, with preemption off. */
  private enter(t: Task): void {
    t.preemptCount++;
    this.line.writeBy(t);
    this.stats.acquired++;
  }

  private *acquire(t: Task, write: boolean): Code {
    if (t.mustSync()) yield SYNC;
    this.enter(t);
    if (this.canTake(write)) {
      if (write) this.writer = t;
      else this.readers++;
      return;
    }
    this.stats.contended++;
    this.waiters.push({ t, write });
    t.wait = { kind: 'lock', lock: this, fn: write ? 'write_lock' : 'read_lock', mode: write ? 'write' : 'read' };
    this.eng.contention?.begin(t, this, LCB_F_SPIN | (write ? LCB_F_WRITE : LCB_F_READ));
    yield SPIN;
    // Granted by the releaser (grant() below): readers/writer already account for us.
    this.eng.contention?.end(t, this);
  }

  private *release(t: Task, write: boolean): Code {
    if (t.mustSync()) yield SYNC;
    this.releaseNow(t, write);
  }

  private releaseNow(t: Task, write: boolean): void {
    this.line.writeBy(t);
    t.preemptCount--;
    if (write) this.writer = null;
    else this.readers--;
    if (this.waiters.length > 0 && this.readers === 0 && this.writer === null) this.grant(t.clock);
  }

  /** Hand the lock to the head of the queue at `time`: the spinners see the release and take the line. */
  private grant(time: number): void {
    const head = this.waiters[0];
    if (head.write) {
      this.waiters.shift();
      this.writer = head.t;
      this.eng.resumeSpinner(head.t, time + this.line.write(head.t.cpu, time));
      return;
    }
    while (this.waiters.length > 0 && !this.waiters[0].write) {
      const w = this.waiters.shift()!;
      this.readers++;
      this.eng.resumeSpinner(w.t, time + this.line.write(w.t.cpu, time));
    }
  }

  exclusiveHolder(): Task | null {
    return this.writer;
  }
}

/**
 * spinlock_t: FIFO hand-off to the next spinner. As a queued spinlock (qspinlock: x86 from 4.2,
 * arm64 from 4.19) only the waiter at the head of the MCS queue watches the lock word, so a
 * hand-off is one transfer of its line. As a ticket lock (x86 2.6.25-4.1, arch_spin_lock() with
 * xadd on the tail) every waiter spins reading the lock word: each ticket taken and each release
 * invalidates all their copies, they all read the line again, and the next holder's read waits
 * its turn among theirs (Boyd-Wickizer et al., "Non-scalable locks are dangerous", 2012).
 */
export class SpinLock implements LockWaitee {
  holder: Task | null = null;
  readonly waiters: Task[] = objectList();
  readonly stats: LockStats = { acquired: 0, contended: 0 };
  readonly line: CacheLine;
  /** A ticket lock (Engine.ticketSpinlocks), not a queued one. */
  private readonly ticket: boolean;

  constructor(
    private readonly eng: Engine,
    readonly name: string,
    line?: CacheLine,
  ) {
    this.line = line ?? eng.line(name);
    this.ticket = eng.ticketSpinlocks;
    eng.locks?.add(this);
  }

  /** spin_lock() when it can complete at once (no sync, not held): true if taken. */
  lockFast(t: Task): boolean {
    if (this.holder !== null || t.owesSync()) return false;
    t.preemptCount++;
    this.line.writeBy(t);
    this.stats.acquired++;
    this.holder = t;
    return true;
  }

  /** spin_lock() */
  *lock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    if (this.lockFast(t)) return;
    t.preemptCount++;
    this.line.writeBy(t);
    this.stats.acquired++;
    this.stats.contended++;
    // Ticket lock: the new tail invalidated the spinners' copies; they read the line again.
    if (this.ticket) for (const w of this.waiters) this.line.read(w.cpu, t.clock);
    this.waiters.push(t);
    t.wait = { kind: 'lock', lock: this, fn: 'spin_lock', mode: 'spin' };
    this.eng.contention?.begin(t, this, LCB_F_SPIN);
    yield SPIN;
    this.eng.contention?.end(t, this);
  }

  /** spin_trylock(): true if taken. */
  *trylock(t: Task): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    return this.trylockNow(t);
  }

  /** spin_trylock() for a task that has synced. */
  trylockNow(t: Task): boolean {
    if (this.holder !== null) {
      this.line.readBy(t);
      return false;
    }
    t.preemptCount++;
    this.line.writeBy(t);
    this.stats.acquired++;
    this.holder = t;
    return true;
  }

  /** spin_unlock() when no sync is needed: true if released. */
  unlockFast(t: Task): boolean {
    if (t.owesSync()) return false;
    this.unlockNow(t);
    return true;
  }

  /** spin_unlock() */
  *unlock(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.unlockNow(t);
  }

  /** spin_unlock() for a task that has synced. */
  unlockNow(t: Task): void {
    this.line.writeBy(t);
    t.preemptCount--;
    // Nobody waiting (the common case) without a call of Array.prototype.shift().
    const next = this.waiters.length > 0 ? this.waiters.shift() : undefined;
    if (next === undefined) {
      this.holder = null;
      return;
    }
    this.holder = next;
    if (!this.ticket) {
      // qspinlock: the MCS head sees the lock free and takes the line.
      this.eng.resumeSpinner(next, t.clock + this.line.write(next.cpu, t.clock));
      return;
    }
    // Ticket lock: the new head invalidated every spinner's copy and they all read the line again;
    // the next holder (its ticket now served, it needs no atomic) reads in the middle of the herd,
    // its expected place among misses the line serves one after another.
    const at = t.clock;
    const ahead = this.waiters.length >> 1;
    for (let i = 0; i < ahead; i++) this.line.read(this.waiters[i].cpu, at);
    const seen = this.line.read(next.cpu, at);
    for (let i = ahead; i < this.waiters.length; i++) this.line.read(this.waiters[i].cpu, at);
    this.eng.resumeSpinner(next, at + seen);
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
