/**
 * The runs behind `spfperf stat` (stat.ts): one run with its -I snapshots and progress line, the
 * N seeds of -r, and the sets of runs of --compare, one after another in this thread (--jobs 1,
 * or a single run) or all at once on the worker pool (src/pool/pool.ts), with the results in the
 * serial order either way.
 */
import { prepareRun, runOptionsOf, type PreparedRun } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES, type RunProgress, type RunResult } from '../sim/run.js';
import { mapPool, type StopFlag } from '../pool/pool.js';
import { resultOf, runSpecOf } from '../pool/run-job.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { writeAll, type CliIo } from '../io.js';
import { UsageError } from '../errors.js';
import type { CountsView } from '../sim/results.js';
import { EV, NUM_EVENTS } from '../events/catalog.js';
import { workloadCounters } from '../workload/check.js';
import type { StatOptions } from './stat.js';
import { IntervalSpool } from './stat-spool.js';

/** A counted quantity: a selected event, or a /proc/vmstat line. */
export interface Column {
  readonly id: number;
  /** The name printed (as the user gave it; `vmstat:<name>` for vmstat records in -I). */
  readonly name: string;
  readonly unit: string;
  /** Multiplier from the model's count to the printed value (task-clock: ns -> msec). */
  readonly scale: number;
  readonly clock: boolean;
  /** A hardware event perf knows but the model does not count: `<not supported>`. */
  readonly notSupported?: boolean;
  /** Its :u/:k modifier excludes the mode the model counts it in: it counts 0. */
  readonly excluded?: boolean;
}

export interface OneRun {
  readonly prep: PreparedRun;
  readonly result: RunResult;
  /** -I: the counts at each tick (the caller disposes of it once the intervals are printed). */
  readonly spool?: IntervalSpool;
}

export interface Plan {
  readonly cols: readonly Column[];
  readonly vmstatCols: readonly Column[];
  readonly intervalNs?: number;
  readonly perThread: boolean;
}

/**
 * One call of the command: its io, and whether Ctrl-C was pressed (it stops the simulation; the
 * counts so far are printed, as perf stat does).
 */
export interface Ctx {
  readonly io: CliIo;
  interrupted: boolean;
  /** Set with `interrupted`: tells the pool's workers. */
  readonly stop: StopFlag;
  /** --jobs: runs at once. */
  readonly jobs: number;
}

/**
 * The ids an interval snapshot holds: the columns, task-clock (every row's event-runtime), and
 * the workload's counters `counters`, as ids from counterId(0) up.
 */
export function intervalIds(plan: Plan, counters: readonly string[] = []): number[] {
  return [...new Set([EV.TASK_CLOCK, ...[...plan.cols, ...plan.vmstatCols].filter((c) => c.id >= 0).map((c) => c.id)]), ...counters.map((_, i) => counterId(i))];
}

/** The snapshot id of the workload's i-th counter: past every event id. */
export function counterId(i: number): number {
  return NUM_EVENTS + i;
}

/** `c` with the workload's counters (`counters`, read by `counter`) under their counterId()s. */
export function withCounters(c: Pick<CountsView, 'total' | 'of'>, counters: readonly string[], counter: (name: string) => number): Pick<CountsView, 'total' | 'of'> {
  return {
    total: (id) => (id >= NUM_EVENTS ? counter(counters[id - NUM_EVENTS] ?? '') : c.total(id)),
    of: (idx, id) => (id >= NUM_EVENTS ? 0 : c.of(idx, id)),
  };
}

/**
 * SPFPERF_SIM_LIMIT_NS: a cap on the simulated time of a run in this thread, for the fuzz tests
 * (a mutated script may ask for hours of work; docs/check.md#fuzzing). Not an option: a
 * user stops a run with Ctrl-C, or sets its own seconds= and iterations=.
 */
export function simLimitNs(env: CliIo['env']): number | undefined {
  const v = env.SPFPERF_SIM_LIMIT_NS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new UsageError(`SPFPERF_SIM_LIMIT_NS: '${v}' is not a positive number of nanoseconds`);
  return n;
}

async function runOnce(ctx: Ctx, prep: PreparedRun, plan: Plan): Promise<OneRun> {
  const stopAtNs = simLimitNs(ctx.io.env);
  const counters = workloadCounters(prep.workload);
  const spool = plan.intervalNs !== undefined ? new IntervalSpool(intervalIds(plan, counters), plan.perThread) : undefined;
  const interval = spool !== undefined ? { intervalNs: plan.intervalNs, onInterval: (t: number, c: CountsView) => spool.add(t, { nthreads: c.nthreads, ...withCounters(c, counters, (n) => c.counter?.(n) ?? 0) }) } : {};
  try {
    // A live progress line on a terminal (nothing on a pipe, a file or under CI); Ctrl-C is this
    // command's own (it stops the run and the counts so far are printed).
    const result = await withProgress(progressFor(prep, ctx.io, { onInterrupt: undefined }), (ctl) =>
      runWorkloadAsync({ ...runOptionsOf(prep), ...interval, stopAtNs }, { onProgress: (p) => ctl.onProgress(p), shouldStop: () => ctx.interrupted }),
    );
    if (stopAtNs !== undefined && result.stopped && !ctx.interrupted) await writeAll(ctx.io.stderr, `spfperf: run stopped at SPFPERF_SIM_LIMIT_NS=${stopAtNs} ns of simulated time\n`);
    return { prep, result, spool };
  } catch (e) {
    spool?.dispose();
    throw e;
  }
}

/** The lines stat prints on stderr for a run whose processes were killed by a signal (also sweep.ts). */
export function signalLines(run: OneRun): string {
  return run.result.signals
    .map((s) => `${run.prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`)
    .join('');
}

/** Run the workload N times (seeds seed..seed+N-1) under one set of --config values. */
async function runSeries(ctx: Ctx, workloadArg: string, paramArgs: readonly string[], o: StatOptions, nruns: number, plan: (p: PreparedRun) => Plan): Promise<{ runs: OneRun[]; plan: Plan }> {
  const first = prepareRun(workloadArg, paramArgs, o);
  const p0 = plan(first);
  const runs: OneRun[] = [];
  for (let i = 0; i < nruns && !(ctx.interrupted && i > 0); i++) {
    const prep = i === 0 ? first : prepareRun(workloadArg, paramArgs, { ...o, seed: String(first.seed + i) });
    const run = await runOnce(ctx, prep, p0);
    ctx.io.stderr.write(signalLines(run));
    runs.push(run);
  }
  return { runs, plan: p0 };
}

/**
 * runSeries() for each set of options (the command's, or one per --compare config), one set after
 * another in this thread with --jobs 1 or a single run, else every run of every set on the
 * worker pool at once. Either way the same runs, and the same lines on stderr in the same order.
 */
export async function runSets(ctx: Ctx, workloadArg: string, paramArgs: readonly string[], sets: readonly StatOptions[], nruns: number, plan: (p: PreparedRun) => Plan): Promise<{ sets: OneRun[][]; plan: Plan }> {
  if (ctx.jobs > 1 && sets.length * nruns > 1) return runPooled(ctx, workloadArg, paramArgs, sets, nruns, plan);
  const out: OneRun[][] = [];
  let p0: Plan | undefined;
  for (const o of sets) {
    const r = await runSeries(ctx, workloadArg, paramArgs, o, nruns, plan);
    out.push(r.runs);
    p0 ??= r.plan;
  }
  return { sets: out, plan: p0! };
}

async function runPooled(ctx: Ctx, workloadArg: string, paramArgs: readonly string[], sets: readonly StatOptions[], nruns: number, plan: (p: PreparedRun) => Plan): Promise<{ sets: OneRun[][]; plan: Plan }> {
  // Prepared in the serial loop's order: a run that cannot be prepared fails after the runs before it.
  const preps: { set: number; prep: PreparedRun }[] = [];
  let prepError: unknown;
  try {
    sets.forEach((o, set) => {
      const first = prepareRun(workloadArg, paramArgs, o);
      preps.push({ set, prep: first });
      for (let i = 1; i < nruns; i++) preps.push({ set, prep: prepareRun(workloadArg, paramArgs, { ...o, seed: String(first.seed + i) }) });
    });
  } catch (e) {
    if (preps.length === 0) throw e;
    prepError = e;
  }
  const p0 = plan(preps[0].prep);
  const specs = preps.map(({ set, prep }) => runSpecOf(workloadArg, paramArgs, { ...sets[set], seed: String(prep.seed) }));
  // One progress line for all the runs: simulated time and faults summed over them.
  const seen = new Map<number, RunProgress>();
  const seconds = preps[0].prep.params.get('seconds');
  const label = `${[workloadArg, ...paramArgs].join(' ')} (${preps.length} runs)`;
  const progress = progressFor(preps[0].prep, ctx.io, { onInterrupt: undefined, label, totalSimNs: seconds !== undefined && seconds > 0 ? seconds * preps.length : undefined });
  const outcome = await withProgress(progress, (ctl) => {
    const onProgress = (i: number, p: unknown): void => {
      seen.set(i, p as RunProgress);
      let simNs = 0;
      let faults = 0;
      for (const q of seen.values()) {
        simNs += q.simNs;
        faults += q.faults;
      }
      ctl.onProgress({ simNs, faults });
    };
    // Workers send progress only when there is a display to show it.
    return mapPool('run', specs, { jobs: ctx.jobs, stop: ctx.stop, ...(progress.enabled ? { onProgress } : {}) });
  });
  const out: OneRun[][] = sets.map(() => []);
  outcome.results.forEach((w, i) => {
    const run: OneRun = { prep: preps[i].prep, result: resultOf(w) };
    ctx.io.stderr.write(signalLines(run));
    out[preps[i].set].push(run);
  });
  if (outcome.error !== undefined) throw outcome.error;
  if (prepError !== undefined && !ctx.interrupted) throw prepError;
  // Stopped (Ctrl-C) before a set's first run started: the serial loop still runs it (and stops
  // it at once), so do the same here.
  for (let set = 0; set < sets.length; set++) {
    if (out[set].length === 0) out[set] = (await runSeries(ctx, workloadArg, paramArgs, sets[set], nruns, plan)).runs;
  }
  return { sets: out, plan: p0 };
}
