import type { PhaseResult } from './phases.js';
import { TaskState, type Engine, type Task } from '../engine/engine.js';
import { waitsBehind, waitsFor } from '../engine/wait.js';
import { EV } from '../events/catalog.js';
import type { CountingSink } from '../trace/sink.js';
import type { Kernel } from '../mm/kernel.js';
import { EFAULT, EINVAL, ENOMEM, SIGBUS, SIGKILL, SIGSEGV } from '../mm/types.js';
import { evalExpr, ExprEvalError, type ExprScope } from '../workload/expr.js';
import type { Pos, Workload } from '../workload/ir.js';
import { SimulationError } from '../errors.js';
import { formatViolation, ViolationError, type Violation } from '../check/violation.js';

/**
 * What a run hands back: times, counts, the workload's counters and metrics, the signals that
 * killed processes; and, for a run that cannot finish, the diagnosis of who waits for whom.
 */

export interface ThreadResult {
  readonly idx: number;
  readonly tid: number;
  readonly pid: number;
  readonly comm: string;
  readonly userNs: number;
  readonly sysNs: number;
}

export interface MetricResult {
  readonly name: string;
  readonly unit: string;
  readonly value: number;
}

export interface SignalResult {
  readonly pid: number;
  readonly comm: string;
  readonly signal: number;
  readonly detail: string;
}

export interface RunResult {
  readonly elapsedNs: number;
  readonly userNs: number;
  readonly sysNs: number;
  readonly counts: CountingSink;
  readonly threads: readonly ThreadResult[];
  readonly metrics: readonly MetricResult[];
  readonly counters: ReadonlyMap<string, number>;
  /** The workload's phases (`phase "name" { ... }`), in text order: each one's time and counts. */
  readonly phases: readonly PhaseResult[];
  readonly signals: readonly SignalResult[];
  /** True when the run was stopped before the workload finished (Ctrl-C, or its time limit). */
  readonly stopped: boolean;
}

/** How a shell names the signals a workload process can die of (strsignal()). */
export const SIGNAL_NAMES: Readonly<Record<number, string>> = { [SIGSEGV]: 'Segmentation fault', [SIGBUS]: 'Bus error', [SIGKILL]: 'Killed' };

/** The errno a failed syscall returned, by name (strerrorname_np()). */
export function errnoName(e: number): string {
  return ({ [ENOMEM]: 'ENOMEM', [EINVAL]: 'EINVAL', [EFAULT]: 'EFAULT' } as Record<number, string>)[e] ?? `errno ${e}`;
}

function stateName(s: TaskState): string {
  return ['runnable', 'running', 'blocked', 'spinning', 'done'][s];
}

/**
 * The error for a run whose tasks will never run again: the tasks waiting for an event nobody
 * will send come first (the roots); the others wait behind them or behind each other (for a lock
 * a task holds, or to join it), each line saying whom it waits for when the wait names a task.
 */
export function stuckError(workload: string, stuck: readonly Task[]): SimulationError {
  const roots = stuck.filter((t) => !waitsBehind(t.wait));
  const rest = stuck.filter((t) => waitsBehind(t.wait));
  const line = (t: Task): string => {
    const on = waitsFor(t.wait);
    const held = on !== null && t.wait?.kind === 'lock' ? `, held by ${on.comm}/${on.tid}` : '';
    return `  ${t.comm}/${t.tid} (${stateName(t.state)}) waiting on ${t.waitingOn || 'nothing'}${held}`;
  };
  const head = roots.length > 0
    ? `task ${roots.map((t) => `${t.comm}/${t.tid}`).join(', ')} will never run again (waiting on ${roots[0].waitingOn})`
    : `${stuck.length} task(s) will never run again`;
  return new SimulationError(`workload '${workload}' cannot finish: ${head}\n${[...roots, ...rest].map(line).join('\n')}`);
}

/**
 * The hang as an invariant violation (--check, and always under `spfperf check`): no task waits
 * forever. It names the first task that waits for an event nobody will send and the kernel
 * function it waits in; the lines of stuckError() follow the one-line head.
 */
export function hangViolation(workload: string, stuck: readonly Task[]): ViolationError {
  const lines = stuckError(workload, stuck).message.split('\n');
  const root = stuck.find((t) => !waitsBehind(t.wait)) ?? stuck[0];
  const w = root.wait;
  const fn = w !== null && (w.kind === 'lock' || w.kind === 'rcu' || (w.kind === 'queue' && w.fn !== undefined)) ? w.fn! : ((root.ctx as { kfn?: string } | null)?.kfn ?? '');
  const v: Violation = { invariant: 'no-task-waits-forever', task: `${root.comm}/${root.tid}`, fn, addr: null, timeNs: root.clock, detail: lines[0] };
  const e = new ViolationError(v);
  e.message = [formatViolation(v), ...lines.slice(1)].join('\n');
  return e;
}

/** A read of the counts: per event, of the whole run or of one thread (by index). */
export interface CountsView {
  /** Thread indexes so far (0 .. nthreads-1). */
  readonly nthreads: number;
  total(id: number): number;
  of(idx: number, id: number): number;
  /** A workload counter (`count NAME`) so far, summed over the processes (0 if never bumped). */
  counter?(name: string): number;
}

/** The per-task software counters collectResult() adds at the end of a run. */
const TASK_COUNTERS = new Set<number>([EV.TASK_CLOCK, EV.CPU_CLOCK, EV.CONTEXT_SWITCHES, EV.CPU_MIGRATIONS]);

/**
 * The counts while the run goes on (perf stat -I reads its counters while the workload runs):
 * the counting sink's, and task-clock, context-switches and cpu-migrations read from the tasks
 * themselves (collectResult() counts those only at the end). A task may run ahead of the
 * engine's clock by up to the lookahead, so its CPU time is taken at the read's time, and never
 * below what an earlier read returned (an interval is never negative; the last read, at the end
 * of the run, is the exact total).
 */
export class LiveCounts {
  private readonly lastClock: number[] = [];
  constructor(
    private readonly k: Kernel,
    private readonly counting: CountingSink,
    /** The workload's counters so far (the interpreter's). */
    private readonly counters?: () => ReadonlyMap<string, number>,
  ) {}

  /** The counts at engine time `now` (call with non-decreasing times). */
  at(now: number): CountsView {
    const clock: number[] = [];
    const cs: number[] = [];
    const mig: number[] = [];
    for (const th of this.k.threads) {
      if (th.kernel) continue;
      const ns = Math.max(this.lastClock[th.idx] ?? 0, th.t.cpuNsAt(now));
      this.lastClock[th.idx] = ns;
      clock[th.idx] = ns;
      cs[th.idx] = th.t.ctxSwitches;
      mig[th.idx] = th.t.migrations;
    }
    const perTask = (id: number): number[] | undefined => (id === EV.TASK_CLOCK || id === EV.CPU_CLOCK ? clock : id === EV.CONTEXT_SWITCHES ? cs : id === EV.CPU_MIGRATIONS ? mig : undefined);
    const sum = (a: readonly number[]): number => a.reduce((s, v) => s + (v ?? 0), 0);
    const c = this.counting;
    const cm = this.counters?.();
    return {
      counter: (name) => cm?.get(name) ?? 0,
      nthreads: this.k.threads.length,
      total: (id) => (TASK_COUNTERS.has(id) ? sum(perTask(id)!) : c.total(id)),
      of: (idx, id) => (TASK_COUNTERS.has(id) ? perTask(id)![idx] ?? 0 : c.of(idx, id)),
    };
  }
}

/** What collectResult() needs of a finished (or stopped) run. */
export interface FinishedRun {
  readonly eng: Engine;
  readonly k: Kernel;
  readonly workload: Workload;
  readonly params: ReadonlyMap<string, number>;
  readonly counting: CountingSink;
  /** The workload's `count` counters, summed over its processes. */
  readonly counters: ReadonlyMap<string, number>;
  /** The workload's phases, in text order. */
  readonly phases: readonly PhaseResult[];
  /** Report an error in the workload's source (a metric that names an unknown parameter). */
  fail(pos: Pos, msg: string): never;
  /** The invariant checks are on: a hang is a violation (hangViolation), not a plain error. */
  readonly checks?: boolean;
}

/**
 * The result of a run: per-thread times (and their perf software counters), the metrics computed
 * from the counters, the signals. Throws the stuck-task diagnosis if the run could not finish.
 */
export function collectResult(r: FinishedRun): RunResult {
  const { eng, k } = r;
  // Stopped: by Ctrl-C, or at the run's simulated-time limit (RunOptions.stopAtNs).
  const stopped = eng.wasStopped || eng.pastStopAt;
  const stuck = stopped ? [] : eng.stuckTasks();
  if (stuck.length > 0) throw r.checks === true ? hangViolation(r.workload.name, stuck) : stuckError(r.workload.name, stuck);
  let elapsed = 0;
  let user = 0;
  let sys = 0;
  const threads: ThreadResult[] = [];
  for (const th of k.threads) {
    if (th.kernel) continue;
    const t = th.t;
    elapsed = Math.max(elapsed, stopped && t.state !== TaskState.Done ? eng.now : t.endTime);
    user += t.userNs;
    sys += t.sysNs;
    k.em.count(EV.CONTEXT_SWITCHES, th, t.ctxSwitches);
    k.em.count(EV.CPU_MIGRATIONS, th, t.migrations);
    k.em.count(EV.TASK_CLOCK, th, t.userNs + t.sysNs);
    k.em.count(EV.CPU_CLOCK, th, t.userNs + t.sysNs);
    threads.push({ idx: th.idx, tid: th.tid, pid: th.pid, comm: th.comm, userNs: t.userNs, sysNs: t.sysNs });
  }
  const counters = r.counters;
  const mscope: ExprScope = {
    param: (name, pos) => {
      const v = r.params.get(name);
      if (v === undefined) r.fail(pos, `unknown parameter '$${name}'`);
      return v;
    },
    variable: (name) => (name === 'elapsed' ? elapsed / 1e9 : counters.get(name) ?? 0),
    pages: (_n, pos) => r.fail(pos, 'pages() has no meaning in a metric'),
  };
  const metrics = r.workload.metrics.map((m) => {
    let value: number;
    try {
      value = evalExpr(m.value, mscope);
    } catch (err) {
      if (err instanceof ExprEvalError) value = NaN;
      else throw err;
    }
    return { name: m.name, unit: m.unit, value };
  });
  const signals = k.processes
    .filter((p) => p.killedBy !== null)
    .map((p) => ({ pid: p.pid, comm: p.comm, signal: p.killedBy!.signal, detail: p.killedBy!.detail }));
  return { elapsedNs: elapsed, userNs: user, sysNs: sys, counts: r.counting, threads, metrics, counters, phases: r.phases, signals, stopped };
}
