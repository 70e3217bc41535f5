/**
 * spfperf stat: run a workload on the model and print counters the way perf stat does.
 *
 *   $ spfperf stat -e faults,minor-faults,major-faults page_fault1 threads=1 iterations=4
 *
 *    Performance counter stats for 'page_fault1 threads=1 iterations=4':
 *
 *               131072      faults
 *               131072      minor-faults
 *                    0      major-faults
 *           5185393.68      workload:ops/s
 *   ...
 *
 * Output formats (picked once): the human layout, -x SEP (CSV), -j (JSON lines); each with -I
 * (intervals of simulated time), -r N (means and noise over N seeds) and --per-thread.
 * --compare runs the workload under several kernel configs and prints the diff table instead.
 */
import { writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { EV, EVENTS, eventById, parseEventList, type SelectedEvent } from '../events/catalog.js';
import { formatStatHuman } from '../format/stat-human.js';
import { formatStatCsv } from '../format/stat-csv.js';
import { formatStatJson } from '../format/stat-json.js';
import { vmstatEvent, workloadEvent, type StatBlock, type StatFormatter, type StatMetric, type StatReport, type StatRow, type StatThread } from '../format/stat-common.js';
import { formatDiff, type DiffColumn } from '../format/diff.js';
import { prepareRun, runOptionsOf, type CommonRunOptions, type PreparedRun } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES, type RunResult } from '../sim/run.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { onInterrupt, writeAll, type CliIo } from '../io.js';
import type { CountingSink, EventSource, TraceSink } from '../trace/sink.js';
import { UsageError } from '../errors.js';
import { configHasVmstat } from '../format/vmstat.js';
import { stats } from '../stats/aggregate.js';
import { runValues, savedRun, type RunValues, type SavedRun } from '../stats/save.js';
import { configLabel } from '../config/kconfig.js';
import { useHostCosts } from '../calibrate/hostcost.js';

export interface StatOptions extends CommonRunOptions {
  readonly event?: readonly string[];
  readonly output?: string;
  readonly vmstat?: boolean;
  readonly fieldSeparator?: string;
  readonly json?: boolean;
  readonly repeat?: string;
  readonly intervalPrint?: string;
  readonly perThread?: boolean;
  readonly save?: string;
  readonly compare?: string;
}

/** perf stat's default software events. */
export const DEFAULT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'minor-faults', 'major-faults'];

/** Most runs -r accepts. */
const MAX_RUNS = 1000;
/** Smallest -I interval, in ms of simulated time (1 us). */
const MIN_INTERVAL_MS = 0.001;

/** A counted quantity: a selected event, or a /proc/vmstat line. */
interface Column {
  readonly id: number;
  /** The name printed (as the user gave it; `vmstat:<name>` for vmstat records in -I). */
  readonly name: string;
  readonly unit: string;
  /** Multiplier from the model's count to the printed value (task-clock: ns -> msec). */
  readonly scale: number;
  readonly clock: boolean;
}

function columnOf(ev: SelectedEvent): Column {
  const d = eventById(ev.id);
  const clock = ev.id === EV.TASK_CLOCK;
  return { id: ev.id, name: ev.name, unit: d.unit, scale: clock ? 1e-6 : 1, clock };
}

/** task-clock's shadow metric: "%8.3f CPUs utilized". */
function cpusUtilized(taskClockNs: number, wallNs: number): StatMetric {
  return { value: wallNs > 0 ? taskClockNs / wallNs : 0, unit: 'CPUs utilized', width: 8, precision: 3 };
}

/** One observation of a row, before the mean over the runs. */
interface Obs {
  readonly key: string;
  readonly thread?: StatThread;
  readonly col?: Column;
  readonly event: string;
  readonly unit: string;
  readonly fractional: boolean;
  /** In the model's units (ns for task-clock). */
  readonly value: number;
  readonly runtimeNs: number;
  readonly counted: boolean;
}

/** Rows of one run or interval: the selected events, whole or per thread. */
function counterObs(cols: readonly Column[], value: (c: Column, idx?: number) => number, threads: readonly { idx: number; thread: StatThread; runtimeNs: number }[] | null, runtimeNs: number): Obs[] {
  const out: Obs[] = [];
  for (const c of cols) {
    const base = { col: c, event: c.name, unit: c.unit, fractional: c.scale !== 1 };
    if (threads === null) {
      out.push({ ...base, key: c.name, value: value(c), runtimeNs, counted: true });
      continue;
    }
    for (const t of threads) {
      out.push({ ...base, key: `${t.idx}:${c.name}`, thread: t.thread, value: value(c, t.idx), runtimeNs: t.runtimeNs, counted: t.runtimeNs > 0 });
    }
  }
  return out;
}

function metricObs(r: RunResult, runtimeNs: number): Obs[] {
  return r.metrics.map((m) => ({ key: `workload:${m.name}`, event: workloadEvent(m.name), unit: m.unit, fractional: true, value: m.value, runtimeNs, counted: true }));
}

/**
 * The mean over the runs of each row (perf's avg_stats / rel_stddev_stats), in the order of the
 * first run; per-thread rows are sorted by value, largest first, within each event, as perf 6.1
 * sorts them, with `<not counted>` threads last.
 */
function meanRows(runs: readonly Obs[][], nruns: number, wallNs: number): StatRow[] {
  const order: Obs[] = [];
  const byKey = new Map<string, Obs[]>();
  for (const run of runs) {
    for (const o of run) {
      let l = byKey.get(o.key);
      if (l === undefined) {
        byKey.set(o.key, (l = []));
        order.push(o);
      }
      l.push(o);
    }
  }
  const rows: (StatRow & { readonly group: string; readonly sortValue: number })[] = order.map((first) => {
    const obs = byKey.get(first.key)!;
    const v = stats(obs.map((o) => o.value));
    const rt = stats(obs.map((o) => o.runtimeNs)).mean;
    const counted = obs.some((o) => o.counted);
    const scale = first.col?.scale ?? 1;
    const row: StatRow = {
      thread: first.thread,
      value: counted ? v.mean * scale : null,
      unit: first.unit,
      event: first.event,
      fractional: first.fractional,
      runtimeNs: rt,
      noisePct: nruns > 1 ? v.relPct : undefined,
      metric: first.col?.clock && counted ? cpusUtilized(v.mean, wallNs) : undefined,
    };
    return { ...row, group: first.event, sortValue: counted ? v.mean : -1 };
  });
  // Stable sort of each event's thread rows; rows without a thread stay where they are.
  const out: StatRow[] = [];
  for (let i = 0; i < rows.length; ) {
    if (rows[i].thread === undefined) {
      out.push(strip(rows[i++]));
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j].thread !== undefined && rows[j].group === rows[i].group) j++;
    out.push(...rows.slice(i, j).sort((a, b) => b.sortValue - a.sortValue).map(strip));
    i = j;
  }
  return out;
}

function strip(r: StatRow & { group?: string; sortValue?: number }): StatRow {
  const { group: _g, sortValue: _s, ...row } = r;
  return row;
}

/** Counts of every id at one moment (per thread index when `nthreads` is given). */
interface Snapshot {
  readonly timeNs: number;
  readonly nthreads: number;
  readonly get: (id: number, idx?: number) => number;
}

function snapshot(counts: CountingSink, ids: readonly number[], timeNs: number, nthreads: number, perThread: boolean): Snapshot {
  const total = new Map<number, number>();
  for (const id of ids) total.set(id, counts.total(id));
  const per = new Map<string, number>();
  if (perThread) for (let i = 0; i < nthreads; i++) for (const id of ids) per.set(`${i}:${id}`, counts.of(i, id));
  return { timeNs, nthreads, get: (id, idx) => (idx === undefined ? total.get(id) ?? 0 : per.get(`${idx}:${id}`) ?? 0) };
}

/** The highest thread index that has counted anything yet (for per-thread interval rows). */
class ThreadsSeen implements TraceSink {
  max = -1;
  count(_id: number, src: EventSource): void {
    if (src.idx > this.max) this.max = src.idx;
  }
}

interface OneRun {
  readonly prep: PreparedRun;
  readonly result: RunResult;
  readonly snapshots: readonly Snapshot[];
}

interface Plan {
  readonly cols: readonly Column[];
  readonly vmstatCols: readonly Column[];
  readonly intervalNs?: number;
  readonly perThread: boolean;
}

function vmstatColumns(prep: PreparedRun): Column[] {
  return EVENTS.filter((e) => configHasVmstat(prep.config, e)).map((e) => ({ id: e.id, name: e.name, unit: '', scale: 1, clock: false }));
}

function threadsOf(r: RunResult, upTo = Infinity): { idx: number; thread: StatThread; runtimeNs: number }[] {
  return r.threads.filter((t) => t.idx < upTo).map((t) => ({ idx: t.idx, thread: { comm: t.comm, tid: t.tid }, runtimeNs: t.userNs + t.sysNs }));
}

/**
 * One call of the command: its io, and whether Ctrl-C was pressed (it stops the simulation; the
 * counts so far are printed, as perf stat does).
 */
interface Ctx {
  readonly io: CliIo;
  interrupted: boolean;
}

async function runOnce(ctx: Ctx, prep: PreparedRun, plan: Plan): Promise<OneRun> {
  const snapshots: Snapshot[] = [];
  const ids = [...plan.cols, ...plan.vmstatCols].map((c) => c.id);
  const seen = new ThreadsSeen();
  const interval = plan.intervalNs !== undefined
    ? {
        intervalNs: plan.intervalNs,
        onInterval: (t: number, c: CountingSink) => {
          snapshots.push(snapshot(c, ids, t, seen.max + 1, plan.perThread));
        },
        sinks: plan.perThread ? [seen] : [],
      }
    : {};
  // A live progress line on a terminal (nothing on a pipe, a file or under CI); Ctrl-C is this
  // command's own (it stops the run and the counts so far are printed).
  const result = await withProgress(progressFor(prep, ctx.io, { onInterrupt: undefined }), (ctl) =>
    runWorkloadAsync({ ...runOptionsOf(prep), ...interval }, { onProgress: (p) => ctl.onProgress(p), shouldStop: () => ctx.interrupted }),
  );
  return { prep, result, snapshots };
}

/** The rows of a whole run (no -I). */
function wholeRunObs(run: OneRun, plan: Plan): Obs[] {
  const r = run.result;
  const taskClock = r.counts.total(EV.TASK_CLOCK);
  const threads = plan.perThread ? threadsOf(r) : null;
  const value = (c: Column, idx?: number): number => (idx === undefined ? r.counts.total(c.id) : r.counts.of(idx, c.id));
  return [...counterObs(plan.cols, value, threads, taskClock), ...metricObs(r, taskClock)];
}

function vmstatObs(run: OneRun, plan: Plan): Obs[] {
  const r = run.result;
  const taskClock = r.counts.total(EV.TASK_CLOCK);
  return plan.vmstatCols.map((c) => ({ key: `vmstat:${c.name}`, event: c.name, unit: '', fractional: false, value: r.counts.total(c.id), runtimeNs: taskClock, counted: true }));
}

/**
 * The intervals of one run: the differences between consecutive snapshots, then the last partial
 * interval up to the end of the run (perf prints it when the workload exits). The workload's
 * metric (a whole-run value) closes the last interval. Each interval's event-runtime is its length.
 */
function intervalBlocks(run: OneRun, plan: Plan): StatBlock[] {
  const r = run.result;
  const ids = [...plan.cols, ...plan.vmstatCols].map((c) => c.id);
  const all = r.threads.length === 0 ? 0 : Math.max(...r.threads.map((t) => t.idx)) + 1;
  // Ticks at or after the end of the workload (kernel threads such as khugepaged may outlive it)
  // are not intervals of the run: the last, partial, interval ends with the workload.
  const snaps = run.snapshots.filter((s) => s.timeNs < r.elapsedNs);
  snaps.push(snapshot(r.counts, ids, r.elapsedNs, all, plan.perThread));
  const blocks: StatBlock[] = [];
  let prev: Snapshot = { timeNs: 0, nthreads: all, get: () => 0 };
  snaps.forEach((s, i) => {
    const len = s.timeNs - prev.timeNs;
    const threads = plan.perThread ? threadsOf(r, s.nthreads).map((t) => ({ ...t, runtimeNs: len })) : null;
    const value = (c: Column, idx?: number): number => s.get(c.id, idx) - prev.get(c.id, idx);
    const obs = counterObs(plan.cols, value, threads, len);
    if (i === snaps.length - 1) obs.push(...metricObs(r, r.counts.total(EV.TASK_CLOCK)));
    for (const c of plan.vmstatCols) obs.push({ key: `vmstat:${c.name}`, event: vmstatEvent(c.name), unit: '', fractional: false, value: value(c), runtimeNs: len, counted: true });
    blocks.push({ timeNs: s.timeNs, rows: meanRows([obs], 1, len) });
    prev = s;
  });
  return blocks;
}

function parsePositive(name: string, v: string, whole: boolean): number {
  const re = whole ? /^\d+$/ : /^(\d+(\.\d*)?|\.\d+)$/;
  if (!re.test(v)) throw new UsageError(`option '${name}': '${v}' is not a ${whole ? 'whole ' : ''}number`);
  return Number(v);
}

function pickFormatter(o: StatOptions): StatFormatter {
  if (o.json) return formatStatJson;
  if (o.fieldSeparator !== undefined) return formatStatCsv(o.fieldSeparator);
  return formatStatHuman;
}

async function writeOutput(o: StatOptions, text: string, to: Writable): Promise<void> {
  if (o.output === undefined) {
    await writeAll(to, text);
    return;
  }
  try {
    writeFileSync(o.output, text);
  } catch (e) {
    throw new UsageError(`option '-o': cannot write '${o.output}': ${(e as Error).message}`);
  }
}

function signalLines(run: OneRun): string {
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

function saveDocument(runs: readonly OneRun[]): SavedRun {
  const values: RunValues[] = runs.map((r) => runValues(r.prep, r.prep.seed, r.result));
  return savedRun(runs[0].prep, values);
}

function writeSave(file: string, runs: readonly OneRun[]): void {
  try {
    writeFileSync(file, JSON.stringify(saveDocument(runs), null, 2) + '\n');
  } catch (e) {
    throw new UsageError(`option '--save': cannot write '${file}': ${(e as Error).message}`);
  }
}

/** --compare a,b,...: the same workload under each config, as a diff table (stdout, like perf diff). */
async function runCompare(ctx: Ctx, workloadArg: string, paramArgs: readonly string[], o: StatOptions, nruns: number): Promise<number> {
  const items = o.compare!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length < 2) throw new UsageError(`option '--compare': give at least two configs, comma-separated (e.g. base,dufour-v11)`);
  for (const [bad, what] of [[o.fieldSeparator !== undefined, '-x'], [o.json, '-j'], [o.intervalPrint !== undefined, '-I'], [o.perThread, '--per-thread'], [o.save !== undefined, '--save']] as const) {
    if (bad) throw new UsageError(`option '--compare' prints a diff table and cannot be combined with '${what}'`);
  }
  const cols: DiffColumn[] = [];
  for (const item of items) {
    const oc: StatOptions = { ...o, config: [...(o.config ?? []), item] };
    const { runs } = await runSeries(ctx, workloadArg, paramArgs, oc, nruns, () => ({ cols: [], vmstatCols: [], perThread: false }));
    const doc = saveDocument(runs);
    cols.push({ label: configLabel(runs[0].prep.config), altLabel: item, run: doc });
  }
  await writeOutput(o, formatDiff(cols), ctx.io.stdout);
  return 0;
}

export async function run(workloadArg: string, paramArgs: readonly string[], o: StatOptions, io: CliIo): Promise<number> {
  const nruns = o.repeat !== undefined ? parsePositive('-r', o.repeat, true) : 1;
  if (nruns < 1 || nruns > MAX_RUNS) throw new UsageError(`option '-r': ${nruns} is out of range (1..${MAX_RUNS})`);
  if (o.json && o.fieldSeparator !== undefined) throw new UsageError(`options '-x' and '-j' cannot be used together`);
  if (o.fieldSeparator === '') throw new UsageError(`option '-x': the separator is empty`);
  // --machine host: with the costs measured on it, when they are cached (calibrate measures them).
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  let intervalNs: number | undefined;
  if (o.intervalPrint !== undefined) {
    const ms = parsePositive('-I', o.intervalPrint, false);
    if (ms < MIN_INTERVAL_MS) throw new UsageError(`option '-I': the interval must be at least ${MIN_INTERVAL_MS} ms`);
    if (nruns > 1) throw new UsageError(`option '-I' cannot be combined with '-r'`);
    intervalNs = ms * 1e6;
  }

  const ctx: Ctx = { io, interrupted: false };
  const unsubscribe = onInterrupt(io, () => {
    ctx.interrupted = true;
  });
  try {
    if (o.compare !== undefined) return await runCompare(ctx, workloadArg, paramArgs, o, nruns);

    const events = parseEventList(o.event && o.event.length > 0 ? o.event : DEFAULT_EVENTS);
    const { runs, plan } = await runSeries(ctx, workloadArg, paramArgs, o, nruns, (p) => ({
      cols: events.map(columnOf),
      vmstatCols: o.vmstat ? vmstatColumns(p) : [],
      intervalNs,
      perThread: o.perThread === true,
    }));
    const n = runs.length;
    const elapsed = stats(runs.map((r) => r.result.elapsedNs));
    let blocks: StatBlock[];
    let vmstat: StatRow[] | undefined;
    if (intervalNs !== undefined) {
      blocks = runs.flatMap((r) => intervalBlocks(r, plan));
    } else {
      blocks = [{ rows: meanRows(runs.map((r) => wholeRunObs(r, plan)), n, elapsed.mean) }];
      vmstat = o.vmstat ? meanRows(runs.map((r) => vmstatObs(r, plan)), n, elapsed.mean) : undefined;
    }
    const report: StatReport = {
      command: [workloadArg, ...paramArgs].join(' '),
      runs: n,
      perThread: plan.perThread,
      interval: intervalNs !== undefined,
      blocks,
      vmstat,
      elapsedSec: elapsed.mean / 1e9,
      elapsedStddevSec: elapsed.stddev / 1e9,
      userSec: runs[0].result.userNs / 1e9,
      sysSec: runs[0].result.sysNs / 1e9,
    };
    await writeOutput(o, pickFormatter(o)(report), io.stderr);
    if (o.save !== undefined) writeSave(o.save, runs);
    return 0;
  } finally {
    unsubscribe();
  }
}
