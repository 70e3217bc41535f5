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
 * The runs of -r and --compare go to a pool of worker threads (--jobs N, default one per core;
 * src/pool/pool.ts); results are gathered in the serial order, so the output is the same.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { refuseRunClobbering } from './outputs.js';
import type { Writable } from 'node:stream';
import { EV, EVENTS, eventById, parseEventList, type SelectedEvent } from '../events/catalog.js';
import { formatStatHuman } from '../format/stat-human.js';
import { formatStatCsv } from '../format/stat-csv.js';
import { formatStatJson } from '../format/stat-json.js';
import { countEvent, phaseEvent, rateMetric, vmstatEvent, workloadEvent, type StatBlock, type StatFormatter, type StatMetric, type StatReport, type StatRow, type StatThread } from '../format/stat-common.js';
import { formatDiff, type DiffColumn } from '../format/diff.js';
import { parseIntOption, type CommonRunOptions, type PreparedRun } from '../sim/setup.js';
import type { RunResult } from '../sim/run.js';
import { defaultJobs, StopFlag } from '../pool/pool.js';
import { onInterrupt, writeAll, type CliIo } from '../io.js';
import { counterId, intervalIds, runSets, withCounters, type Column, type Ctx, type OneRun, type Plan } from './stat-runs.js';
import { snapshot, type Snapshot } from './stat-spool.js';
import { UsageError } from '../errors.js';
import { configHasVmstat } from '../format/vmstat.js';
import { stats } from '../stats/aggregate.js';
import { runValues, savedRun, type RunValues, type SavedRun } from '../stats/save.js';
import { configLabel } from '../config/kconfig.js';
import { workloadCounters } from '../workload/check.js';
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
  /** --jobs N: runs at once (not -j, which is --json as in perf stat). */
  readonly jobs?: string;
}

/** perf stat's default software events. */
export const DEFAULT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'minor-faults', 'major-faults'];

/** Runs per config of --compare without -r: one run's noise is not read as a change. */
export const COMPARE_DEFAULT_RUNS = 3;
/** Most runs -r accepts. */
const MAX_RUNS = 1000;
/** Most --jobs accepts (worker threads at once). */
const MAX_JOBS = 1024;
/** Smallest -I interval, in ms of simulated time (1 us). */
const MIN_INTERVAL_MS = 0.001;

function columnOf(ev: SelectedEvent): Column {
  if (!ev.supported) return { id: -1, name: ev.name, unit: '', scale: 1, clock: false, notSupported: true };
  const d = eventById(ev.id);
  const clock = ev.id === EV.TASK_CLOCK || ev.id === EV.CPU_CLOCK;
  return { id: ev.id, name: ev.name, unit: d.unit, scale: clock ? 1e-6 : 1, clock, excluded: !ev.counted };
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
  readonly notSupported?: boolean;
}

/** Rows of one run or interval: the selected events, whole or per thread. */
function counterObs(cols: readonly Column[], readValue: (c: Column, idx?: number) => number, threads: readonly { idx: number; thread: StatThread; runtimeNs: number }[] | null, runtimeNs: number): Obs[] {
  const out: Obs[] = [];
  for (const [i, c] of cols.entries()) {
    // Keys per column: two columns may print the same name (a tracepoint with :u and with :k).
    const base = { col: c, event: c.name, unit: c.unit, fractional: c.scale !== 1 };
    if (c.notSupported) {
      // perf's `<not supported>`: no count, no running time, no metric.
      for (const t of threads ?? [undefined]) out.push({ ...base, key: t === undefined ? `${i}:${c.name}` : `${i}:${t.idx}:${c.name}`, thread: t?.thread, value: 0, runtimeNs: 0, counted: false, notSupported: true });
      continue;
    }
    const value = c.excluded ? (): number => 0 : readValue;
    if (threads === null) {
      out.push({ ...base, key: `${i}:${c.name}`, value: value(c), runtimeNs, counted: true });
      continue;
    }
    for (const t of threads) {
      out.push({ ...base, key: `${i}:${t.idx}:${c.name}`, thread: t.thread, value: value(c, t.idx), runtimeNs: t.runtimeNs, counted: t.runtimeNs > 0 });
    }
  }
  return out;
}

function metricObs(r: RunResult, runtimeNs: number): Obs[] {
  return r.metrics.map((m) => ({ key: `workload:${m.name}`, event: workloadEvent(m.name), unit: m.unit, fractional: true, value: m.value, runtimeNs, counted: true }));
}

/**
 * The workload's counters, after its metrics: each counter the script names, in text order, 0
 * if the run never bumped it (so every run and interval has the same rows); two decimals only for
 * a value that is not whole (`count busy now - t0`).
 */
function countObs(run: OneRun, runtimeNs: number, valueOf: (name: string, i: number) => number = (name) => run.result.counters.get(name) ?? 0): Obs[] {
  return workloadCounters(run.prep.workload).map((name, i) => {
    const value = valueOf(name, i);
    return { key: `count:${name}`, event: countEvent(name), unit: '', fractional: !Number.isInteger(value), value, runtimeNs, counted: true };
  });
}

/**
 * The workload's phases, after its counters: for each, in text order, its time (`duration_time`,
 * ns from the first task's entry to the last one's exit), the selected events counted by its
 * tasks meanwhile, and the workload counters bumped in it, each row named phase:NAME:EVENT. No
 * rate metric: a phase's rows are not per second of the run's clock.
 */
function phaseObs(run: OneRun, plan: Plan, runtimeNs: number): Obs[] {
  const out: Obs[] = [];
  const counters = workloadCounters(run.prep.workload);
  for (const ph of run.result.phases) {
    const p = phaseEvent(ph.name, '');
    out.push({ key: `${p}duration_time`, event: `${p}duration_time`, unit: 'ns', fractional: false, value: ph.endNs - ph.startNs, runtimeNs, counted: true });
    for (const [i, c] of plan.cols.entries()) {
      if (c.notSupported === true) continue;
      const v = c.excluded === true ? 0 : ph.counts[c.id] * c.scale;
      out.push({ key: `${p}${i}:${c.name}`, event: phaseEvent(ph.name, c.name), unit: c.unit, fractional: c.scale !== 1, value: v, runtimeNs, counted: true });
    }
    for (const name of counters) {
      const v = ph.counters.get(name) ?? 0;
      out.push({ key: `${p}count:${name}`, event: phaseEvent(ph.name, countEvent(name)), unit: '', fractional: !Number.isInteger(v), value: v, runtimeNs, counted: true });
    }
  }
  return out;
}

/**
 * The mean over the runs of each row (perf's avg_stats / rel_stddev_stats), in the order of the
 * first run; per-thread rows are sorted by value, largest first, within each event, as perf 6.1
 * sorts them, with `<not counted>` threads last.
 */
function meanRows(runs: readonly Obs[][], nruns: number, wallNs: number, sortThreads = true): StatRow[] {
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
  // The mean task-clock (ns) of each thread (-1: the whole run), the divisor of the rates.
  const clockOf = new Map<number, number>();
  for (const first of order) {
    const obs = byKey.get(first.key)!;
    if (first.col?.clock && obs.some((o) => o.counted)) clockOf.set(first.thread?.tid ?? -1, stats(obs.map((o) => o.value)).mean);
  }
  const rows: (StatRow & { readonly group: string; readonly sortValue: number })[] = order.map((first) => {
    const obs = byKey.get(first.key)!;
    const v = stats(obs.map((o) => o.value));
    const clockNs = clockOf.get(first.thread?.tid ?? -1);
    const rt = stats(obs.map((o) => o.runtimeNs)).mean;
    const counted = obs.some((o) => o.counted);
    const scale = first.col?.scale ?? 1;
    const row: StatRow = {
      thread: first.thread,
      value: counted ? v.mean * scale : null,
      notSupported: first.notSupported,
      unit: first.unit,
      event: first.event,
      fractional: first.fractional,
      runtimeNs: rt,
      noisePct: nruns > 1 ? v.relPct : undefined,
      metric: first.col === undefined || !counted ? undefined : first.col.clock ? cpusUtilized(v.mean, wallNs) : clockNs !== undefined ? rateMetric(v.mean, clockNs) : undefined,
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
    const group = rows.slice(i, j);
    for (const row of sortThreads ? group.sort((a, b) => b.sortValue - a.sortValue) : group) out.push(strip(row));
    i = j;
  }
  return out;
}

function strip(r: StatRow & { group?: string; sortValue?: number }): StatRow {
  const { group: _g, sortValue: _s, ...row } = r;
  return row;
}


function vmstatColumns(prep: PreparedRun): Column[] {
  return EVENTS.filter((e) => configHasVmstat(prep.config, e)).map((e) => ({ id: e.id, name: e.name, unit: '', scale: 1, clock: false }));
}

function threadsOf(r: RunResult, upTo = Infinity): { idx: number; thread: StatThread; runtimeNs: number }[] {
  return r.threads.filter((t) => t.idx < upTo).map((t) => ({ idx: t.idx, thread: { comm: t.comm, tid: t.tid }, runtimeNs: t.userNs + t.sysNs }));
}

/** The rows of a whole run (no -I). */
function wholeRunObs(run: OneRun, plan: Plan): Obs[] {
  const r = run.result;
  const taskClock = r.counts.total(EV.TASK_CLOCK);
  const threads = plan.perThread ? threadsOf(r) : null;
  const value = (c: Column, idx?: number): number => (idx === undefined ? r.counts.total(c.id) : r.counts.of(idx, c.id));
  return [...counterObs(plan.cols, value, threads, taskClock), ...metricObs(r, taskClock), ...countObs(run, taskClock), ...phaseObs(run, plan, taskClock)];
}

function vmstatObs(run: OneRun, plan: Plan): Obs[] {
  const r = run.result;
  const taskClock = r.counts.total(EV.TASK_CLOCK);
  return plan.vmstatCols.map((c) => ({ key: `vmstat:${c.name}`, event: c.name, unit: '', fractional: false, value: r.counts.total(c.id), runtimeNs: taskClock, counted: true }));
}

/**
 * The intervals of one run: the differences between consecutive snapshots, then the last partial
 * interval up to the end of the run (perf prints it when the workload exits). Every interval
 * carries the same rows in the same order, each with a number (what readers of perf's interval
 * CSV rely on, pmu-tools' interval-normalize.py among them): the events, with --per-thread every
 * thread of the run in thread order (0 for a thread not started yet or gone); without
 * --per-thread the workload's metric, a whole-run value, the same in every interval, and its
 * counters, what each interval added (with --per-thread they belong to no thread and are left
 * out, as csv_formats.py could not read them); then the vmstat rows. A row's event-runtime is the counter's running time in the interval:
 * the interval's task-clock (the thread's own with --per-thread).
 */
function* intervalBlocks(run: OneRun, plan: Plan): Generator<StatBlock> {
  const r = run.result;
  const counters = workloadCounters(run.prep.workload);
  const ids = intervalIds(plan, counters);
  const all = r.threads.reduce((m, t) => Math.max(m, t.idx + 1), 0);
  const runClock = r.counts.total(EV.TASK_CLOCK);
  const threads = plan.perThread ? threadsOf(r) : null;
  let prev: Snapshot = { timeNs: 0, nthreads: all, get: () => 0 };
  const block = (s: Snapshot): StatBlock => {
    const len = s.timeNs - prev.timeNs;
    const value = (c: Column, idx?: number): number => s.get(c.id, idx) - prev.get(c.id, idx);
    const clock = (idx?: number): number => s.get(EV.TASK_CLOCK, idx) - prev.get(EV.TASK_CLOCK, idx);
    const obs = counterObs(plan.cols, value, threads?.map((t) => ({ ...t, runtimeNs: clock(t.idx) })) ?? null, clock()).map((o) => ({ ...o, counted: !o.notSupported }));
    // The workload's counters: what the interval added (the metric stays a whole-run value).
    if (!plan.perThread) obs.push(...metricObs(r, runClock), ...countObs(run, clock(), (_n, i) => s.get(counterId(i)) - prev.get(counterId(i))));
    for (const c of plan.vmstatCols) obs.push({ key: `vmstat:${c.name}`, event: vmstatEvent(c.name), unit: '', fractional: false, value: value(c), runtimeNs: clock(), counted: true });
    prev = s;
    return { timeNs: s.timeNs, rows: meanRows([obs], 1, len, false) };
  };
  // Ticks at or after the end of the workload (kernel threads such as khugepaged may outlive it)
  // are not intervals of the run: the last, partial, interval ends with the workload.
  for (const s of run.spool?.snapshots() ?? []) {
    if (s.timeNs >= r.elapsedNs) break;
    yield block(s);
  }
  yield block(snapshot(withCounters(r.counts, counters, (n) => r.counters.get(n) ?? 0), ids, r.elapsedNs, all, plan.perThread));
}

/**
 * -I: print the intervals one at a time (read back from the run's spool), in chunks of about
 * 1 MB, so the output is never held whole.
 */
async function writeIntervals(o: StatOptions, run: OneRun, plan: Plan, report: Omit<StatReport, 'blocks'>, to: Writable): Promise<void> {
  const format = pickFormatter(o);
  let fd: number | undefined;
  const fail = (e: unknown): never => {
    throw new UsageError(`option '-o': cannot write '${o.output}': ${(e as Error).message}`);
  };
  try {
    if (o.output !== undefined) fd = openSync(o.output, 'w');
  } catch (e) {
    fail(e);
  }
  const flush = async (text: string): Promise<void> => {
    if (fd === undefined) return writeAll(to, text);
    try {
      writeSync(fd, text);
    } catch (e) {
      fail(e);
    }
  };
  try {
    let i = 0;
    let chunk = '';
    for (const b of intervalBlocks(run, plan)) {
      chunk += format({ ...report, blocks: [b], firstBlock: i++ });
      if (chunk.length >= 1 << 20) {
        await flush(chunk);
        chunk = '';
      }
    }
    await flush(chunk);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
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

/** The --save document of a run's seeds (also each point of `spfperf sweep`, sweep.ts). */
export function saveDocument(runs: readonly OneRun[]): SavedRun {
  const values: RunValues[] = runs.map((r) => runValues(r.prep, r.prep.seed, r.result));
  return savedRun(runs[0].prep, values);
}

/** A --save document as its file holds it. */
export function saveText(doc: SavedRun): string {
  return JSON.stringify(doc, null, 2) + '\n';
}

function writeSave(file: string, runs: readonly OneRun[]): void {
  try {
    writeFileSync(file, saveText(saveDocument(runs)));
  } catch (e) {
    throw new UsageError(`option '--save': cannot write '${file}': ${(e as Error).message}`);
  }
}

/**
 * --compare --save PREFIX: one document per config, `PREFIX.<config>.json` (the config as given,
 * with any character but letters, digits and ._=- made '_').
 */
function compareSaveFiles(prefix: string, items: readonly string[]): string[] {
  const files = items.map((it) => `${prefix}.${it.replace(/[^A-Za-z0-9._=-]/g, '_')}.json`);
  const dup = files.find((f, i) => files.indexOf(f) !== i);
  if (dup !== undefined) throw new UsageError(`option '--save': two configs of --compare would both be saved to '${dup}'`);
  return files;
}

/** --compare a,b,...: the same workload under each config, as a diff table (stdout, like perf diff). */
async function runCompare(ctx: Ctx, workloadArg: string, paramArgs: readonly string[], o: StatOptions, nruns: number): Promise<number> {
  const items = o.compare!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length < 2) throw new UsageError(`option '--compare': give at least two configs, comma-separated (e.g. base,dufour-v11)`);
  for (const [bad, what] of [[o.fieldSeparator !== undefined, '-x'], [o.json, '-j'], [o.intervalPrint !== undefined, '-I'], [o.perThread, '--per-thread']] as const) {
    if (bad) throw new UsageError(`option '--compare' prints a diff table and cannot be combined with '${what}'`);
  }
  const sets = items.map((item): StatOptions => ({ ...o, config: [...(o.config ?? []), item] }));
  const { sets: runs } = await runSets(ctx, workloadArg, paramArgs, sets, nruns, () => ({ cols: [], vmstatCols: [], perThread: false }));
  const files = o.save !== undefined ? compareSaveFiles(o.save, items) : [];
  const cols: DiffColumn[] = runs.map((r, i) => ({ label: configLabel(r[0].prep.config), altLabel: items[i], run: saveDocument(r) }));
  await writeOutput(o, formatDiff(cols), ctx.io.stdout);
  files.forEach((f, i) => writeSave(f, runs[i]));
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

  refuseRunClobbering(workloadArg, o.config, [
    { what: "option '-o'", path: o.output },
    { what: "option '--save'", path: o.save },
  ]);
  const jobs = o.jobs !== undefined ? parseIntOption('--jobs', o.jobs, 1, MAX_JOBS) : defaultJobs();
  const ctx: Ctx = { io, interrupted: false, stop: new StopFlag(), jobs };
  const unsubscribe = onInterrupt(io, () => {
    ctx.interrupted = true;
    ctx.stop.set();
  });
  try {
    if (o.compare !== undefined) return await runCompare(ctx, workloadArg, paramArgs, o, o.repeat !== undefined ? nruns : COMPARE_DEFAULT_RUNS);

    const events = parseEventList(o.event && o.event.length > 0 ? o.event : DEFAULT_EVENTS);
    const {
      sets: [runs],
      plan,
    } = await runSets(ctx, workloadArg, paramArgs, [o], nruns, (p) => ({
      cols: events.map(columnOf),
      vmstatCols: o.vmstat ? vmstatColumns(p) : [],
      intervalNs,
      perThread: o.perThread === true,
    }));
    const n = runs.length;
    const elapsed = stats(runs.map((r) => r.result.elapsedNs));
    const base = {
      command: [workloadArg, ...paramArgs].join(' '),
      runs: n,
      perThread: plan.perThread,
      interval: intervalNs !== undefined,
      elapsedSec: elapsed.mean / 1e9,
      elapsedStddevSec: elapsed.stddev / 1e9,
      userSec: runs[0].result.userNs / 1e9,
      sysSec: runs[0].result.sysNs / 1e9,
    };
    if (intervalNs !== undefined) {
      // -I (never with -r: one run): printed interval by interval.
      try {
        await writeIntervals(o, runs[0], plan, base, io.stderr);
      } finally {
        for (const r of runs) r.spool?.dispose();
      }
      if (o.save !== undefined) writeSave(o.save, runs);
      return 0;
    }
    const report: StatReport = {
      ...base,
      blocks: [{ rows: meanRows(runs.map((r) => wholeRunObs(r, plan)), n, elapsed.mean) }],
      vmstat: o.vmstat ? meanRows(runs.map((r) => vmstatObs(r, plan)), n, elapsed.mean) : undefined,
    };
    await writeOutput(o, pickFormatter(o)(report), io.stderr);
    if (o.save !== undefined) writeSave(o.save, runs);
    return 0;
  } finally {
    unsubscribe();
  }
}
