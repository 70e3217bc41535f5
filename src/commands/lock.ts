/**
 * spfperf lock contention: run a workload on the model and print its lock waits as perf lock
 * contention prints them (to stderr, as perf 6.1 does), then the cache-line transfers behind them
 * (docs/lock.md):
 *
 *   $ spfperf lock contention --cpus 16 -- ebizzy threads=16
 *    contended   total wait     max wait     avg wait         type   caller
 *
 *         5514       1.17 s     11.07 ms    212.82 us      rwsem:R   do_user_addr_fault
 *          990    195.05 ms      3.20 ms    197.02 us      rwsem:W   __vm_munmap
 *   ...
 *    transfers   total wait     max wait     avg wait       queued   line
 *
 *       192072     21.96 ms      1.41 us       114 ns      8.51 ms   mmap_lock
 *   ...
 *
 * Every wait is counted where the model's lock code waits (src/engine/lockstat.ts), with the
 * simulated time the waiter waited; the caller comes from the waiter's stack
 * (src/trace/lock-contention.ts). Counting changes nothing in the run.
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { formatLockContention, LOCK_DEFAULT_SORT, LOCK_SORT_KEYS, type LineRow, type LockAggr, type LockSortKey } from '../format/lock-contention.js';
import { parseIntOption, prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES } from '../sim/run.js';
import { LockContentionSink, lockName, type ContentionResult } from '../trace/lock-contention.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { writeAll, type CliIo } from '../io.js';
import { useHostCosts } from '../calibrate/hostcost.js';
import { errnoText } from '../trace/ndjson-reader.js';
import { refuseRunClobbering } from './outputs.js';
import { simLimitNs } from './stat-runs.js';
import type { LineStat } from '../engine/lockstat.js';
import { DESIGNS } from '../mm/spf/index.js';

export interface LockContentionOptions extends CommonRunOptions {
  /** -E N: entries printed at most. */
  readonly entries?: string;
  /** -k/--key, and --sort (the same). */
  readonly key?: string;
  readonly sort?: string;
  /** -l: by lock. */
  readonly lockAddr?: boolean;
  /** -t: by task. */
  readonly threads?: boolean;
  /** --no-lines: leave out the cache-line table. */
  readonly lines?: boolean;
  /** --output FILE instead of stderr. */
  readonly output?: string;
}

/** The checked options: the aggregation, the sort key and the entries. */
export interface LockView {
  readonly aggr: LockAggr;
  readonly sort: LockSortKey;
  readonly entries: number;
  readonly lines: boolean;
}

/** Check the options that do not need a run (perf's check_lock_contention_options()). */
export function lockView(o: LockContentionOptions): LockView {
  if (o.lockAddr === true && o.threads === true) throw new UsageError("options '-t' and '-l' cannot be used together (by task or by lock, not both)");
  if (o.key !== undefined && o.sort !== undefined && o.key !== o.sort) throw new UsageError(`options '--key ${o.key}' and '--sort ${o.sort}' contradict each other (they are the same option)`);
  const key = o.key ?? o.sort ?? LOCK_DEFAULT_SORT;
  if (!(LOCK_SORT_KEYS as readonly string[]).includes(key)) throw new UsageError(`option '--sort': unknown key '${key}' (known: ${LOCK_SORT_KEYS.join(', ')})`);
  const entries = o.entries !== undefined ? parseIntOption('-E', o.entries, 0, 2 ** 31 - 1) : Infinity;
  return { aggr: o.lockAddr === true ? 'addr' : o.threads === true ? 'task' : 'caller', sort: key as LockSortKey, entries, lines: o.lines !== false };
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
  return formatLockContention({ aggr: v.aggr, rows, sort: v.sort, entries: v.entries, lines: v.lines ? lineRows(res.lines) : null });
}

export async function run(sub: string, args: readonly string[], o: LockContentionOptions, io: CliIo): Promise<number> {
  if (sub !== 'contention') throw new UsageError(`lock: unknown subcommand '${sub}' (known: contention)`);
  const view = lockView(o);
  const [workloadArg, ...paramArgs] = args;
  if (workloadArg === undefined) throw new UsageError('lock contention: no workload given (spfperf lock contention [options] -- <workload> [params])');
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  const prep = prepareRun(workloadArg, paramArgs, o);
  refuseRunClobbering(workloadArg, o.config, [{ what: "option '--output'", path: o.output }]);
  const stopAtNs = simLimitNs(io.env);
  const callers = new Map(DESIGNS.flatMap((d) => Object.entries(d.lockCallers ?? {})));
  const sink = new LockContentionSink({ lines: view.lines, callers });
  const r = await withProgress(progressFor(prep, io), (ctl) => runWorkloadAsync({ ...runOptionsOf(prep), contention: sink, stopAtNs }, { onProgress: ctl.onProgress, shouldStop: ctl.shouldStop }));
  const signals = r.signals.map((s) => `${prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`).join('');
  const at = `${(r.elapsedNs / 1e9).toFixed(6)} s of simulated time; the waits up to there follow`;
  const stopped = !r.stopped ? '' : stopAtNs !== undefined && r.elapsedNs >= stopAtNs ? `spfperf: run stopped at SPFPERF_SIM_LIMIT_NS=${stopAtNs} ns of simulated time\n` : `spfperf: lock contention stopped (Ctrl-C) at ${at}\n`;
  const text = lockReportText(sink.result(), view);
  if (o.output !== undefined) {
    try {
      writeFileSync(o.output, text);
    } catch (e) {
      throw new UsageError(`cannot write '${o.output}': ${errnoText(e as NodeJS.ErrnoException)}`);
    }
    await writeAll(io.stderr, signals + stopped);
  } else {
    await writeAll(io.stderr, signals + stopped + text);
  }
  return 0;
}
