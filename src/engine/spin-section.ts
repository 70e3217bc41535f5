import { STEP_SYNC, type Task } from './engine.js';
import type { SpinLock } from './locks.js';

/** Where SpinSection.step() goes on. */
const enum Sec {
  Lock,
  LockSlow,
  Body,
  UnlockSlow,
  Done,
}

/**
 * spin_lock(lock); body(); spin_unlock(lock) as steps that a step function (StepFrame) takes for
 * itself: its step() calls the section's step() and returns what it answers while that is a
 * STEP_SYNC or STEP_CALL, calling it again the next time round, until the section answers its
 * body's answer (>= 0). For the short sections under zone->lock and the lru lock that every
 * anonymous fault enters now and then (the pcp refill every 31 faults, the pagevec drain every
 * 15): without the three generators that a generator of its own with `yield* lock.lock(t); ...;
 * yield* lock.unlock(t)` makes and resumes (page_fault1 on 16 CPUs: about one generator resume a
 * fault). The same sync points in the same order; a lock found held is waited for in
 * SpinLock.lock(), called.
 *
 * Not a frame of its own: a call site of step() that meets more than four classes of frame (the
 * engine's, driveFrame()'s) is megamorphic and slower for every frame, and the fault path already
 * has four (the touch loop, do_user_addr_fault(), a design's attempt, do_anonymous_page()): as a
 * fifth, a 192-CPU dufour-v9 run took 4.5 % more CPU. A user keeps one section a CPU
 * (src/mm/page.ts): a task keeps its CPU from the section's first step to its last (the kernel is
 * not preemptible here, a spinner keeps its CPU), and no section is entered from inside another
 * of its kind; begin() checks it.
 */
export class SpinSection {
  private at = Sec.Done;
  private lock!: SpinLock;
  private answer = 0;

  /** `body`: the work under the lock; its answer (>= 0) is the frame's. */
  constructor(private readonly body: (t: Task) => number) {}

  /** Ready for a section under `lock`. */
  begin(lock: SpinLock): this {
    if (this.at !== Sec.Done) throw new Error(`${lock.name}: a section entered again before it ended`);
    this.lock = lock;
    this.at = Sec.Lock;
    return this;
  }

  /** The next steps: the body's answer (>= 0) when the section is over, else STEP_SYNC or STEP_CALL for the owner to answer. */
  step(t: Task): number {
    const lock = this.lock;
    for (;;) {
      switch (this.at) {
        case Sec.Lock:
          if (lock.lockFast(t)) {
            this.at = Sec.Body;
            break;
          }
          // spin_lock()'s sync, then the lock proper.
          this.at = Sec.LockSlow;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case Sec.LockSlow:
          this.at = Sec.Body;
          if (!lock.lockFast(t)) return t.stepCall(lock.lock(t));
          break;
        case Sec.Body:
          this.answer = this.body(t);
          if (lock.unlockFast(t)) {
            this.at = Sec.Done;
            return this.answer;
          }
          // spin_unlock()'s sync, then the unlock proper.
          this.at = Sec.UnlockSlow;
          if (t.mustSync()) return STEP_SYNC;
          break;
        case Sec.UnlockSlow:
          this.at = Sec.Done;
          if (!lock.unlockFast(t)) return t.stepCall(lock.unlock(t));
          return this.answer;
        case Sec.Done:
          return this.answer;
      }
    }
  }
}
