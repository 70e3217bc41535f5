/**
 * spfperf lock record: run a workload and write its lock waits as a trace, as perf lock record
 * writes lock:contention_begin and lock:contention_end; `spfperf lock contention -i FILE` reads it
 * back (docs/lock.md):
 *
 *   $ spfperf lock record --cpus 4 -- ebizzy threads=4 seconds=0.005s
 *   [ spfperf lock record: Captured and wrote 0.213 MB spfperf.ndjson (2574 samples) ]
 *
 *   {"type":"header","trace_format":1,...,"events":["lock:contention_begin","lock:contention_end"]}
 *   {"type":"sample","ts":51234,"cpu":2,"pid":1000,"tid":1002,"comm":"ebizzy","event":"lock:contention_begin","lock_addr":"ffff888100100000","flags":2,"lock":"mmap_lock","sym":"do_user_addr_fault"}
 *   {"type":"sample","ts":63990,"cpu":2,"pid":1000,"tid":1002,"comm":"ebizzy","event":"lock:contention_end","lock_addr":"ffff888100100000","ret":0}
 *   {"type":"summary",...,"lines":[{"name":"mmap_lock(1000)","transfers":...}]}
 *
 * The caller (`sym`) is resolved when the wait begins, from the waiter's stack: the trace carries
 * it in place of perf's call chain. The summary carries the cache lines' transfers.
 */
import { UsageError } from '../errors.js';
import { prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkloadAsync, SIGNAL_NAMES } from '../sim/run.js';
import { describeRun, runValues } from '../stats/save.js';
import { NdjsonWriter, openTraceOutput, TRACE_FORMAT } from '../trace/ndjson-writer.js';
import { errnoText } from '../trace/ndjson-reader.js';
import { LockContentionSink, type WaitBegin } from '../trace/lock-contention.js';
import { progressFor, withProgress } from '../ui/live-progress.js';
import { writeAll, type CliIo } from '../io.js';
import { useHostCosts } from '../calibrate/hostcost.js';
import { DESIGNS } from '../mm/spf/index.js';
import { refuseRunClobbering } from './outputs.js';
import { simLimitNs } from './stat-runs.js';

/** The two tracepoints a lock trace carries (include/trace/events/lock.h). */
export const LOCK_EVENTS = ['lock:contention_begin', 'lock:contention_end'] as const;

export interface LockRecordOptions extends CommonRunOptions {
  /** -o FILE, or - for stdout. */
  readonly output?: string;
}

/** The designs' names of their lock-taking functions (DesignDescriptor.lockCallers). */
export function designCallers(): Map<string, string | null> {
  return new Map(DESIGNS.flatMap((d) => Object.entries(d.lockCallers ?? {})));
}

function sampleHead(w: WaitBegin, event: string): string {
  const t = w.t;
  return `{"type":"sample","ts":${Math.round(t.clock)},"cpu":${t.cpu},"pid":${t.pid},"tid":${t.tid},"comm":${JSON.stringify(t.comm)},"event":"${event}","lock_addr":"${w.addr}"`;
}

export async function runRecord(args: readonly string[], o: LockRecordOptions, io: CliIo): Promise<number> {
  const [workloadArg, ...paramArgs] = args;
  if (workloadArg === undefined) throw new UsageError('lock record: no workload given (spfperf lock record [options] -- <workload> [params])');
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  const prep = prepareRun(workloadArg, paramArgs, o);
  const target = o.output ?? 'spfperf.ndjson';
  refuseRunClobbering(workloadArg, o.config, [{ what: "option '-o'", path: target === '-' ? undefined : target }]);
  const { file, out } = openTraceOutput(target, io.stdout);
  const w = new NdjsonWriter(out);
  let begins = 0;
  let ends = 0;
  const sink = new LockContentionSink({
    callers: designCallers(),
    onBegin: (b) => {
      begins++;
      w.line(`${sampleHead(b, LOCK_EVENTS[0])},"flags":${b.flags},"lock":${JSON.stringify(b.lock)},"sym":${JSON.stringify(b.caller)}}\n`);
    },
    onEnd: (b) => {
      ends++;
      w.line(`${sampleHead(b, LOCK_EVENTS[1])},"ret":0}\n`);
    },
  });
  const command = [workloadArg, ...paramArgs].join(' ');
  const stopAtNs = simLimitNs(io.env);
  try {
    w.line(JSON.stringify({ type: 'header', trace_format: TRACE_FORMAT, ...describeRun(prep), command, events: LOCK_EVENTS }) + '\n');
    const r = await withProgress(progressFor(prep, io), (ctl) =>
      runWorkloadAsync({ ...runOptionsOf(prep), contention: sink, stopAtNs }, { onProgress: ctl.onProgress, shouldStop: ctl.shouldStop, pause: () => w.drain() }),
    );
    const summary = { type: 'summary', ...runValues(prep, prep.seed, r), samples: { [LOCK_EVENTS[0]]: begins, [LOCK_EVENTS[1]]: ends }, stopped: r.stopped, signals: r.signals, lines: sink.lines?.all() ?? [] };
    w.line(JSON.stringify(summary) + '\n');
    await w.end();
    file?.commit();
    const signals = r.signals.map((s) => `${prep.workload.name}: process ${s.comm}/${s.pid}: ${SIGNAL_NAMES[s.signal] ?? `signal ${s.signal}`} (${s.detail})\n`).join('');
    const at = `${(r.elapsedNs / 1e9).toFixed(6)} s of simulated time; the trace ends there`;
    const stopped = !r.stopped ? '' : stopAtNs !== undefined && r.elapsedNs >= stopAtNs ? `spfperf: run stopped at SPFPERF_SIM_LIMIT_NS=${stopAtNs} ns of simulated time\n` : `spfperf: lock record stopped (Ctrl-C) at ${at}\n`;
    await writeAll(io.stderr, `${signals}${stopped}[ spfperf lock record: Captured and wrote ${(w.bytes / 1e6).toFixed(3)} MB ${target === '-' ? '(stdout)' : target} (${begins + ends} samples) ]\n`);
  } catch (e) {
    file?.discard();
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && err.syscall !== undefined) throw new UsageError(`cannot write '${target}': ${errnoText(err)}`);
    throw e;
  }
  return 0;
}
