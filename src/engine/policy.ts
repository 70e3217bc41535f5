import type { Engine } from './engine.js';
import type { Task } from './task.js';

/** The engine's scheduling seam (engine.ts): the policy interface and the default, FIFO. */

/**
 * Scheduling choices go through one policy so that a race checker (src/check, `spfperf check`)
 * can swap in random or PCT-style policies and replay a run. The default is plain and
 * deterministic.
 */
export interface SchedPolicy {
  /** Index into `queue` of the task to run next on `cpu`, or -1 if none may run there. */
  pickNext(queue: readonly Task[], cpu: number, eng: Engine): number;
  /** Which idle CPU a woken task goes to, or -1 to queue it. */
  pickCpu(task: Task, idle: readonly number[], eng: Engine): number;
  /**
   * A task's turn has come (its item left the heap): -1 runs its next step now; a time at or after
   * its clock puts it back at that time, as if its CPU were taken meanwhile (an interrupt, a vCPU
   * preemption), so that the tasks queued before then go first. Absent: every task runs at its turn.
   */
  defer?(t: Task, eng: Engine): number;
}

export const fifoPolicy: SchedPolicy = {
  pickNext(queue, cpu) {
    for (let i = 0; i < queue.length; i++) {
      const a = queue[i].affinity;
      if (a < 0 || a === cpu) return i;
    }
    return -1;
  },
  pickCpu(task, idle) {
    if (task.affinity >= 0) return idle.includes(task.affinity) ? task.affinity : -1;
    if (task.lastCpu >= 0 && idle.includes(task.lastCpu)) return task.lastCpu;
    return idle.length > 0 ? idle[0] : -1;
  },
};
