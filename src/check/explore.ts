import { SyncRuleError, TaskState, type Task } from '../engine/engine.js';
import { SimulationError } from '../errors.js';
import { EV } from '../events/catalog.js';
import { runOptionsOf, type PreparedRun } from '../sim/setup.js';
import { finishRun, setupRun, type RunOptions, type RunResult } from '../sim/run.js';
import { waitsBehind } from '../engine/wait.js';
import type { EventSource, TraceSink } from '../trace/sink.js';
import { scheduleSeed, type ScheduleId } from './schedule-id.js';
import { policyFor, type Step } from './strategies.js';
import { ViolationError, type Violation } from './violation.js';
import type { Mutant } from '../mm/kernel.js';

/**
 * One schedule of a prepared run: the run on the schedule's policy, and the first invariant it
 * broke. Violations known here: a ViolationError thrown by a checker, a task that will never run
 * again (the engine's hang detector), a process killed by a signal, an error of the model
 * (SimulationError at run time, the engine's sync rule, or any exception: a bug of the model
 * that this schedule reaches).
 */

export interface ScheduleOutcome {
  readonly violation: Violation | null;
  /** Choice points the run met. */
  readonly choices: number;
  /** Deviations the policy drew (random: its points; pct: choices that went to another task). */
  readonly deviations: number;
  /** The step log (only when asked for). */
  readonly steps: readonly Step[] | null;
  /** The run's result, when it finished (or was stopped at a hang: `stopped`). */
  readonly result: RunResult | null;
}

export interface ScheduleRunOptions {
  /** Keep the step log (slower: a stack per sync point). */
  readonly log?: boolean;
  /** More sinks for the run (--trace's RecordSink). */
  readonly sinks?: readonly TraceSink[];
  /**
   * A test-only mutant of the model (KernelOptions.mutant, docs/check.md "Mutants"): set only by
   * tests and scripts calling this API; neither `spfperf check` nor its pool job passes one.
   */
  readonly mutant?: Mutant;
}

/** 'comm/tid', as the hang diagnosis names tasks. */
export function taskName(t: Task): string {
  return `${t.comm}/${t.tid}`;
}

/** A VMA's start out of a wait's object ('VMA 7f00-7f80'), for the violation's address. */
function objectAddr(object: string | undefined): number | null {
  const m = object === undefined ? null : /\b([0-9a-f]{4,})-[0-9a-f]+\b/.exec(object);
  return m === null ? null : parseInt(m[1], 16);
}

/** The hang detector's finding as a violation: the first task that waits for an event nobody sends. */
function hangViolation(stuck: readonly Task[]): Violation {
  const roots = stuck.filter((t) => !waitsBehind(t.wait));
  const t = roots[0] ?? stuck[0];
  const w = t.wait;
  const fn = w === null ? '' : w.kind === 'lock' || w.kind === 'rcu' ? w.fn : w.kind === 'queue' ? w.fn ?? '' : '';
  const others = stuck.length > 1 ? ` (${stuck.length - 1} more stuck: ${stuck.filter((s) => s !== t).map(taskName).join(', ')})` : '';
  const state = t.state === TaskState.Spinning ? 'spins' : t.state === TaskState.Runnable ? 'waits for a CPU' : 'sleeps';
  return {
    invariant: 'no-task-waits-forever',
    task: taskName(t),
    fn,
    addr: w !== null && w.kind === 'queue' ? objectAddr(w.object) : null,
    timeNs: t.clock,
    detail: `${state} on ${t.waitingOn || 'nothing'} and nothing will wake it${others}`,
  };
}

/** An exception a schedule's run threw, as a violation (the task whose step was running). */
function errorViolation(e: unknown, running: Task | null, timeNs: number): Violation {
  if (e instanceof ViolationError) return e.violation;
  const task = running === null ? '' : taskName(running);
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  if (e instanceof SyncRuleError) return { invariant: 'sync-rule', task, fn: '', addr: null, timeNs, detail: msg };
  if (e instanceof SimulationError) return { invariant: 'model-error', task, fn: '', addr: null, timeNs, detail: msg };
  return { invariant: 'internal-error', task, fn: '', addr: null, timeNs, detail: `${e instanceof Error ? e.name : 'Error'}: ${msg}` };
}

/** The run options of schedule `id` (its engine seed: stream 0 of the id). */
function scheduleOptions(prep: PreparedRun, sched: RunOptions['sched'], sinks: readonly TraceSink[], id: ScheduleId | null, mutant: Mutant | undefined): RunOptions {
  const base = { ...runOptionsOf(prep), ...(mutant !== undefined ? { mutant } : {}) };
  // The model's invariants are always checked under check (src/mm/debug_vm.ts, docs/invariants.md).
  return { ...base, checkInvariants: true, sinks, sched, ...(id !== null ? { engineSeed: scheduleSeed(id.seed, id.index, 0) } : {}) };
}

/** Schedules probed for PCT's expected run length. */
const LENGTH_PROBES = 4;

/**
 * PCT's k, the number of choice points a run is expected to have, over which its change points
 * are drawn: the most that LENGTH_PROBES schedules of the same seed with priorities only (no
 * change point) meet. Measured, not taken from the engine's plain order, whose tasks rarely
 * overlap in time; a function of the id's seed and the run alone, so a replay finds the same.
 */
export function expectedChoices(prep: PreparedRun, seed: number, depth: number, mutant?: Mutant): number {
  let k = 1;
  for (let i = 0; i < LENGTH_PROBES; i++) {
    const probe = runSchedule(prep, { strategy: 'pct', depth, seed, index: i, keep: [] }, 1, mutant !== undefined ? { mutant } : {});
    k = Math.max(k, probe.choices);
  }
  return k;
}

/** A sink that keeps each task's last user page-fault address (exceptions:page_fault_user). */
function faultAddrSink(into: Map<number, number>): TraceSink {
  return {
    traced: new Set([EV.PAGE_FAULT_USER]),
    count() {},
    sample(_id: number, src: EventSource, fields: readonly number[]) {
      into.set(src.tid, fields[0]);
    },
  };
}

/** Run schedule `id` of a prepared run; `length` is PCT's k (expectedChoices()). */
export function runSchedule(prep: PreparedRun, id: ScheduleId, length: number, o: ScheduleRunOptions = {}): ScheduleOutcome {
  const log = o.log === true;
  const policy = policyFor(id, length, log);
  // Each task's last fault address: the step log's address column, and who took a SIGSEGV.
  const sinks = [...(o.sinks ?? []), faultAddrSink(policy.faultAddr)];
  const r = setupRun(scheduleOptions(prep, (eng) => policy.attach(eng), sinks, id, o.mutant));
  const limit = Error.stackTraceLimit;
  if (log) Error.stackTraceLimit = 60;
  let violation: Violation | null = null;
  let result: RunResult | null = null;
  try {
    r.start();
    r.eng.run();
    const stuck = r.eng.stuckTasks();
    if (stuck.length > 0) {
      violation = hangViolation(stuck);
      r.eng.stop();
    }
    result = finishRun(r, scheduleOptions(prep, undefined, sinks, id, o.mutant));
    const killed = r.k.processes.find((p) => p.killedBy !== null);
    if (violation === null && killed !== undefined) {
      const why = killed.killedBy!;
      // The thread whose fault took the signal: the one whose last fault was at its address.
      const th = killed.threads.find((x) => policy.faultAddr.get(x.tid) === why.addr) ?? killed.threads[0];
      violation = { invariant: 'no-fatal-signal', task: taskName(th.t), fn: 'do_user_addr_fault', addr: why.addr, timeNs: th.t.endTime, detail: `process ${killed.comm}/${killed.pid} killed by signal ${why.signal} (${why.detail})` };
    }
  } catch (e) {
    violation = errorViolation(e, policy.current, r.eng.now);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return { violation, choices: policy.choices, deviations: policy.deviations, steps: policy.log, result };
}
