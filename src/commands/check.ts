/**
 * spfperf check: explore a workload's schedules for a broken invariant (docs/check.md).
 *
 *   $ spfperf check --config kamezawa split-merge
 *   spfperf check: 1000 pct schedules (depth 3, seed 1) of split-merge --config kamezawa
 *   violation in schedule 10 of 1000
 *   schedule pct:d3:s1:i9
 *   invariant violated: no-task-waits-forever by split-merge/1002 in invalidate_vma_before_free at 0x7ffff7c00000 (48406 ns): ...
 *       step    time (ns)  task              function         address
 *        173        47974  split-merge/1002  mmap_write_lock  -
 *        ...
 *   shrunk in 63 runs: rounds=1 pages=1, all points kept
 *   schedule pct:d3:s1:i3
 *   ...
 *   replay: spfperf check --replay pct:d3:s1:i3 --config kamezawa split-merge rounds=1 pages=1
 *
 * Schedule i of a search is the id strategy:d<depth>:s<seed>:i<i>; the search stops at the first
 * that breaks an invariant, prints it, shrinks it (shrink.ts) and prints the shrunk one, which
 * `--replay ID` prints again byte for byte. Exit 3 when a violation was found, 0 when none.
 * Batches of schedules run on the worker pool with --jobs > 1; the output is the serial one.
 */
import { InterruptedError, UsageError } from '../errors.js';
import { DEFAULT_RECORD_EVENTS, recordEvents } from './record.js';
import { NUM_EVENTS } from '../events/catalog.js';
import { formatViolationReport, type StepRow } from '../format/check.js';
import { defaultJobs, settlePool, StopFlag } from '../pool/pool.js';
import { runSpecOf } from '../pool/run-job.js';
import { parseIntOption, prepareRun, type CommonRunOptions, type PreparedRun } from '../sim/setup.js';
import { resolveParams } from '../workload/params.js';
import { expectedChoices, runSchedule, taskName, type ScheduleOutcome } from '../check/explore.js';
import { formatScheduleId, MAX_DEPTH, parseScheduleId, STRATEGIES, type ScheduleId, type Strategy } from '../check/schedule-id.js';
import { shrink, type Candidate } from '../check/shrink.js';
import type { CheckBatch, CheckBatchResult } from '../check/job.js';
import { describeRun, runValues } from '../stats/save.js';
import { AtomicFile, FileOutput, NdjsonWriter, RecordSink, TRACE_FORMAT } from '../trace/ndjson-writer.js';
import { errnoText } from '../trace/ndjson-reader.js';
import { inCi, onInterrupt, writeAll, type CliIo } from '../io.js';
import { useHostCosts } from '../calibrate/hostcost.js';

export interface CheckOptions extends CommonRunOptions {
  readonly schedules?: string;
  readonly strategy?: string;
  readonly depth?: string;
  readonly replay?: string;
  readonly trace?: string;
  readonly jobs?: string;
}

/** Schedules a search runs by default. */
export const DEFAULT_SCHEDULES = 1000;
/** PCT's default depth: two ordering constraints besides the start (a lost wake-up's). */
export const DEFAULT_DEPTH = 3;
/** Schedules per pool job, at least (a long search has at most MAX_BATCHES jobs). */
const BATCH = 25;
const MAX_BATCHES = 4000;
/** Candidates the shrinker may run. */
const SHRINK_BUDGET = 300;
/** Schedules a smaller parameter set is tried on when the failing one's index passes on it. */
const SHRINK_REINDEX = 10;

interface Search {
  readonly strategy: Strategy;
  readonly depth: number;
  readonly seed: number;
  readonly schedules: number;
  readonly jobs: number;
}

/** The options checked, as one search (or a UsageError naming the option). */
function searchOf(o: CheckOptions): Search {
  if (o.replay !== undefined) {
    for (const [name, v] of [['--schedules', o.schedules], ['--strategy', o.strategy], ['--depth', o.depth], ['--seed', o.seed]] as const) {
      if (v !== undefined) throw new UsageError(`option '${name}' cannot be used with '--replay': the schedule id sets it`);
    }
  }
  const strategy = (o.strategy ?? 'pct') as Strategy;
  if (!STRATEGIES.includes(strategy)) throw new UsageError(`option '--strategy': unknown strategy '${o.strategy}' (known: ${STRATEGIES.join(', ')})`);
  if (strategy === 'random' && o.depth !== undefined) throw new UsageError("option '--depth' applies to --strategy pct only");
  const depth = o.depth !== undefined ? parseIntOption('--depth', o.depth, 1, MAX_DEPTH) : strategy === 'pct' ? DEFAULT_DEPTH : 0;
  const seed = o.seed !== undefined ? parseIntOption('--seed', o.seed, 0, 2 ** 32 - 1) : 1;
  const schedules = o.schedules !== undefined ? parseIntOption('--schedules', o.schedules, 1, 100_000_000) : DEFAULT_SCHEDULES;
  const jobs = o.jobs !== undefined ? parseIntOption('--jobs', o.jobs, 1, 1024) : defaultJobs();
  return { strategy, depth, seed, schedules, jobs };
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** The run options of the command line, as words (for the replay command). */
function runOptionWords(o: CheckOptions): string[] {
  const w: string[] = [];
  if (o.arch !== undefined) w.push('--arch', o.arch);
  if (o.machine !== undefined) w.push('--machine', o.machine);
  if (o.cpus !== undefined) w.push('--cpus', o.cpus);
  if (o.sockets !== undefined) w.push('--sockets', o.sockets);
  if (o.coresPerSocket !== undefined) w.push('--cores-per-socket', o.coresPerSocket);
  if (o.threadsPerCore !== undefined) w.push('--threads-per-core', o.threadsPerCore);
  for (const c of o.config ?? []) w.push('--config', c);
  return w;
}

/** The step log of an outcome, as the report's rows. */
function rowsOf(out: ScheduleOutcome): StepRow[] {
  return (out.steps ?? []).map((s) => ({ step: s.step, timeNs: s.timeNs, task: taskName(s.task), fn: s.fn, addr: s.addr }));
}

/** PCT's run length for a prepared run (random needs none). */
function lengthOf(prep: PreparedRun, id: Pick<ScheduleId, 'strategy' | 'seed' | 'depth'>): number {
  return id.strategy === 'pct' ? expectedChoices(prep, id.seed, id.depth) : 0;
}

/** Run a schedule with its step log and write --trace's file when asked: the report's run. */
async function reportRun(prep: PreparedRun, id: ScheduleId, o: CheckOptions, command: string): Promise<{ out: ScheduleOutcome; text: string }> {
  const length = lengthOf(prep, id);
  let out: ScheduleOutcome;
  if (o.trace === undefined) out = runSchedule(prep, id, length, { log: true });
  else out = await traced(prep, id, length, o.trace, command);
  const idText = formatScheduleId(id);
  const text = out.violation === null ? `schedule ${idText}\nno violation\n` : formatViolationReport(idText, out.violation, rowsOf(out));
  return { out, text };
}

/** The schedule's run written as a record trace (header, samples, summary) to `file`. */
async function traced(prep: PreparedRun, id: ScheduleId, length: number, file: string, command: string): Promise<ScheduleOutcome> {
  let af: AtomicFile;
  try {
    af = new AtomicFile(file);
  } catch (e) {
    throw new UsageError(`option '--trace': cannot write '${file}': ${errnoText(e as NodeJS.ErrnoException)}`);
  }
  try {
    const events = recordEvents(DEFAULT_RECORD_EVENTS);
    const w = new NdjsonWriter(new FileOutput(af.fd));
    const sink = new RecordSink(events, w, NUM_EVENTS);
    w.line(JSON.stringify({ type: 'header', trace_format: TRACE_FORMAT, ...describeRun(prep), command, events: events.map((e) => e.name), schedule: formatScheduleId(id) }) + '\n');
    const out = runSchedule(prep, id, length, { log: true, sinks: [sink] });
    if (out.result !== null) {
      const samples: Record<string, number> = {};
      for (const e of events) samples[e.name] = sink.written[e.id];
      w.line(JSON.stringify({ type: 'summary', ...runValues(prep, prep.seed, out.result), samples, stopped: out.result.stopped, signals: out.result.signals }) + '\n');
    }
    await w.end();
    af.commit();
    return out;
  } catch (e) {
    af.discard();
    const err = e as NodeJS.ErrnoException;
    if (typeof err?.code === 'string' && err.syscall !== undefined) throw new UsageError(`option '--trace': cannot write '${file}': ${errnoText(err)}`);
    throw e;
  }
}

/** The progress line on a terminal's stderr: schedules run, their rate, violations so far. */
class ProgressLine {
  private last = 0;
  private shown = false;
  private readonly start = performance.now();
  constructor(
    private readonly io: CliIo,
    private readonly total: number,
    private readonly on: boolean,
  ) {}
  update(ran: number, violations: number): void {
    if (!this.on) return;
    const now = performance.now();
    if (now - this.last < 200 && ran < this.total) return;
    this.last = now;
    const rate = ran / Math.max(1e-3, (now - this.start) / 1000);
    this.io.stderr.write(`\r\x1b[Kcheck: ${ran}/${this.total} schedules, ${rate.toFixed(0)}/s, ${violations} violation${violations === 1 ? '' : 's'}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.io.stderr.write('\r\x1b[K');
  }
}

/** Search schedules 0..n-1 for the first violation, on the pool; null when none broke. */
/**
 * Search schedules 0..n-1: the first that broke an invariant, or how many ran clean from the
 * first on (all of them, or fewer when Ctrl-C set `stop`).
 */
async function search(workloadArg: string, paramArgs: readonly string[], runOpts: CommonRunOptions, s: Search, length: number, io: CliIo, stop: StopFlag): Promise<{ readonly index: number } | { readonly clean: number }> {
  const spec = runSpecOf(workloadArg, paramArgs, runOpts);
  const batches: CheckBatch[] = [];
  const size = Math.max(BATCH, Math.ceil(s.schedules / MAX_BATCHES));
  for (let from = 0; from < s.schedules; from += size) batches.push({ spec, strategy: s.strategy, depth: s.depth, seed: s.seed, length, from, to: Math.min(s.schedules, from + size) });
  const ran = new Array<number>(batches.length).fill(0);
  const found: (number | null | undefined)[] = batches.map(() => undefined);
  const progress = new ProgressLine(io, s.schedules, io.isTTY.stderr && !inCi(io.env));
  const total = (): number => ran.reduce((a, b) => a + b, 0);
  const violations = (): number => found.filter((f) => typeof f === 'number').length;
  const out = await settlePool('check', batches, {
    jobs: s.jobs,
    stop,
    onProgress: (i, d) => {
      ran[i] = (d as { ran: number }).ran;
      progress.update(total(), violations());
    },
    onSettled: (i, r) => {
      if (r.ok) {
        const v = r.value as CheckBatchResult;
        ran[i] = v.ran;
        found[i] = v.found?.index ?? null;
      }
      // Stop once a violation is found and every batch before it ran clean: later ones cannot matter.
      const firstNotClean = found.findIndex((f) => f !== null);
      if (firstNotClean >= 0 && typeof found[firstNotClean] === 'number') stop.set();
      progress.update(total(), violations());
    },
  });
  progress.clear();
  for (const r of out) if (r !== undefined && !r.ok) throw r.error;
  // In order: a violation counts only if every schedule before it ran (a batch cut short by a
  // stop after it, or by Ctrl-C, ends the clean prefix).
  let clean = 0;
  for (let i = 0; i < out.length; i++) {
    const r = out[i];
    if (r === undefined) break;
    const v = (r as { value: CheckBatchResult }).value;
    if (v.found !== null) return { index: v.found.index };
    clean += v.ran;
    if (v.ran < batches[i].to - batches[i].from) break;
  }
  return { clean };
}

export async function run(workloadArg: string, paramArgs: readonly string[], o: CheckOptions, io: CliIo): Promise<number> {
  const s = searchOf(o);
  if (o.machine === 'host') useHostCosts(io.env, 'cached');
  const runOpts: CommonRunOptions = { ...o, seed: undefined, check: true };
  const prep = prepareRun(workloadArg, paramArgs, runOpts);
  const command = [workloadArg, ...paramArgs].join(' ');
  const label = [prep.workload.name, ...paramArgs, ...runOptionWords(o)].join(' ');

  if (o.replay !== undefined) {
    const id = parseScheduleId(o.replay);
    const { out, text } = await reportRun(prep, id, o, command);
    await writeAll(io.stdout, text);
    return out.violation === null ? 0 : 3;
  }

  await writeAll(io.stdout, `spfperf check: ${s.schedules} ${s.strategy} schedules (${s.strategy === 'pct' ? `depth ${s.depth}, ` : ''}seed ${s.seed}) of ${label}\n`);
  const length = lengthOf(prep, s);
  // Ctrl-C stops the search where it is and what ran is reported; a second one gives up (130).
  const stop = new StopFlag();
  let giveUp: (e: Error) => void = () => {};
  const gaveUp = new Promise<never>((_, reject) => (giveUp = reject));
  gaveUp.catch(() => {});
  const unsubscribe = onInterrupt(io, () => {
    if (stop.isSet) giveUp(new InterruptedError('SIGINT'));
    stop.set();
  });
  let hit: Awaited<ReturnType<typeof search>>;
  try {
    hit = await Promise.race([search(workloadArg, paramArgs, runOpts, s, length, io, stop), gaveUp]);
  } finally {
    unsubscribe();
  }
  if (!('index' in hit)) {
    const stopped = hit.clean < s.schedules ? ` (stopped by Ctrl-C after ${hit.clean} of ${s.schedules})` : '';
    await writeAll(io.stdout, `${hit.clean} schedules, no violation${stopped}\n`);
    return 0;
  }
  const id: ScheduleId = { strategy: s.strategy, depth: s.depth, seed: s.seed, index: hit.index, keep: null };
  const first = runSchedule(prep, id, length, { log: true });
  const v0 = first.violation!;
  await writeAll(io.stdout, `violation in schedule ${hit.index + 1} of ${s.schedules}\n${formatViolationReport(formatScheduleId(id), v0, rowsOf(first))}`);

  // Shrink: the workload's own parameters and the schedule's points, same invariant.
  const defaults = resolveParams(prep.workload, [], { ncpus: prep.ncpus, seed: prep.seed });
  const own = new Map(prep.workload.params.map((p) => [p.name, prep.params.get(p.name)!] as const));
  const preps = new Map<string, PreparedRun | null>();
  const argsOf = (c: Candidate): string[] => [...c.params].filter(([n, v]) => v !== defaults.get(n) || paramArgs.some((a) => a.startsWith(`${n}=`))).map(([n, v]) => `${n}=${v}`);
  const prepOf = (c: Candidate): PreparedRun | null => {
    const key = argsOf(c).join(' ');
    if (!preps.has(key)) {
      try {
        preps.set(key, prepareRun(workloadArg, argsOf(c), runOpts));
      } catch {
        preps.set(key, null);
      }
    }
    return preps.get(key)!;
  };
  const lengths = new Map<PreparedRun, number>();
  const lengthFor = (p: PreparedRun): number => {
    if (!lengths.has(p)) lengths.set(p, lengthOf(p, s));
    return lengths.get(p)!;
  };
  const deviations = new Map<string, number>();
  /** The schedule's points with every one kept: PCT's d - 1 change points, or the random walk's deviations. */
  const pointsOf = (c: Candidate): number => {
    if (s.strategy === 'pct') return s.depth - 1;
    const key = argsOf(c).join(' ');
    if (!deviations.has(key)) {
      const p = prepOf(c);
      deviations.set(key, p === null ? 0 : runSchedule(p, { ...c.id, keep: null }, 0).deviations);
    }
    return deviations.get(key)!;
  };
  const failsSame = (c: Candidate): boolean => {
    const p = prepOf(c);
    return p !== null && runSchedule(p, c.id, lengthFor(p)).violation?.invariant === v0.invariant;
  };
  const { shrunk, tries } = shrink({ params: own, id }, { fails: failsSame, points: pointsOf, budget: SHRINK_BUDGET, reindex: SHRINK_REINDEX });
  const sprep = prepOf(shrunk)!;
  const sargs = argsOf(shrunk);
  const { text } = await reportRun(sprep, shrunk.id, o, [workloadArg, ...sargs].join(' '));
  const changed = [...shrunk.params].filter(([n, v]) => v !== own.get(n)).map(([n, v]) => `${n}=${v}`);
  const kept = shrunk.id.keep === null ? 'all points kept' : `${shrunk.id.keep.length} point${shrunk.id.keep.length === 1 ? '' : 's'} kept`;
  const replay = ['spfperf', 'check', '--replay', formatScheduleId(shrunk.id), ...runOptionWords(o), workloadArg, ...sargs].map(shellWord).join(' ');
  await writeAll(io.stdout, `shrunk in ${tries} runs: ${changed.length > 0 ? changed.join(' ') : 'parameters unchanged'}, ${kept}\n${text}replay: ${replay}\n`);
  return 3;
}
