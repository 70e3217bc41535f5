import { TaskState, type Engine, type SchedPolicy, type Task } from '../engine/engine.js';
import { Rng } from '../engine/rng.js';
import { framesOf, kernelName } from '../trace/lock-contention.js';
import { scheduleSeed, type ScheduleId } from './schedule-id.js';

/**
 * The schedules of `spfperf check`: engine policies (SchedPolicy, src/engine/engine.ts) that make
 * the choices a real machine leaves open, from a seeded stream, so that a schedule id gives the
 * same run every time (docs/check.md, "Choice points").
 *
 * The engine runs tasks in virtual-time order; a task's turn comes when its item leaves the heap
 * (at a sync point, after a wake-up, at exit). A *choice point* is a turn at which two or more
 * tasks hold a CPU and could step next: the policy may let the task whose turn it is run, or
 * defer it to the time of another, which then goes first (Engine's `defer`: the deferred task's
 * CPU is taken from it meanwhile, as an interrupt or a vCPU preemption would). Which runnable
 * task an idle CPU takes (pickNext) and which idle CPU a woken task gets (pickCpu) are choices
 * too; cost jitter is drawn from the schedule's own engine seed (scheduleSeed stream 0).
 *
 *   random  at each choice point, the task to step next is drawn uniformly among those that could.
 *   pct     Burckhardt et al., ASPLOS 2010: each task gets a random priority at its first turn
 *           (all above d), the highest-priority task that can step does, and at d - 1 choice
 *           points drawn uniformly over the run's length the task about to step drops to
 *           priority 1, 2, ... d - 1 (the i-th change point to i).
 */

/** One step of the log a replayed schedule keeps for its report. */
export interface Step {
  /** Ordinal of the turn in the run (every task turn, choice or not). */
  readonly step: number;
  readonly timeNs: number;
  readonly task: Task;
  /** The model function about to touch shared state (see stepFunction), or '' if unknown. */
  readonly fn: string;
  /** The user address of the page fault the step is part of, or null (a syscall, user code). */
  readonly addr: number | null;
}

/**
 * Longest a task is kept waiting by deferrals in a row (virtual ns): past it, the task steps at its
 * turn whatever the policy prefers. A livelock guard, not a model figure: a task that polls in a
 * loop must not starve the one it waits for forever. Ten milliseconds is of the order of a vCPU
 * preempted by the hypervisor for a few host timeslices, so a schedule it cuts short was still a
 * possible one.
 */
export const STARVE_NS = 10_000_000;

/** The step log keeps at least the last LOG_KEEP steps (and at most twice as many): a report's window. */
export const LOG_KEEP = 100_000;

/** The tasks that hold a CPU and have a step pending (in the engine's heap). */
function enabledTasks(eng: Engine): Task[] {
  const out: Task[] = [];
  for (const t of eng.tasks) if (t.state === TaskState.Running) out.push(t);
  return out;
}

export abstract class CheckPolicy implements SchedPolicy {
  protected readonly rng: Rng;
  /** Turns taken so far (every task turn). */
  steps = 0;
  /** Choice points so far (turns with two or more tasks that could step). */
  choices = 0;
  /** Deviations so far: choices at which another task went first (kept or not). */
  deviations = 0;
  /** The task whose step runs (or ran last). */
  current: Task | null = null;
  /** The step log, when the run keeps one (a report's replay). */
  readonly log: Step[] | null;
  /** The model function each task was about to run at its last sync point, and if in a fault. */
  private readonly at = new Map<Task, { readonly fn: string; readonly inFault: boolean }>();
  /** Each task's last page-fault address (exceptions:page_fault_user), filled by the run's sink. */
  readonly faultAddr = new Map<number, number>();
  private readonly waitingSince = new Map<Task, number>();
  private readonly keepSet: ReadonlySet<number> | null;

  constructor(
    readonly id: ScheduleId,
    log: boolean,
  ) {
    this.rng = new Rng(scheduleSeed(id.seed, id.index, 1));
    this.log = log ? [] : null;
    this.keepSet = id.keep === null ? null : new Set(id.keep);
  }

  /** Is point `ordinal` (a change point, a deviation) kept in this schedule? */
  protected kept(ordinal: number): boolean {
    return this.keepSet === null || this.keepSet.has(ordinal);
  }

  /** Attach to an engine: the step log reads the model function at each sync point. */
  attach(eng: Engine): this {
    if (this.log === null) return this;
    eng.onSyncPoint = (t) => {
      const stack = new Error().stack ?? '';
      this.at.set(t, { fn: stepFunction(stack), inFault: FAULT_FRAME.test(stack) });
    };
    return this;
  }

  /** The task that should step next among `enabled` (which holds `t`, whose turn it is). */
  protected abstract choose(t: Task, enabled: readonly Task[]): Task;

  /** Rank of a task in the runqueue: the highest goes to a free CPU first. */
  protected abstract rank(t: Task): number;

  defer(t: Task, eng: Engine): number {
    const enabled = enabledTasks(eng);
    let next = t;
    if (enabled.length > 1) {
      next = this.choose(t, enabled);
      this.choices++;
      if (next !== t) {
        const since = this.waitingSince.get(t) ?? t.clock;
        if (next.time - since > STARVE_NS) next = t;
        else {
          this.waitingSince.set(t, since);
          return next.time;
        }
      }
    }
    this.waitingSince.delete(t);
    this.current = t;
    if (this.log !== null) {
      const at = this.at.get(t);
      // A turn with no sync point before it: a start, a wake-up, a user-mode step, the exit.
      const fn = at?.fn ?? (t.finished ? '(exit)' : t.inKernel ? '' : '(user)');
      this.log.push({ step: this.steps, timeNs: t.clock, task: t, fn, addr: at?.inFault === true ? this.faultAddr.get(t.tid) ?? null : null });
      if (this.log.length >= 2 * LOG_KEEP) this.log.splice(0, LOG_KEEP);
    }
    this.at.delete(t);
    this.steps++;
    return -1;
  }

  pickNext(queue: readonly Task[], cpu: number): number {
    let best = -1;
    for (let i = 0; i < queue.length; i++) {
      const a = queue[i].affinity;
      if ((a < 0 || a === cpu) && (best < 0 || this.rank(queue[i]) > this.rank(queue[best]))) best = i;
    }
    return best;
  }

  pickCpu(task: Task, idle: readonly number[]): number {
    if (task.affinity >= 0) return idle.includes(task.affinity) ? task.affinity : -1;
    return idle.length > 0 ? idle[this.rng.int(idle.length)] : -1;
  }
}

/** random: a uniform choice at each choice point; the runqueue in a random order. */
export class RandomPolicy extends CheckPolicy {
  private readonly ranks = new Map<Task, number>();

  protected choose(t: Task, enabled: readonly Task[]): Task {
    const pick = enabled[this.rng.int(enabled.length)];
    if (pick === t) return t;
    return this.kept(this.deviations++) ? pick : t;
  }

  protected rank(t: Task): number {
    // A fresh draw per task each time it waits in the queue is not needed: one per task suffices
    // to make the order of the queue random and reproducible.
    let r = this.ranks.get(t);
    if (r === undefined) {
      r = this.rng.float();
      this.ranks.set(t, r);
    }
    return r;
  }
}

/** PCT with d - 1 priority change points over the `length` choice points a run is expected to have. */
export class PctPolicy extends CheckPolicy {
  private readonly prio = new Map<Task, number>();
  /** The choice points (ordinals) at which a priority changes, with their change point's number. */
  private readonly changeAt = new Map<number, number>();

  constructor(id: ScheduleId, length: number, log: boolean) {
    super(id, log);
    for (let i = 0; i < id.depth - 1; i++) {
      const at = this.rng.int(Math.max(1, length));
      if (this.kept(i) && !this.changeAt.has(at)) this.changeAt.set(at, i);
    }
  }

  protected rank(t: Task): number {
    let p = this.prio.get(t);
    if (p === undefined) {
      // Distinct with probability 1, all above the change points' priorities 1 .. d-1.
      p = this.id.depth + this.rng.float();
      this.prio.set(t, p);
    }
    return p;
  }

  private highest(enabled: readonly Task[]): Task {
    let best = enabled[0];
    for (const e of enabled) if (this.rank(e) > this.rank(best)) best = e;
    return best;
  }

  protected choose(t: Task, enabled: readonly Task[]): Task {
    let next = this.highest(enabled);
    const change = this.changeAt.get(this.choices);
    if (change !== undefined) {
      this.prio.set(next, change + 1);
      next = this.highest(enabled);
    }
    if (next !== t) this.deviations++;
    return next;
  }
}

/** The policy of schedule `id`; `length` is PCT's expected number of choice points. */
export function policyFor(id: ScheduleId, length: number, log: boolean): CheckPolicy {
  return id.strategy === 'pct' ? new PctPolicy(id, length, log) : new RandomPolicy(id, log);
}

/**
 * A stack inside the user page-fault path (mm/access.ts). The design's attempt and
 * do_anonymous_page() run as calls (CALL, engine/task.ts): their stacks start at them (a design's
 * attempt and do_anonymous_page() are step functions, named by their class: FaultWithoutMmapLock.step).
 */
const FAULT_FRAME = /\b(?:[dD]oUserAddrFault|[fF]aultWithoutMmapLock|[dD]oAnonymousPage)\b/;

/**
 * Engine, lock and JS-runtime frames: not the model function a step belongs to. A file directly in
 * an engine/ or check/ directory (the location's last two parts), so that a checkout under a
 * directory of that name (/check/work/...) is not taken for the engine.
 */
const NOT_MODEL = /[\\/](?:engine|check)[\\/][\w.-]+$|[\\/]node_modules[\\/]|node:/;

/**
 * The model function a stack is in: its innermost frame outside the engine, its JS name in the
 * kernel's snake_case (the model names its functions after the kernel's: doAnonymousPage ->
 * do_anonymous_page), without the class (KamezawaStrategy.vmaPut -> vma_put).
 */
export function stepFunction(stack: string): string {
  for (const f of framesOf(stack)) {
    if (f.file === '' || NOT_MODEL.test(f.file)) continue;
    // A step function (engine/task.ts StepFrame) is named by its class: FaultWithoutMmapLock.step.
    const name = f.name.split('.').filter((p) => p !== 'next' && p !== 'step' && p !== '<anonymous>').pop() ?? '';
    const bare = name.replace(/^\*/, '');
    if (bare === '' || bare === 'Generator') continue;
    return kernelName(bare);
  }
  return '';
}
