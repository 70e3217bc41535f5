/**
 * spfperf lock contention: run a workload on the model and print its lock waits as perf lock
 * contention prints them (to stderr, as perf 6.1 does), then the cache-line transfers behind them
 * (docs/lock.md):
 *
 *   $ spfperf lock contention --cpus 16 -- ebizzy threads=16
 *    contended   total wait     max wait     avg wait         type   caller
 *
 *         5514      1.17 s       1.21 ms    212.82 us      rwsem:R   do_user_addr_fault
 *          990    195.05 ms      1.19 ms    197.02 us      rwsem:W   __vm_munmap
 *   ...
 *    transfers   total wait     max wait     avg wait       queued   line
 *
 *       192072     21.96 ms       354 ns       114 ns      8.51 ms   mmap_lock
 *   ...
 *
 * Every wait is counted where the model's lock code waits (src/engine/lockstat.ts), with the
 * simulated time the waiter waited; the caller comes from the waiter's stack
 * (src/trace/lock-contention.ts). Counting changes nothing in the run.
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { formatLockContention, LOCK_DEFAULT_FIELDS, LOCK_DEFAULT_SORT, LOCK_SORT_KEYS, type LineRow, type LockAggr, type LockSortKey } from '../format/lock-contention.js';
import { parseIntOption, prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES } from '../sim/run.js';
import { ContentionTable, LockContentionSink, lockName, type ContentionResult } from '../trace/lock-contention.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { writeAll, type CliIo } from '../io.js';
import { useHostCosts } from '../calibrate/hostcost.js';
import { errnoText, openTraceInput, readTrace } from '../trace/ndjson-reader.js';
import { refuseRunClobbering } from './outputs.js';
import { simLimitNs } from './stat-runs.js';
import type { LineStat } from '../engine/lockstat.js';
import { designCallers, LOCK_EVENTS, runRecord } from './lock-record.js';

export interface LockContentionOptions extends CommonRunOptions {
  /** -E N: entries printed at most. */
  readonly entries?: string;
  /** -k/--key, and --sort (the same). */
  readonly key?: string;
  readonly sort?: string;
  /** -F: the keys printed, comma-separated. */
  readonly field?: string;
  /** -l: by lock. */
  readonly lockAddr?: boolean;
  /** -t: by task. */
  readonly threads?: boolean;
  /** --no-lines: leave out the cache-line table. */
  readonly lines?: boolean;
  /** --output FILE instead of stderr. */
  readonly output?: string;
  /** -i FILE: read a `lock record` trace instead of running a workload. */
  readonly input?: string;
}

/** The checked options: the aggregation, the sort key and the entries. */
export interface LockView {
  readonly aggr: LockAggr;
  readonly sort: LockSortKey;
  readonly entries: number;
  readonly fields: readonly LockSortKey[];
  readonly lines: boolean;
}

/** Check the options that do not need a run (perf's check_lock_contention_options()). */
export function lockView(o: LockContentionOptions): LockView {
  if (o.lockAddr === true && o.threads === true) throw new UsageError("options '-t' and '-l' cannot be used together (by task or by lock, not both)");
  if (o.key !== undefined && o.sort !== undefined && o.key !== o.sort) throw new UsageError(`options '--key ${o.key}' and '--sort ${o.sort}' contradict each other (they are the same option)`);
  const key = o.key ?? o.sort ?? LOCK_DEFAULT_SORT;
  if (!(LOCK_SORT_KEYS as readonly string[]).includes(key)) throw new UsageError(`option '--sort': unknown key '${key}' (known: ${LOCK_SORT_KEYS.join(', ')})`);
  const entries = o.entries !== undefined ? parseIntOption('-E', o.entries, 0, 2 ** 31 - 1) : Infinity;
  const fields = o.field === undefined ? LOCK_DEFAULT_FIELDS : o.field.split(',').map((f) => f.trim());
  for (const f of fields) if (!(LOCK_SORT_KEYS as readonly string[]).includes(f)) throw new UsageError(`option '-F': unknown field '${f}' (known: ${LOCK_SORT_KEYS.join(', ')})`);
  return { aggr: o.lockAddr === true ? 'addr' : o.threads === true ? 'task' : 'caller', sort: key as LockSortKey, entries, fields: [...new Set(fields as LockSortKey[])], lines: o.lines !== false };
}

/** The lines of one kernel name together (the model names some per process: mmap_lock(1000)). */
export function lineRows(lines: readonly LineStat[]): LineRow[] {
  const by = new Map<string, { name: string; transfers: number; waitNs: number; queuedNs: number; maxNs: number }>();
  for (const l of lines) {
    const name = lockName(l.name);
    const r = by.get(name);
    if (r === undefined) by.set(name, { name, transfers: l.transfers, waitNs: l.waitNs, queuedNs: l.queuedNs, maxNs: l.maxNs });
    else {
      r.transfers += l.transfers;
      r.waitNs += l.waitNs;
      r.queuedNs += l.queuedNs;
      r.maxNs = Math.max(r.maxNs, l.maxNs);
    }
  }
  return [...by.values()];
}

/** The report's text for a run's waits. */
export function lockReportText(res: ContentionResult, v: LockView): string {
  const rows = v.aggr === 'caller' ? res.byCaller : v.aggr === 'addr' ? res.byLock : res.byTask;
  return formatLockContention({ aggr: v.aggr, rows, sort: v.sort, entries: v.entries, fields: v.fields, lines: v.lines ? lineRows(res.lines) : null });
}

/** A lock:contention_begin of a trace, waiting for its end. */
interface OpenWait {
  readonly ts: number;
  readonly flags: number;
  readonly addr: string;
  readonly lock: string;
  readonly sym: string;
}

/**
 * A `lock record` trace's waits (perf lock contention -i): each lock:contention_begin paired with
 * the next lock:contention_end of its task on the same lock; the summary's cache lines.
 */
export async function readLockTrace(path: string, io: CliIo): Promise<ContentionResult> {
  const { stream, name } = await openTraceInput(path, io.stdin);
  const table = new ContentionTable();
  const open = new Map<number, OpenWait>();
  let lines: LineStat[] = [];
  let bad = 0;
  const st = await readTrace(
    stream,
    {
      header: (h) => {
        if (!(h.events ?? []).includes(LOCK_EVENTS[0])) throw new UsageError(`${name}: no lock events in this trace (${LOCK_EVENTS[0]}): record them with 'spfperf lock record'`);
      },
      sample: (s) => {
        const x = s as unknown as Record<string, unknown>;
        if (s.event === LOCK_EVENTS[0]) {
          if (typeof x.flags !== 'number' || typeof x.lock_addr !== 'string' || typeof x.lock !== 'string' || typeof x.sym !== 'string') return void bad++;
          open.set(s.tid, { ts: s.ts, flags: x.flags, addr: x.lock_addr, lock: x.lock, sym: x.sym });
        } else if (s.event === LOCK_EVENTS[1]) {
          const b = open.get(s.tid);
          if (b === undefined || b.addr !== x.lock_addr || s.ts < b.ts) return void bad++;
          open.delete(s.tid);
          table.add({ caller: b.sym, flags: b.flags, addr: b.addr, lock: b.lock, tid: s.tid, comm: s.comm }, s.ts - b.ts);
        }
      },
      summary: (s) => {
        const l = s.lines;
        if (Array.isArray(l)) lines = l.filter((e): e is LineStat => typeof e?.name === 'string' && [e.transfers, e.waitNs, e.queuedNs, e.maxNs].every((v) => typeof v === 'number'));
      },
    },
    { name, warn: (m) => io.stderr.write(m) },
  );
  if (bad > 0) io.stderr.write(`spfperf: ${name}: ${bad} lock sample(s) out of sequence or incomplete, left out\n`);
  if (st.summary === null) io.stderr.write(`spfperf: ${name}: no summary line: the trace is incomplete (the recording was cut short)\n`);
  return table.result(lines);
}

export async function run(sub: string, args: readonly string[], o: LockContentionOptions, io: CliIo): Promise<number> {
  if (sub === 'record') return runRecord(args, o, io);
  if (sub !== 'contention') throw new UsageError(`lock: unknown subcommand '${sub}' (known: record, contention)`);
  const view = lockView(o);
  if (o.input !== undefined) {
    if (args.length > 0) throw new UsageError(`option '-i' reads a recording: no workload to run with it (got '${args.join(' ')}')`);
    const res = await readLockTrace(o.input, io);
    const text = lockReportText(res, view);
    if (o.output !== undefined) writeText(o.output, text);
    else await writeAll(io.stderr, text);
    return 0;
  }
  const [workloadArg, ...paramArgs] = args;
  if (workloadArg === undefined) throw new UsageError('lock contention: no workload given (spfperf lock contention [options] -- <workload> [params], or -i FILE)');
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  const prep = prepareRun(workloadArg, paramArgs, o);
  refuseRunClobbering(workloadArg, o.config, [{ what: "option '--output'", path: o.output }]);
  const stopAtNs = simLimitNs(io.env);
  const sink = new LockContentionSink({ lines: view.lines, callers: designCallers() });
  const r = await withProgress(progressFor(prep, io), (ctl) => runWorkloadAsync({ ...runOptionsOf(prep), contention: sink, stopAtNs }, { onProgress: ctl.onProgress, shouldStop: ctl.shouldStop }));
  const signals = r.signals.map((s) => `${prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`).join('');
  const at = `${(r.elapsedNs / 1e9).toFixed(6)} s of simulated time; the waits up to there follow`;
  const stopped = !r.stopped ? '' : stopAtNs !== undefined && r.elapsedNs >= stopAtNs ? `spfperf: run stopped at SPFPERF_SIM_LIMIT_NS=${stopAtNs} ns of simulated time\n` : `spfperf: lock contention stopped (Ctrl-C) at ${at}\n`;
  const text = lockReportText(sink.result(), view);
  if (o.output !== undefined) {
    writeText(o.output, text);
    await writeAll(io.stderr, signals + stopped);
  } else {
    await writeAll(io.stderr, signals + stopped + text);
  }
  return 0;
}

function writeText(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`cannot write '${path}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
}
