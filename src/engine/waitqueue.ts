import { BLOCK, SYNC, type Code, type Engine, type Task } from './engine.js';
import type { CacheLine } from './cacheline.js';

/** Sleeping waits that are not locks: wait queues (wait_event/wake_up) and pthread barriers. */

/** A wait queue (wait_queue_head_t) used with wait_event()/wake_up(). */
export class WaitQueue {
  readonly waiters: Task[] = [];
  constructor(
    private readonly eng: Engine,
    readonly name: string,
  ) {}

  /**
   * wait_event(wq, cond): sleep until cond() holds when checked after a wake-up; `at` says, for
   * reports, what is waited for (`object`) and in which kernel function (`fn`).
   */
  *waitEvent(t: Task, cond: () => boolean, at: { readonly object?: string; readonly fn?: string } = {}): Code {
    for (;;) {
      if (t.mustSync()) yield SYNC;
      if (cond()) return;
      this.waiters.push(t);
      t.wait = { kind: 'queue', queue: this.name, object: at.object, fn: at.fn };
      yield BLOCK;
    }
  }

  /** waitqueue_active() */
  get active(): boolean {
    return this.waiters.length > 0;
  }

  /** wake_up(): wake every waiter at `time`; each re-checks its condition. */
  wakeUp(time: number): void {
    const ws = this.waiters.splice(0);
    for (const w of ws) this.eng.wake(w, time);
  }
}

/** A pthread barrier among `parties` tasks (futex-based: one shared line). */
export class Barrier {
  private arrived: Task[] = [];
  readonly line: CacheLine;
  generation = 0;
  constructor(
    private readonly eng: Engine,
    readonly name: string,
    readonly parties: number,
  ) {
    this.line = eng.line(name);
  }

  *wait(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    if (this.arrived.length + 1 >= this.parties) {
      const ws = this.arrived;
      this.arrived = [];
      this.generation++;
      for (const w of ws) this.eng.wake(w, t.clock);
      return;
    }
    this.arrived.push(t);
    t.wait = { kind: 'barrier', name: this.name };
    yield BLOCK;
  }

  /** Take a waiting task out of the barrier and wake it at `time` (its process is dying). */
  cancel(t: Task, time: number): void {
    const i = this.arrived.indexOf(t);
    if (i < 0) return;
    this.arrived.splice(i, 1);
    this.eng.wake(t, time);
  }
}
