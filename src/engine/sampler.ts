import type { Task } from './task.js';
import type { LineStat } from './lockstat.js';

/**
 * What the engine tells a sampler of simulated CPU time (`spfperf record -e cpu-clock`, the
 * model's perf cpu-clock: a timer that samples each CPU every period of its time). Off unless a
 * run asks for it (EngineOptions.sampler); it only observes: no cost, no sync, no choice of the
 * model depends on it, so a run counts and schedules the same with it on.
 *
 * A task on a CPU carries the next sample instant of that CPU (Task.sampleAt, Infinity when no
 * sampler runs): Task.cost() and Task.stall() compare their new clock with it, and only when a
 * sample falls due in what they just charged do they call charge(), where the sampler may read
 * the charging function's stack. The engine tells it when a task gets and leaves a CPU (the time
 * between is the idle task's) and when a spin ends (time spent spinning, outside cost()).
 */
export interface CpuSampler {
  /**
   * `t`'s clock went from `from` past t.sampleAt in Task.cost() (`stall` false) or Task.stall()
   * (true), called by the charging function.
   */
  charge(t: Task, from: number, stall: boolean): void;
  /** `t` got its CPU (t.cpu) at its clock. */
  onCpu(t: Task): void;
  /** `t` leaves its CPU (t.cpu) at its clock. */
  offCpu(t: Task): void;
  /** `t`, going to sleep, switches to the idle task from its clock until `until`, on its CPU (__schedule()). */
  switchedOut(t: Task, until: number): void;
  /** `t` spun (t.wait says on what) from its clock until `until`, on its CPU. */
  spun(t: Task, until: number): void;
  /**
   * Where the lines called `name` count their transfers (Engine.line(); lockstat.ts's LineStat), so
   * that a stall's samples can name the line it waited for; null: not wanted.
   */
  lineStat(name: string): LineStat | null;
}
