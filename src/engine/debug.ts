import type { LockWaitee } from './wait.js';

/**
 * What the engine keeps for the model's run-time invariant checks (src/mm/debug_vm.ts,
 * docs/invariants.md): the default that turns them on, and the list of locks a task must not
 * hold when it exits (lockdep's debug_check_no_locks_held()).
 */

/**
 * Whether runs check the model's invariants unless their options say (src/sim/run.ts): off, but
 * on in the test suite, as the sync check is. Kept in the engine beside the sync check's default
 * so that worker threads take both from the thread that starts them (src/pool/pool.ts).
 */
let invariantCheckDefault = false;
export function setInvariantCheckDefault(on: boolean): void {
  invariantCheckDefault = on;
}
export function getInvariantCheckDefault(): boolean {
  return invariantCheckDefault;
}

/** A lock as the invariant checks see it (every lock primitive of locks.ts and rwsem.ts). */
export interface TrackedLock extends LockWaitee {
  /** Readers holding it (reader-writer locks). */
  readonly readers?: number;
}

/** The locks made in a run, weakly held: a lock whose object is gone (a freed table's) drops out. */
export class LockList {
  private list: WeakRef<TrackedLock>[] = [];

  add(l: TrackedLock): void {
    this.list.push(new WeakRef(l));
  }

  /** The locks still alive, in the order they were made. */
  alive(): TrackedLock[] {
    const out: TrackedLock[] = [];
    const keep: WeakRef<TrackedLock>[] = [];
    for (const r of this.list) {
      const l = r.deref();
      if (l === undefined) continue;
      keep.push(r);
      out.push(l);
    }
    this.list = keep;
    return out;
  }
}
