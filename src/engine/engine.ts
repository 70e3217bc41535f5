import { EventLoop } from './event-loop.js';
import { Rng } from './rng.js';
import { CacheLine, type SyncGuard } from './cacheline.js';
import type { Topology } from './topology.js';
import { Task, TaskState, StepFrame, SYNC, BLOCK, SPIN, PREEMPT, RESUME_LATER, CALL, FRAMES, STEP_CALL, type Code } from './task.js';
import { LockList } from './debug.js';
import type { ContentionTracer } from './lockstat.js';
import type { CpuSampler } from './sampler.js';
import { fifoPolicy, type SchedPolicy } from './policy.js';

/** Sync points a task passes before it syncs unasked (Engine.unsyncedSteps): ~1000-2000 faults on one CPU. */
const UNASKED_SYNC_EVERY = 4096;
import type { EngineCosts, EngineOptions } from './options.js';

/**
 * The deterministic discrete-event core.
 *
 * Time is virtual nanoseconds. A task is a generator that runs ahead on its own clock while it
 * touches only state no other CPU can see, and hands control back (`yield SYNC`) before it touches
 * shared state, so that shared state is always changed in global time order: when a task passes
 * a sync point its clock is the earliest pending time in the system (`task.mustSync()` is false).
 * One heap ordered by (time, insertion seq) holds the tasks that hold a CPU and the timers.
 *
 * The sync rule has one form: `if (t.mustSync()) yield SYNC` before touching shared state. The
 * engine would decide just as well on a bare `yield SYNC`, but the yield travels up every
 * generator of the call chain and back, which cost a 1-CPU page_fault1 run about a fifth of its
 * time (measured), so the test comes first. Lock fast paths (`SpinLock.lockFast`, `unlockFast`,
 * ...) ask mustSync() themselves and take the slow path when it says yes.
 *
 * A step is a run of cache-line accesses with no CPU work (Task.cost) between them, such as a
 * tree walk or a release followed by the hand-off to the next waiter. A step must begin in time
 * order (a sync point guarantees it); accesses within it may run past that by its own latencies.
 * With `checkSync` on (tests, --check), every cache-line access asks the engine whether it keeps
 * the rule, and a forgotten `yield SYNC` throws SyncRuleError naming the line and its function.
 */

/** Whether engines built from now on check the sync rule unless told otherwise (test/setup.ts: on). */
let syncCheckDefault = false;
export function setSyncCheckDefault(on: boolean): void {
  syncCheckDefault = on;
}
/** setSyncCheckDefault()'s value (handed on to worker threads, src/pool/pool.ts). */
export function getSyncCheckDefault(): boolean {
  return syncCheckDefault;
}

export { Task, TaskState, StepFrame, runFrame, calleeOf, driveFrame, SYNC, BLOCK, SPIN, PREEMPT, RESUME_LATER, CALL, FRAMES, FRAMES_PENDING, STEP_SYNC, STEP_CALL, type Code, type Yield } from './task.js';
export { getInvariantCheckDefault, setInvariantCheckDefault, type TrackedLock } from './debug.js';
export { SyncRuleError } from './sync-check.js';
export { Timer } from './event-loop.js';
export { fifoPolicy, type SchedPolicy } from './policy.js';
export type { EngineCosts, EngineOptions } from './options.js';

export class Engine extends EventLoop implements SyncGuard {
  readonly rng: Rng;
  readonly ncpus: number;
  /** CPU -> the task holding it, or null when idle. */
  readonly cpus: (Task | null)[];
  /** The task that last ran on each CPU (an idle CPU keeps its address space loaded: lazy TLB). */
  readonly lastOnCpu: (Task | null)[];
  /**
   * When each CPU's last task finished switching out to the idle task (__schedule() ->
   * context_switch() to idle): until then the CPU is still that task's, busy and not lazy.
   */
  readonly idleFrom: Float64Array;
  /** Tasks ready to run with no CPU, in arrival order. */
  readonly runqueue: Task[] = [];
  readonly tasks: Task[] = [];
  ctxSwitches = 0;
  migrations = 0;
  /** Interrupt time (IPIs) owed by each CPU, paid by whatever task runs there at its next sync. */
  readonly irqDebt: Float64Array;
  policy: SchedPolicy = fifoPolicy;
  /** Whether cache-line accesses check the sync rule (see SyncRuleError). */
  readonly checkSync: boolean;
  /**
   * Whether the hot paths run their step functions as frames (driveFrame(), `yield t.call(f)`)
   * rather than through generators with yield*: a fault that syncs several times would pass every
   * generator of the caller's chain twice at each sync (dufour-v9 page_fault1 on 192 CPUs: ~10 %
   * less CPU), and one that does not sync (most on one CPU) runs to its end from the touch loop,
   * with no generator made or resumed (page_fault1 on 1 CPU: ~25 % more faults a second). Off
   * where call chains are read off the JS stack. Either way the same steps run in the same order.
   */
  readonly calls: boolean;
  /** Called when a task owes a sync (mustSync() true): the race checker's step log (src/check). */
  onSyncPoint: ((t: Task) => void) | null = null;
  /** Test hook, asked at a `yield SYNC` a task owes: true lets it pass, as if that sync were forgotten. */
  dropSync: ((t: Task) => boolean) | null = null;
  /**
   * Sync points passed since the last sync taken unasked (Task.mustSync counts down): a task that
   * never owes one (alone on one CPU) would hold step() to the run's end and the host (Ctrl-C,
   * the pool, progress) with it; at 0 it syncs anyway if strictly the earliest, which keeps the
   * schedule (it is the next item taken), and step() ends its slice.
   */
  unsyncedSteps = UNASKED_SYNC_EVERY;
  /** spinlock_t is a ticket lock (every waiter spins reading the lock word), not a qspinlock. */
  readonly ticketSpinlocks: boolean;
  /**
   * The invariant checks (src/mm/debug_vm.ts): the task resumed last (whose step a scan follows),
   * the scan between items (EventLoop.audit), the exit check (before joiners wake), the locks
   * made (trackLocks).
   */
  current: Task | null = null;
  onTaskExit: ((t: Task) => void) | null = null;
  readonly locks: LockList | null;
  /** The observer of lock waits (the lock primitives call it where they wait), or null. */
  readonly contention: ContentionTracer | null;
  /** The sampler of the CPUs' time (Task.cost/stall call it when a sample falls due), or null. */
  readonly sampler: CpuSampler | null;

  constructor(
    readonly topo: Topology,
    readonly costs: EngineCosts,
    seed: number,
    opts: EngineOptions = {},
  ) {
    super();
    this.checkSync = opts.checkSync ?? syncCheckDefault;
    this.ticketSpinlocks = opts.spinlock === 'ticket';
    this.locks = opts.trackLocks === true ? new LockList() : null;
    this.contention = opts.contention ?? null;
    this.sampler = opts.sampler ?? null;
    this.rng = new Rng(seed);
    this.ncpus = topo.ncpus;
    // Not when call chains are read from the JS stack (cpu-clock -g, lock contention's callers):
    // a CALLed generator runs from the engine's loop, its callers off the stack.
    this.calls = this.sampler === null && this.contention === null;
    this.cpus = new Array<Task | null>(this.ncpus).fill(null);
    this.lastOnCpu = new Array<Task | null>(this.ncpus).fill(null);
    this.idleFrom = new Float64Array(this.ncpus);
    this.irqDebt = new Float64Array(this.ncpus);
    this.coreBusy = new Int32Array(this.ncpus);
    // Per-thread slowdown with k threads of a core busy: k / throughput(k); beyond the table's
    // end the core is saturated at its last entry. No table, or [1]: no SMT effect.
    const tp = costs.smtThroughput ?? [];
    this.smtSlowdown = new Float64Array(topo.spec.threadsPerCore + 1).fill(1);
    if (tp.length > 1) for (let k = 2; k <= topo.spec.threadsPerCore; k++) this.smtSlowdown[k] = k / tp[Math.min(k, tp.length) - 1];
    this.smt = topo.spec.threadsPerCore > 1 && this.smtSlowdown.some((x) => x !== 1);
  }

  /** Tasks running on the CPUs of each core, spinners not counted (indexed by core). */
  readonly coreBusy: Int32Array;
  /** Cost multiplier for a task whose core has k busy threads (index k). */
  readonly smtSlowdown: Float64Array;
  /** Whether SMT sharing changes any cost on this machine. */
  readonly smt: boolean;

  /**
   * The task running on `cpu` at `time`, or null: the CPU is idle, or its task was woken and has
   * not started yet (Task.onCpuAt), which in the kernel's eyes is idle still. A task that went to
   * sleep runs until its switch to idle is done (idleFrom).
   */
  runningAt(cpu: number, time: number): Task | null {
    const t = this.cpus[cpu];
    if (t !== null && time >= t.onCpuAt) return t;
    // Its last task may still be switching out to idle (releaseCpu()).
    return time < this.idleFrom[cpu] ? this.lastOnCpu[cpu] : null;
  }

  /** Charge the task on its CPU the interrupt time that CPU owes. */
  absorbIrq(t: Task): void {
    const d = this.irqDebt[t.cpu];
    if (d > 0) {
      this.irqDebt[t.cpu] = 0;
      t.clock += d;
    }
  }

  /** A cache line of shared data, named for reports. */
  line(name: string): CacheLine {
    return new CacheLine(this.topo, name, this.checkSync ? this : null, this.contention?.lines?.of(name) ?? this.sampler?.lineStat(name) ?? null);
  }

  /** Whether `t` syncs unasked (see unsyncedSteps): not while check's step log or policies count sync points. */
  yieldSoon(t: Task): boolean {
    this.unsyncedSteps = UNASKED_SYNC_EVERY;
    return (this.endSlice = this.onSyncPoint === null && this.policy === fifoPolicy && !this.stopped && t.clock < this.horizon());
  }

  /** Apply the configured jitter to a cost, drawing from the seeded PRNG. */
  jitter(ns: number): number {
    const j = this.costs.jitter;
    return j > 0 ? ns * (1 + j * (2 * this.rng.float() - 1)) : ns;
  }

  /** Create a task that becomes runnable at `time`. */
  spawn(tid: number, pid: number, comm: string, time: number, body: (t: Task) => Code, affinity = -1): Task {
    const t = new Task(this, tid, pid, comm);
    t.affinity = affinity;
    t.gen = body(t);
    t.clock = time;
    t.startTime = time;
    this.tasks.push(t);
    this.makeRunnable(t, time, 0);
    return t;
  }

  /** Wake a blocked task at `time` (try_to_wake_up). */
  wake(t: Task, time: number): void {
    if (t.state !== TaskState.Blocked) return;
    t.wait = null;
    this.makeRunnable(t, time, this.wakeupLatency());
  }

  /**
   * try_to_wake_up() until the woken task runs on an idle CPU: wakeupNs, or, where the machine
   * measured how much it varies (a guest's vCPU is woken by its host, whose latency depends on
   * how long the vCPU has been halted and on the host's halt polling), a draw about it.
   */
  private wakeupLatency(): number {
    const s = this.costs.wakeupSpread ?? 0;
    return s > 0 ? this.costs.wakeupNs * (1 + s * (2 * this.rng.float() - 1)) : this.costs.wakeupNs;
  }

  /** A spinning task stops spinning and sleeps from `time` on (woken later by wake()). */
  stopSpinning(t: Task, time: number): void {
    if (t.state !== TaskState.Spinning) return;
    if (this.sampler !== null) this.sampler.spun(t, time);
    if (time > t.clock) t.clock = time;
    this.coreBusy[this.topo.coreOf[t.cpu]]++; // releaseCpu() takes the spinner off its core
    t.state = TaskState.Blocked;
    this.releaseCpu(t);
  }

  /** Hand a spinning task the thing it spun on: it continues on its CPU at `time`. */
  resumeSpinner(t: Task, time: number): void {
    if (t.state === TaskState.Spinning) this.coreBusy[this.topo.coreOf[t.cpu]]++;
    if (this.sampler !== null && t.state === TaskState.Spinning) this.sampler.spun(t, time);
    t.state = TaskState.Running;
    t.wait = null;
    if (time > t.clock) t.clock = time;
    this.queue(t, t.clock);
  }

  private makeRunnable(t: Task, time: number, latency: number): void {
    t.state = TaskState.Runnable;
    const idle: number[] = [];
    for (let c = 0; c < this.ncpus; c++) if (this.cpus[c] === null) idle.push(c);
    const cpu = idle.length > 0 ? this.policy.pickCpu(t, idle, this) : -1;
    if (cpu >= 0) {
      t.clock = Math.max(t.clock, time + latency, this.idleFrom[cpu]);
      this.place(t, cpu);
    } else {
      t.clock = Math.max(t.clock, time);
      this.runqueue.push(t);
    }
  }

  private place(t: Task, cpu: number): void {
    this.cpus[cpu] = t;
    this.coreBusy[this.topo.coreOf[cpu]]++;
    if (t.lastCpu >= 0 && t.lastCpu !== cpu) {
      t.migrations++;
      this.migrations++;
    }
    t.cpu = cpu;
    t.lastCpu = cpu;
    t.state = TaskState.Running;
    t.sliceEnd = t.clock + this.costs.timesliceNs;
    t.onCpuAt = t.clock;
    t.accountOnCpu();
    this.queue(t, t.clock);
  }

  /** The task leaves its CPU at its clock; the CPU takes the next runnable task, or idles. */
  private releaseCpu(t: Task): void {
    const cpu = t.cpu;
    const i = this.runqueue.length > 0 ? this.policy.pickNext(this.runqueue, cpu, this) : -1;
    if (i < 0 && t.state === TaskState.Blocked) {
      // A task going to sleep with no other to run: __schedule() picks the idle task and
      // context_switch() enters lazy TLB mode (enter_lazy_tlb()). Until then the time is the
      // sleeping task's (sys), and its CPU is still its own: busy, and not lazy for a TLB
      // flush's should_flush_tlb(). (Handing the CPU to a runnable task costs contextSwitchNs
      // too, charged to that task below.)
      if (this.sampler !== null) this.sampler.switchedOut(t, t.clock + this.costs.contextSwitchNs);
      t.switchToIdle(this.costs.contextSwitchNs);
      this.idleFrom[cpu] = t.clock;
    }
    t.accountOffCpu();
    t.cpu = -1;
    t.ctxSwitches++;
    this.ctxSwitches++;
    this.cpus[cpu] = null;
    this.coreBusy[this.topo.coreOf[cpu]]--;
    this.lastOnCpu[cpu] = t;
    if (i >= 0) {
      const next = this.runqueue.splice(i, 1)[0];
      next.clock = Math.max(next.clock, t.clock) + this.costs.contextSwitchNs;
      this.place(next, cpu);
    }
  }

  /** True if a task on `cpu` should give way: its slice is over and someone waits for this CPU. */
  shouldPreempt(t: Task): boolean {
    if (t.clock < t.sliceEnd || this.runqueue.length === 0 || t.inKernel) return false;
    return this.policy.pickNext(this.runqueue, t.cpu, this) >= 0;
  }

  /** Resume a task's generator until its next yield and act on what it yields. */
  resume(t: Task): void {
    this.now = t.clock;
    if (this.policy.defer !== undefined) {
      const at = this.policy.defer(t, this);
      if (at >= 0) {
        if (at > t.clock) t.clock = at;
        this.queue(t, t.clock);
        return;
      }
    }
    this.current = t;
    this.stepOpen = true;
    if (t.finished) {
      this.exit(t);
      return;
    }
    for (;;) {
      let y: number;
      const f = t.frame;
      if (f !== null) {
        // A step function: a number >= 0 is its return, else as the generator's yield would be.
        const v = f.step(t);
        if (v >= 0) {
          t.frame = null;
          t.ret = v;
          popCaller(t);
          continue;
        }
        if (v === STEP_CALL) {
          enterCall(t, f, true);
          continue;
        }
        y = SYNC;
      } else {
        const r = t.gen.next();
        if (!r.done) {
          y = r.value;
          if (y === FRAMES) {
            // driveFrame() left its frames on the call stack, t.frame the innermost: at a call of a
            // generator (as after a frame's STEP_CALL), else at a sync (as after its STEP_SYNC).
            if (t.callee !== null) {
              enterCall(t, t.frame!, true);
              continue;
            }
            y = SYNC;
          }
        } else if (t.callers.length > 0) {
          // A call (CALL) returns: its caller goes on at once, as after a yield*.
          t.ret = r.value;
          popCaller(t);
          continue;
        } else {
          // Exit is shared state (joiners, the CPU): it happens at the task's time, in order.
          if (t.clock > this.syncAt) {
            t.finished = true;
            this.queue(t, t.clock);
            return;
          }
          this.exit(t);
          return;
        }
      }
      switch (y) {
        case SYNC:
          if (t.unaskedSync) t.unaskedSync = false;
          else if (t.clock <= this.syncAt && !this.stopped) {
            this.stepOpen = true;
            continue;
          } else if (this.dropSync !== null && !this.stopped && this.dropSync(t)) {
            this.stepOpen = false; // as if the yield were not there, after the work that owed it
            continue;
          }
          // queue(t, t.clock), finished by step() with the next pop.
          t.time = t.clock;
          t.seq = this.seqNo++;
          this.held = t;
          return;
        case BLOCK:
          for (const h of t.onSleep) h(t.clock);
          t.state = TaskState.Blocked;
          this.releaseCpu(t);
          return;
        case SPIN:
          t.state = TaskState.Spinning;
          // A spinner relaxes (x86 PAUSE, powerpc HMT_low): it leaves its core to its siblings.
          this.coreBusy[this.topo.coreOf[t.cpu]]--;
          return;
        case CALL:
          enterCall(t, t.gen, false);
          continue;
        case RESUME_LATER: // back to the loop, on the CPU, at the same time
          return this.queue(t, t.clock);
        case PREEMPT:
          t.state = TaskState.Runnable;
          this.releaseCpu(t);
          this.runqueue.push(t);
          // The CPU may have taken no one (affinity): then it takes this task straight back.
          if (t.cpu < 0 && this.cpus[t.lastCpu] === null && this.runqueue[this.runqueue.length - 1] === t) {
            this.runqueue.pop();
            this.place(t, t.lastCpu);
          }
          return;
      }
    }
  }

  private exit(t: Task): void {
    this.onTaskExit?.(t);
    t.state = TaskState.Done;
    t.endTime = t.clock;
    const cpu = t.cpu;
    t.accountOffCpu();
    t.cpu = -1;
    this.cpus[cpu] = null;
    this.coreBusy[this.topo.coreOf[cpu]]--;
    this.lastOnCpu[cpu] = t;
    const i = this.runqueue.length > 0 ? this.policy.pickNext(this.runqueue, cpu, this) : -1;
    if (i >= 0) {
      const next = this.runqueue.splice(i, 1)[0];
      next.clock = Math.max(next.clock, t.clock) + this.costs.contextSwitchNs;
      this.ctxSwitches++;
      this.place(next, cpu);
    }
    for (const j of t.joiners) this.wake(j, t.clock);
    t.joiners.length = 0;
  }

  /** Sleep for `ns` (an I/O wait, a timed pause): the CPU is free meanwhile. */
  *sleep(t: Task, ns: number, why: string): Code {
    if (t.mustSync()) yield SYNC;
    const until = t.clock + ns;
    this.at(until, () => this.wake(t, until));
    t.wait = { kind: 'sleep', why };
    yield BLOCK;
  }

  /** Block until `other` has exited (pthread_join / wait4). */
  *join(t: Task, other: Task): Code {
    if (t.mustSync()) yield SYNC;
    if (other.state === TaskState.Done) return;
    other.joiners.push(t);
    t.wait = { kind: 'join', task: other };
    yield BLOCK;
  }

  /** Tasks that will never run again although they have not exited (a lost wake-up, a deadlock). */
  stuckTasks(): Task[] {
    return this.tasks.filter((t) => t.state === TaskState.Blocked || t.state === TaskState.Spinning || t.state === TaskState.Runnable);
  }
}

/** A call starts (CALL, STEP_CALL): `caller` waits; the callee Task.call() set runs. */
function enterCall(t: Task, caller: Code<unknown> | StepFrame, isFrame: boolean): void {
  t.callers.push(caller);
  t.callerIsFrame.push(isFrame);
  if (t.calleeFrame !== null) {
    t.frame = t.calleeFrame;
    t.calleeFrame = null;
  } else {
    t.frame = null;
    t.gen = t.callee!;
    t.callee = null;
  }
}

/** A call returned: its caller, a generator or a step function, goes on. */
function popCaller(t: Task): void {
  const c = t.callers.pop()!;
  if (t.callerIsFrame.pop()!) t.frame = c as StepFrame;
  else t.gen = c as Code<unknown>;
}
