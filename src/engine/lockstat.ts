import type { Task } from './task.js';
import type { LockWaitee } from './wait.js';

/**
 * What the lock primitives tell an observer about their waits, and what cache lines keep about
 * their transfers, for `spfperf lock contention` (docs/lock.md). Both are off unless a run asks
 * for them (EngineOptions.contention); they only observe: no cost, no sync, no
 * choice of the model depends on them, so a run counts and schedules the same with them on.
 */

/**
 * The flags of the lock:contention_begin tracepoint (include/trace/events/lock.h, 5.19+): the
 * kind of lock a waiter waits for. perf lock contention names the combinations (spinlock,
 * rwlock:R, rwlock:W, rwsem:R, rwsem:W, mutex, ...).
 */
export const LCB_F_SPIN = 1 << 0;
export const LCB_F_READ = 1 << 1;
export const LCB_F_WRITE = 1 << 2;
export const LCB_F_RT = 1 << 3;
export const LCB_F_PERCPU = 1 << 4;
export const LCB_F_MUTEX = 1 << 5;

/**
 * An observer of lock waits (the model's trace_contention_begin() / trace_contention_end(), which
 * 5.19+ calls in rwsem_down_read_slowpath() and rwsem_down_write_slowpath() of
 * kernel/locking/rwsem.c, queued_spin_lock_slowpath() of qspinlock.c and the slow paths of
 * qrwlock.c). `begin` is called where a task starts to wait for a lock it could not take (it is
 * about to sleep or spin), at its clock; `end` where it has the lock (or gives the wait up, as a
 * trylock loop that aborts), at its clock. A task waits for one lock at a time.
 */
export interface ContentionTracer {
  begin(t: Task, lock: LockWaitee, flags: number): void;
  end(t: Task, lock: LockWaitee): void;
  /** Where the run's cache lines sum their transfers, by name (null: not wanted). */
  readonly lines: LineStats | null;
}

/** What the cache lines of one name (a lock word, a VMA's seqcount, ...) caused: summed over every line of that name. */
export interface LineStat {
  readonly name: string;
  /** Transfers (misses served by another cache or memory). */
  transfers: number;
  /** Time the requesters waited for them: each one's latency plus its wait behind earlier transfers (ns). */
  waitNs: number;
  /** Of which waiting behind earlier transfers of the same line (the serialisation: contention proper). */
  queuedNs: number;
  /** The longest single wait (ns). */
  maxNs: number;
}

/** Per-name transfer statistics of a run's cache lines (Engine.lineStats). */
export class LineStats {
  private readonly byName = new Map<string, LineStat>();

  /** The statistic every line called `name` adds to. */
  of(name: string): LineStat {
    let s = this.byName.get(name);
    if (s === undefined) {
      s = { name, transfers: 0, waitNs: 0, queuedNs: 0, maxNs: 0 };
      this.byName.set(name, s);
    }
    return s;
  }

  /** Every name that caused a transfer, in the order the names were first made. */
  all(): LineStat[] {
    return [...this.byName.values()].filter((s) => s.transfers > 0);
  }
}
