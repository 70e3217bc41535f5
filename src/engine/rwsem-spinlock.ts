import { BLOCK, SYNC, type Code, type Task } from './engine.js';
import type { RwSemaphore, RwsemWaiter } from './rwsem.js';
import { LCB_F_READ, LCB_F_WRITE } from './lockstat.js';

/**
 * The generic spinlock rw_semaphore, lib/rwsem-spinlock.c (CONFIG_RWSEM_GENERIC_SPINLOCK): what
 * x86-64 kernels ran before 2.6.34 (bafaecd11df1 "x86-64: support native xadd rwsem
 * implementation"), and what an RwSemaphore configured with `genericSpinlock` does. Every
 * down_read(), up_read(), down_write() and up_write() takes sem->wait_lock, a spinlock on the
 * rw_semaphore's own cache line, with interrupts off, looks at the count and the wait list,
 * changes them, and drops the spinlock; there is no fast path. So concurrent readers of the mmap
 * lock serialise on wait_lock, and each one's count update has to win the line back from the
 * spinners reading it: "the reason the spinlock sucks is because of the fair ticket locks, it
 * really does all the wrong things for the rwsem code" (Linus Torvalds, linux-mm, 2010-03-23).
 * Hand-offs are grants made by the releaser, as in 2.6.33's __rwsem_do_wake() and
 * __rwsem_wake_one_writer(); no one spins on the owner.
 */

/**
 * CPU time inside wait_lock besides the line accesses: local_irq_save()/restore() (pushf; cli ...
 * popf, ~20 cycles on a 2009 Xeon), list_empty() and the count update: ~25 cycles, 10 ns.
 * Estimated (declared in src/config/constants.ts).
 */
export const RWSEM_SPINLOCK_CS_NS = 10;

/** spin_lock_irqsave(&sem->wait_lock), the section's work, and the count on the lock's line. */
function* enter(sem: RwSemaphore, t: Task): Code {
  const wl = sem.waitLock!;
  if (t.mustSync()) yield SYNC;
  if (!wl.lockFast(t)) yield* wl.lock(t);
  t.cost(t.eng.costs.rwsemSpinlockCsNs ?? RWSEM_SPINLOCK_CS_NS);
  if (t.mustSync()) yield SYNC;
  // sem->activity and sem->wait_list share the line with wait_lock: a transfer if a spinner's
  // read took it meanwhile.
  sem.line.writeBy(t);
}

/** spin_unlock_irqrestore(&sem->wait_lock) */
function* leave(sem: RwSemaphore, t: Task): Code {
  const wl = sem.waitLock!;
  if (!wl.unlockFast(t)) yield* wl.unlock(t);
}

/** Queue `t` (the wait list is under wait_lock), drop wait_lock and sleep until granted. */
function* wait(sem: RwSemaphore, t: Task, write: boolean): Code {
  const w: RwsemWaiter = { t, write, since: t.clock, granted: false, sawNonspinnable: false };
  sem.waiters.push(w);
  sem.stats.contended++;
  yield* leave(sem, t);
  t.wait = { kind: 'lock', lock: sem, fn: write ? 'down_write' : 'down_read', mode: write ? 'write' : 'read' };
  t.eng.contention?.begin(t, sem, write ? LCB_F_WRITE : LCB_F_READ);
  while (!w.granted) yield BLOCK;
  t.eng.contention?.end(t, sem);
}

/** __down_read(): granted if no writer holds the lock and nobody waits. */
export function* spinlockDownRead(sem: RwSemaphore, t: Task): Code {
  yield* enter(sem, t);
  sem.stats.acquired++;
  if (sem.writer === null && sem.waiters.length === 0) {
    sem.readers++;
    yield* leave(sem, t);
    return;
  }
  yield* wait(sem, t, false);
}

/** __down_write(): granted if the lock is free and nobody waits. */
export function* spinlockDownWrite(sem: RwSemaphore, t: Task): Code {
  yield* enter(sem, t);
  sem.stats.acquired++;
  if (sem.writer === null && sem.readers === 0 && sem.waiters.length === 0) {
    sem.setWriter(t, false);
    yield* leave(sem, t);
    return;
  }
  yield* wait(sem, t, true);
}

/**
 * __up_read() / __up_write(): the last reader out grants the lock to the writer at the head
 * (__rwsem_wake_one_writer()); a writer's release grants the head writer or the readers at the
 * head (__rwsem_do_wake()). The wake-ups are issued under wait_lock: the releaser holds it while
 * it pays for them.
 */
export function* spinlockRelease(sem: RwSemaphore, t: Task, write: boolean): Code {
  yield* enter(sem, t);
  if (write) sem.dropOwner(t);
  else sem.readers--;
  // A grant whatever rwsem_writer_steal says: the writer sleeping in wait() only comes back for
  // one. (Later lib/rwsem-spinlock.c let a woken writer take the lock itself; not modelled.)
  if (sem.readers === 0 && sem.writer === null && sem.waiters.length > 0) t.cost(sem.markWake(t.clock, true));
  yield* leave(sem, t);
}

/** __down_read_trylock() / __down_write_trylock() */
export function* spinlockTrylock(sem: RwSemaphore, t: Task, write: boolean): Code<boolean> {
  yield* enter(sem, t);
  const ok = sem.waiters.length === 0 && sem.writer === null && (!write || sem.readers === 0);
  if (ok) {
    sem.stats.acquired++;
    if (write) sem.setWriter(t, false);
    else sem.readers++;
  }
  yield* leave(sem, t);
  return ok;
}

/** __downgrade_write(): the writer becomes a reader and the readers at the head come in. */
export function* spinlockDowngrade(sem: RwSemaphore, t: Task): Code {
  yield* enter(sem, t);
  sem.dropOwner(t);
  sem.readers++;
  if (sem.waiters.length > 0 && !sem.waiters[0].write) t.cost(sem.grantReaders(t.clock, false));
  yield* leave(sem, t);
}
