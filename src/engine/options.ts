/** What an Engine (engine.ts) is built with besides its topology and seed: its costs and options. */
import type { ContentionTracer } from './lockstat.js';
import type { CpuSampler } from './sampler.js';

/** Engine-level costs that the arch and machine profiles supply. */
export interface EngineCosts {
  /** __schedule() + switch_to() between two tasks on one CPU. */
  readonly contextSwitchNs: number;
  /** try_to_wake_up() until the woken task runs on an idle CPU (IPI, idle exit). */
  readonly wakeupNs: number;
  /**
   * How much a wake-up's latency varies about wakeupNs: each wake-up of a task onto an idle CPU
   * takes wakeupNs x (1 + s), s drawn uniformly in [-wakeupSpread, +wakeupSpread] from the
   * engine's PRNG. Absent or 0: every wake-up takes wakeupNs (and draws nothing).
   */
  readonly wakeupSpread?: number;
  /**
   * The waker's own share of one try_to_wake_up() of a task on another CPU (remote runqueue
   * lock, enqueue, reschedule IPI): a waker of N tasks pays it N times, and wakes them one after
   * another (wake_up_q). Optional: 0 when absent.
   */
  readonly ttwuNs?: number;
  /**
   * A core's throughput with k of its SMT threads busy, relative to one (index k - 1); absent or
   * [1]: no SMT effect.
   */
  readonly smtThroughput?: readonly number[];
  /** How long a task runs before a waiting task may preempt it (CFS granularity). */
  readonly timesliceNs: number;
  /** Fractional jitter applied to costs passed through Engine.jitter (e.g. 0.02 = +-2 %). */
  readonly jitter: number;
  /** The work inside a generic-spinlock rwsem's wait_lock (rwsem-spinlock.ts); its estimate when absent. */
  readonly rwsemSpinlockCsNs?: number;
}

/** Options of an engine beyond its topology, costs and seed. */
export interface EngineOptions {
  /** Check the sync rule on every cache-line access (default: setSyncCheckDefault's value). */
  readonly checkSync?: boolean;
  /** How spinlock_t waits (SpinLock in locks.ts): queued (qspinlock, the default) or ticket. */
  readonly spinlock?: 'queued' | 'ticket';
  /** Keep a list of the locks made, for the invariant checks (a lock held at exit). */
  readonly trackLocks?: boolean;
  /** Tell this observer every lock wait, and sum the lines' transfers in its `lines` (lockstat.ts). */
  readonly contention?: ContentionTracer;
  /** Sample the CPUs' time for this sampler (cpu-clock, sampler.ts). */
  readonly sampler?: CpuSampler;
}
