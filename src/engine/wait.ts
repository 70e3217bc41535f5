import type { Task } from './engine.js';

/**
 * Why a blocked or spinning task waits: set where it blocks (the lock primitives, wait queues,
 * barriers, RCU, Engine.sleep and Engine.join), read by the hang diagnosis and by tests.
 */

/** What a lock wait needs to know about its lock (rw_semaphore, rwlock_t, spinlock_t). */
export interface LockWaitee {
  readonly name: string;
  /** The task holding the lock exclusively, if one does (readers are not tracked by task). */
  exclusiveHolder(): Task | null;
}

export type WaitReason =
  /** A lock: `fn` is the primitive (down_read, down_write, spin_lock, read_lock, write_lock). */
  | { readonly kind: 'lock'; readonly lock: LockWaitee; readonly fn: string; readonly mode: 'read' | 'write' | 'spin' | 'write-spin' | 'read-spin' }
  /** wait_event() on a wait queue, for `object` (e.g. a VMA) in kernel function `fn`. */
  | { readonly kind: 'queue'; readonly queue: string; readonly object?: string; readonly fn?: string }
  /** A pthread barrier of the workload. */
  | { readonly kind: 'barrier'; readonly name: string }
  /** pthread_join / wait4 on another task. */
  | { readonly kind: 'join'; readonly task: Task }
  /** A timed sleep (I/O, nanosleep, a throttle); `why` names it. */
  | { readonly kind: 'sleep'; readonly why: string }
  /** synchronize_rcu(): the end of a grace period. */
  | { readonly kind: 'rcu'; readonly fn: string };

/** The reason as one line, as deadlock reports print it. */
export function describeWait(w: WaitReason | null): string {
  if (w === null) return '';
  switch (w.kind) {
    case 'lock':
      if (w.mode === 'spin') return w.lock.name;
      if (w.mode === 'write-spin' || w.mode === 'read-spin') return `${w.lock.name} (${w.mode === 'write-spin' ? 'write' : 'read'}, spinning on owner)`;
      return `${w.lock.name} (${w.mode})`;
    case 'queue': {
      const of = w.object !== undefined ? ` of ${w.object}` : '';
      const inFn = w.fn !== undefined ? ` in ${w.fn}()` : '';
      return `${w.queue}${of}${inFn}`;
    }
    case 'barrier':
      return `barrier ${w.name}`;
    case 'join':
      return `join ${w.task.comm}/${w.task.tid}`;
    case 'sleep':
      return w.why;
    case 'rcu':
      return w.fn;
  }
}

/**
 * The task this wait depends on, if the wait names one: the exclusive holder of a lock, or the
 * task being joined. A wait that depends on no task waits for an event only others can send.
 */
export function waitsFor(w: WaitReason | null): Task | null {
  if (w === null) return null;
  if (w.kind === 'join') return w.task;
  if (w.kind === 'lock') return w.lock.exclusiveHolder();
  return null;
}

/** Does the wait queue behind another task (a lock it may hold, a task to join)? */
export function waitsBehind(w: WaitReason | null): boolean {
  return w !== null && (w.kind === 'join' || w.kind === 'lock');
}
