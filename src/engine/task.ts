import type { Engine } from './engine.js';
import type { HeapItem } from './heap.js';
import { describeWait, type WaitReason } from './wait.js';

/**
 * A task of the engine: a kernel path or workload thread body (a generator) with its own virtual
 * clock, CPU, state and accounting. The engine (engine.ts) schedules it; the sync rule there says
 * when it may touch shared state.
 */

/** What a task's generator yields to the engine. */
export const SYNC = 0;
/** The task put itself on a wait queue and gives up its CPU. */
export const BLOCK = 1;
/** The task waits for a spinning lock: it keeps its CPU but leaves the queue until handed the lock. */
export const SPIN = 2;
/** The task's time slice is over: back to the run queue. */
export const PREEMPT = 3;
/**
 * Back to the engine's loop, staying on the CPU, even when a SYNC would go on at once: for a
 * user loop whose rounds take no simulated time, so that a run still comes back between slices.
 */
export const RESUME_LATER = 4;
/**
 * Run the generator given to Task.call() as a call of this one, straight from the engine's loop:
 * `yield t.call(g)`, then the call's return value is in `t.ret`. Like `yield* g`, but the yields
 * of g (and of what g delegates to) go to the engine from g itself, not up and down through every
 * generator of the caller's chain: for the fault path, entered from deep in the interpreter and
 * the syscall paths, where a fault's several syncs would each pass them all.
 */
export const CALL = 5;
/**
 * The frames a generator drove itself (driveFrame) stopped short of their end, at a sync or at a
 * call of a generator: they are on the task's call stack, the innermost in Task.frame, and the
 * engine goes on with them as with any frame it runs; the generator resumes when they return.
 */
export const FRAMES = 6;
export type Yield = typeof SYNC | typeof BLOCK | typeof SPIN | typeof PREEMPT | typeof RESUME_LATER | typeof CALL | typeof FRAMES;

/** A kernel path or a workload thread body. */
export type Code<T = void> = Generator<Yield, T, void>;

/** StepFrame.step()'s answer: sync (as `if (t.mustSync()) yield SYNC` does when it must), then call step() again. */
export const STEP_SYNC = -1;
/** StepFrame.step()'s answer: run the call set by Task.stepCall() first, then call step() again with its return value in Task.ret. */
export const STEP_CALL = -2;

/**
 * A kernel path written as a step function instead of a generator, for the hottest paths: the
 * engine calls step() again after each sync, where a generator would be resumed, which costs a
 * plain call instead of a generator's resume (its registers saved and restored at every sync).
 * The frame keeps its locals in its fields and where to go on in its own state. It is entered as
 * a call (`yield t.call(frame)`), or with `yield* runFrame(t, frame)` where calls are off, and
 * returns a number >= 0. The same sync points in the same order as the generator it replaces.
 */
export abstract class StepFrame {
  abstract step(t: Task): number;
}

/**
 * A frame as a generator, for callers that delegate with yield* (Engine.calls off). A generator
 * that stands for a frame under a name of its own (doAnonymousPage(), doUserAddrFault()) takes the
 * frame's steps itself with the same loop, rather than `yield* runFrame(...)`: each generator
 * between a sync and the engine is resumed at every sync.
 */
export function* runFrame(t: Task, f: StepFrame): Code<number> {
  for (;;) {
    const r = f.step(t);
    if (r >= 0) return r;
    if (r === STEP_CALL) t.ret = yield* calleeOf(t);
    else yield SYNC;
  }
}

/**
 * The call a frame's STEP_CALL asks for (Task.stepCall()), taken off the task, as a generator to
 * delegate to: the generator called, or the frame called, run by runFrame().
 */
export function calleeOf(t: Task): Code<unknown> {
  const f = t.calleeFrame;
  if (f !== null) {
    t.calleeFrame = null;
    return runFrame(t, f);
  }
  const g = t.callee!;
  t.callee = null;
  return g;
}

/** driveFrame()'s answer when the frames stopped short: `yield FRAMES`, then their answer is in Task.ret. */
export const FRAMES_PENDING = -3;

/**
 * Run frame f from the generator that calls it, as the engine would run it as a call, as far as
 * it goes without the engine: through its calls of other frames, up to its first sync (STEP_SYNC)
 * or call of a generator. Returns f's answer (>= 0) if it got to its end; else FRAMES_PENDING,
 * and the generator must `yield FRAMES` at once (its answer is then in t.ret). The same steps in
 * the same order as `yield t.call(f)`, without the generator's yield and resume, nor the frame's
 * trip through the engine, when no sync falls due (a fault on a CPU that runs alone, most faults
 * of one CPU). The caller's generator is at the bottom of the frames' call stack meanwhile.
 */
export function driveFrame(t: Task, f: StepFrame): number {
  const callers = t.callers;
  const isFrame = t.callerIsFrame;
  callers.push(t.gen);
  isFrame.push(false);
  const base = callers.length;
  let cur = f;
  for (;;) {
    const v = cur.step(t);
    if (v >= 0) {
      if (callers.length === base) {
        callers.pop();
        isFrame.pop();
        return v;
      }
      // As the engine's popCaller(): the caller is a frame, pushed below.
      t.ret = v;
      isFrame.pop();
      cur = callers.pop() as StepFrame;
      continue;
    }
    if (v === STEP_CALL && t.calleeFrame !== null) {
      callers.push(cur);
      isFrame.push(true);
      cur = t.calleeFrame;
      t.calleeFrame = null;
      continue;
    }
    // A sync, or a call of a generator (t.callee): the engine's from here (Engine.resume, FRAMES).
    t.frame = cur;
    return FRAMES_PENDING;
  }
}

export const enum TaskState {
  Runnable,
  Running,
  Blocked,
  Spinning,
  Done,
}

export class Task implements HeapItem {
  // Virtual times start as -0, a double: V8 then stores these fields as doubles from the first
  // task on, instead of first as small integers that the first fractional cost turns into doubles
  // (a map change that deoptimises the engine's hot functions early in every run; npm run bench:
  // ~10 % less CPU on 192 threads). -0 equals 0 in every comparison and sum that follows.
  time = -0;
  seq = 0;
  removed = false;
  /** The task's own virtual clock (ns). While it runs, it is ahead of or equal to the engine's. */
  clock = -0;
  state: TaskState = TaskState.Runnable;
  cpu = -1;
  lastCpu = -1;
  /** CPU this task is pinned to, or -1. */
  affinity = -1;
  /** True while in kernel mode: the kernel here is not preemptible (PREEMPT_NONE). */
  inKernel = false;
  /** Nesting of spinlocks/IRQ-off sections (no preemption, no blocking). */
  preemptCount = 0;
  userNs = 0;
  sysNs = 0;
  private modeStart = -0;
  sliceEnd = -0;
  /**
   * When the task started on its CPU (its clock when place() put it there: a woken task's is its
   * wake-up latency later). Before then the CPU is still idle in the kernel's eyes: a TLB flush
   * skips it as lazy (tlb.ts), as should_flush_tlb() skips a CPU that has not switched to the mm.
   */
  onCpuAt = -0;
  /** Context switches of this task (voluntary + involuntary), as perf's context-switches. */
  ctxSwitches = 0;
  migrations = 0;
  /** Tasks waiting in join() for this one. */
  joiners: Task[] = [];
  /**
   * Called when this task is about to sleep: each sleeping lock it owns for writing hangs one
   * here to stop the tasks spinning on it (rwsem optimistic spinning gives up when the owner
   * leaves its CPU). A task may own several (dup_mmap() nests the child's mmap lock).
   */
  readonly onSleep: ((time: number) => void)[] = [];
  /** What the task is blocked or spinning on (null while it runs), for deadlock reports. */
  wait: WaitReason | null = null;
  /** The wait as one line (empty while the task runs). */
  get waitingOn(): string {
    return describeWait(this.wait);
  }
  /** The generator the engine resumes: the task's body, or the innermost call (CALL) under way. */
  gen!: Code<unknown>;
  /** The step function under way (a call of a StepFrame), or null: then gen is. */
  frame: StepFrame | null = null;
  /** The generators and frames waiting for a call to return, innermost last. */
  readonly callers: (Code<unknown> | StepFrame)[] = [];
  /** Beside callers: whether each is a frame (an instanceof of a generator would walk its prototypes). */
  readonly callerIsFrame: boolean[] = [];
  /** The generator a `yield CALL` or a STEP_CALL starts (set by call()). */
  callee: Code<unknown> | null = null;
  /** The frame a `yield CALL` starts (set by call()). */
  calleeFrame: StepFrame | null = null;
  /** The return value of the last call (CALL) that returned. */
  ret: unknown = undefined;
  startTime = -0;
  endTime = -0;
  /** The generator has returned; the exit itself waits for the task's time to come. */
  finished = false;
  /** Upper layers hang their per-task state here (the mm model: its Thread). */
  ctx: unknown = null;
  /** The next cpu-clock sample instant of this task's CPU (sampler.ts); Infinity without a sampler. */
  sampleAt = Infinity;
  /** mustSync() said yes without the sync being owed (Engine.unsyncedSteps): the next `yield SYNC` is taken. */
  unaskedSync = false;

  constructor(
    readonly eng: Engine,
    readonly tid: number,
    readonly pid: number,
    readonly comm: string,
  ) {}

  fire(): void {
    this.eng.resume(this);
  }

  /** `yield t.call(g)`: run g, a generator or a step function, as a call (see CALL); its return value is then in `ret`. */
  call(g: Code<unknown> | StepFrame): typeof CALL {
    if (g instanceof StepFrame) this.calleeFrame = g;
    else this.callee = g;
    return CALL;
  }

  /** In a StepFrame: `return t.stepCall(g)` runs g (a generator or a frame), then step() again with its return value in `ret`. */
  stepCall(g: Code<unknown> | StepFrame): typeof STEP_CALL {
    this.call(g);
    return STEP_CALL;
  }

  /**
   * mustSync() for a fast path that gives up when it says yes (`if (!free || t.owesSync()) return
   * false`, then the slow path syncs and may ask again): only a sync that is owed, never one taken
   * unasked, since the slow path after it takes a "no" for contention.
   */
  owesSync(): boolean {
    const e = this.eng;
    const must = this.clock > e.syncAt;
    if (!must) e.stepOpen = true;
    else if (e.onSyncPoint !== null) e.onSyncPoint(this);
    return must;
  }

  /** True when the task must yield SYNC before touching shared state. */
  mustSync(): boolean {
    const e = this.eng;
    const must = this.clock > e.syncAt;
    if (!must) {
      // Now and then a sync that is not owed, when it cannot change the order (Engine.yieldSoon);
      // good for the `yield SYNC` that follows at once, and for nothing after another sync point.
      if (--e.unsyncedSteps <= 0 && e.yieldSoon(this)) return (this.unaskedSync = true);
      this.unaskedSync = false;
      e.stepOpen = true;
    } else if (e.onSyncPoint !== null) e.onSyncPoint(this);
    return must;
  }

  /**
   * Spend ns of CPU time in the current mode: the time the work takes on a core of its own. With
   * SMT siblings busy on the same core, the work shares the core's pipeline and takes longer
   * (Engine.smtSlowdown).
   */
  cost(ns: number): void {
    const e = this.eng;
    e.stepOpen = false;
    const from = this.clock;
    if (!e.smt || this.cpu < 0) this.clock += ns;
    else this.clock += ns * e.smtSlowdown[e.coreBusy[e.topo.coreOf[this.cpu]]];
    if (this.clock > this.sampleAt) e.sampler!.charge(this, from, false);
  }

  /**
   * Wait ns without using the core (a cache-line transfer, an IPI's round trip): SMT siblings do
   * not slow it down.
   */
  stall(ns: number): void {
    const from = this.clock;
    this.clock += ns;
    if (this.clock > this.sampleAt) this.eng.sampler!.charge(this, from, true);
  }

  /**
   * Going to sleep, the task's __schedule() switches its CPU to the idle task: `ns` of system
   * time, in whatever mode the model put the sleep (a join is not modelled as a syscall).
   */
  switchToIdle(ns: number): void {
    if (!this.inKernel) {
      this.userNs += this.clock - this.modeStart;
      this.sysNs += ns;
      this.modeStart = this.clock + ns;
    }
    this.clock += ns;
  }

  /** Switch to kernel mode (trap or syscall entry); CPU time before it is user time. */
  enterKernel(): void {
    this.userNs += this.clock - this.modeStart;
    this.modeStart = this.clock;
    this.inKernel = true;
  }

  exitKernel(): void {
    this.sysNs += this.clock - this.modeStart;
    this.modeStart = this.clock;
    this.inKernel = false;
  }

  /** Close the CPU-time interval that ends now (the task leaves its CPU). */
  accountOffCpu(): void {
    if (this.inKernel) this.sysNs += this.clock - this.modeStart;
    else this.userNs += this.clock - this.modeStart;
    this.modeStart = this.clock;
    if (this.eng.sampler !== null) this.eng.sampler.offCpu(this);
  }

  /**
   * CPU time (user + sys) up to `time`, read while the task may be on a CPU (perf's task-clock
   * read mid-run, as perf stat -I reads it: task_clock_event_read() adds the running slice).
   * A task running ahead of `time` has its time past `time` taken off.
   */
  cpuNsAt(time: number): number {
    const done = this.userNs + this.sysNs;
    if (this.cpu < 0) return done;
    return Math.max(0, done + Math.min(time, this.clock) - this.modeStart);
  }

  /** Open a CPU-time interval (the task got a CPU). */
  accountOnCpu(): void {
    this.modeStart = this.clock;
    if (this.eng.sampler !== null) this.eng.sampler.onCpu(this);
  }
}

