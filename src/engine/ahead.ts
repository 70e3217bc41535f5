import type { Task } from './task.js';

/**
 * Lock-ahead: a PTE lock taken without the sync its place in the order asks for, and the run made
 * again in the exact order if that could have changed anything.
 *
 * The engine keeps every access to shared state in simulated-time order: a task whose clock is
 * past another's waits (syncs) before it touches anything shared. On the anonymous-fault path
 * that is three syncs a fault on many CPUs (down_read() of the mmap lock, the PTE lock, its
 * release), each some 130 ns of host time. The PTE lock is mostly one no other CPU touches
 * (split PTE locks: one a 2 MiB table, and threads fault in ranges of their own), so
 * do_anonymous_page() takes it at once instead (PteTable.takeAhead(), SpinLock.lockAhead()) on
 * a table no other task has walked to, and runs on to the release's sync. Its work under the
 * lock (the PTE, the new page's rmap and LRU entry, its thread's RSS count, its CPU's pagevec)
 * is state of that table, that page, that thread and that CPU, or sums (the event counts).
 *
 * In the exact order the task would have synced at the lock's time T and gone on when nothing
 * earlier was left; the work taken ahead is the same unless something due before T, processed
 * after it, meets it. The checks that find that, each throwing AheadViolation:
 * - the lock notes who took it ahead and T: another task locking it at an earlier time
 *   (SpinLock.aheadCheck());
 * - the table notes T for each entry so set: a walk to that entry at an earlier time, the only
 *   way to an entry with or without the lock (PteTable.reached(): lookupPteTable(), pteTableOf(),
 *   pte_alloc());
 * - a draw from the run's one PRNG in the work taken ahead (Engine.jitter()), which would come
 *   out of order;
 * - two things due at the same time while a task that took a lock ahead is queued (an item taken
 *   and the next, or a running task and the next item): what breaks such a tie (the order of
 *   queueing, who is running) is what taking a lock ahead moves (EventLoop.aheadTie()).
 * runWorkload() and runWorkloadAsync() then make the run again with lock-ahead off, so the answer
 * is the exact order's either way (test/sim/run.test.ts compares them). Each check is made
 * before the access, at a time no later than the access's own.
 *
 * Only where the order is not otherwise observed (setupRun()'s aheadAllowed()): not with SMT (a
 * sibling's state scales every cost), samplers, call chains, traces and intervals (they see the
 * order of events), the invariant checks, the sync-rule check, a race checker's schedule, or a
 * lookahead.
 */
export class AheadViolation extends Error {
  constructor(readonly why: string) {
    super(`lock-ahead: ${why}; the run is made again in the exact order`);
    this.name = 'AheadViolation';
  }
}

/** A draw from the PRNG in work taken ahead of the order would come out of order (Engine.jitter()). */
export function drawnAhead(t: Task): never {
  throw new AheadViolation(`${t.comm}/${t.tid} drew from the PRNG in work taken ahead`);
}
