/**
 * The behaviours of struct rw_semaphore that changed between kernel releases, as RwSemaphore
 * (rwsem.ts) takes them, and the kernel's constants they use. The config keys that set them, and
 * the release each one changed at, are in src/config/era.ts; the audit is docs/locking.md.
 */
import type { Task } from './task.js';

/** The behaviours of rw_semaphore that changed between kernel releases (the era keys rwsem_*). */
export interface RwsemEra {
  /**
   * CONFIG_RWSEM_GENERIC_SPINLOCK (x86-64 before 2.6.34): lib/rwsem-spinlock.c, every operation
   * under the spinlock sem->wait_lock (rwsem-spinlock.ts), instead of the atomic count of
   * lib/rwsem.c. The other behaviours below are the atomic count's.
   */
  readonly genericSpinlock: boolean;
  /** CONFIG_RWSEM_SPIN_ON_OWNER (3.16): a writer spins while a running writer owns the lock. */
  readonly spinOnOwner: boolean;
  /**
   * rwsem_writer_steal (3.9): rwsem_wake() only wakes a writer at the head of the queue, which
   * takes the lock itself when it runs; a writer that comes first takes it (lock stealing).
   * Before, __rwsem_do_wake() granted the lock to the woken writer.
   */
  readonly writerSteal: boolean;
  /**
   * rwsem_reader_wake: a release wakes the readers at the head of the queue up to the first
   * writer (`head`, up to 5.2) or every queued reader, up to MAX_READERS_WAKEUP (`all`, 5.3).
   */
  readonly readerWake: 'head' | 'all';
  /**
   * rwsem_reader_optimistic: what a reader does in the slow path before it queues: nothing
   * (`none`, up to 5.2); optimistic spinning on a running writer owner and joining a lock that
   * no writer holds (`spin`, 5.3-5.10); taking a lock that nobody holds (`steal`, 5.11).
   */
  readonly readerOpt: 'none' | 'spin' | 'steal';
  /**
   * rwsem_spin_on_readers (5.3): a writer also spins on a reader-owned lock, for at most
   * rwsem_rspin_threshold() (10 us + 0.5 us per reader, 25 us at most), then marks the lock
   * non-spinnable and queues.
   */
  readonly spinOnReaders: boolean;
  /**
   * rwsem_handoff (5.3): a waiter at the head of the queue for RWSEM_WAIT_TIMEOUT that finds the
   * lock taken sets RWSEM_FLAG_HANDOFF: no one may steal the lock before it has had it.
   */
  readonly handoff: boolean;
}

/** 2.6.33's rw_semaphore on the atomic count (lib/rwsem.c, x86-32's): what a bare RwSemaphore does. */
export const RWSEM_2_6: RwsemEra = { genericSpinlock: false, spinOnOwner: false, writerSteal: false, readerWake: 'head', readerOpt: 'none', spinOnReaders: false, handoff: false };

/** MAX_READERS_WAKEUP (kernel/locking/rwsem.c, 5.3+): readers one rwsem_mark_wake() grants at most. */
export const MAX_READERS_WAKEUP = 0x100;

/**
 * RWSEM_WAIT_TIMEOUT, DIV_ROUND_UP(HZ, 250) jiffies: 4 ms at HZ=250 and HZ=1000 (the kernel checks
 * time_after(jiffies, timeout), so the first jiffy tick past it; the model takes the 4 ms).
 */
export const RWSEM_WAIT_TIMEOUT_NS = 4_000_000;

/**
 * rwsem_rspin_threshold() (5.3+): how long a writer spins on a reader-owned lock,
 * (20 + readers) * NSEC_PER_USEC / 2 with the readers counted at most 30: 10-25 us.
 */
export function rspinThresholdNs(readers: number): number {
  return (20 + Math.min(readers, 30)) * 500;
}

/** A task in the slow path: queued (wait_list) or spinning (the OSQ). */
export interface RwsemWaiter {
  readonly t: Task;
  readonly write: boolean;
  /** When it queued (waiter->timeout counts from here). */
  since: number;
  /** Handed the lock by another task: it returns as soon as it runs. */
  granted: boolean;
  /** It saw the lock non-spinnable when it queued (5.3-5.10: waiter->last_rowner, disable_rspin). */
  sawNonspinnable: boolean;
}
