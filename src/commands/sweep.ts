/**
 * spfperf sweep: run a workload at every point of a grid of machines, kernel configs, CPU counts
 * and workload parameters, N seeds a point, all on the worker pool; write each point's `stat
 * --save` document and an index, and print the workload's metric as a table (docs/sweep.md).
 *
 *   $ spfperf sweep --cpus 1,2,4,8,16 --config base,dufour-v11,per-vma-lock -r 2 page_fault1 size=16M
 *   # spfperf sweep: 'page_fault1 size=16M', 15 points, 2 runs each (seeds 1..2)
 *   # workload:ops/s, the mean of the runs; +- x%: its noise (stddev of the mean, in % of the mean, as perf stat -r)
 *   #
 *   # machine x86-vm16
 *   ┌──────┬──────────────────────┬──────────────────────┬──────────────────────┐
 *   │ CPUs │                 base │           dufour-v11 │         per-vma-lock │
 *   ...
 *
 * Each point's file is byte for byte what `spfperf stat -r N --save FILE` writes for the same
 * point (the index gives each point's stat arguments): its runs are the same RunSpecs, and its
 * document is built by stat's own saveDocument(). All the runs of all the points go to the pool
 * at once (--jobs N, default one per core), most CPUs first (handOutOrder), through runLocally():
 * the one place a sweep hands out its runs, for a queue of workers on other machines to take over.
 */
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { onInterrupt, writeAll, type CliIo } from '../io.js';
import { parseRedisUrl } from '../pool/redis.js';
import { defaultJobs, mapPool, StopFlag, type PoolOptions, type PoolOutcome } from '../pool/pool.js';
import { resultOf, runSpecOf, type RunSpec, type WireRunResult } from '../pool/run-job.js';
import { prepareRun, parseIntOption, type CommonRunOptions, type PreparedRun } from '../sim/setup.js';
import type { RunProgress } from '../sim/run.js';
import { configLabel } from '../config/kconfig.js';
import { useHostCosts } from '../calibrate/hostcost.js';
import { stats } from '../stats/aggregate.js';
import { SPFPERF_VERSION, type SavedRun } from '../stats/save.js';
import { formatSweepCsv, formatSweepHuman, formatSweepJson, type SweepFormatter, type SweepPointView, type SweepReport } from '../format/sweep.js';
import { progressEnabled, withProgress } from '../ui/live-progress.js';
import { expandPoints, parseConfigs, parseCpuList, parseMachines, parseParamAxes, pointFileName, type Axis, type PointSpec, type SweepAxes } from './sweep-axes.js';
import { checkOutputDir, clearOldSweep, POINTS_DIR, writeIndex, writeSweepFile } from './sweep-output.js';
import { saveDocument, saveText } from './stat.js';
import { signalLines, type OneRun } from './stat-runs.js';

export interface SweepOptions {
  readonly cpus?: readonly string[];
  readonly machine?: readonly string[];
  readonly config?: readonly string[];
  readonly arch?: string;
  readonly sockets?: string;
  readonly coresPerSocket?: string;
  readonly threadsPerCore?: string;
  readonly seed?: string;
  readonly check?: boolean;
  readonly repeat?: string;
  readonly output?: string;
  readonly force?: boolean;
  readonly fieldSeparator?: string;
  readonly json?: boolean;
  readonly jobs?: string;
  /** Draw the sweep at the end (spfperf plot's defaults): FILE.svg or FILE.png. */
  readonly plot?: string;
  /** Put the runs on the job queue at this Redis URL for `spfperf worker`s to take (docs/fleet.md). */
  readonly queue?: string;
}

/** The format version of sweep.json. */
export const SWEEP_FORMAT = 1;
/** The default output directory (in the working directory). */
export const DEFAULT_SWEEP_DIR = 'sweep';
/** Most seeds a point (stat -r's bound). */
const MAX_RUNS = 1000;
/** Most runs of a whole sweep: a grid past this is a typo more often than a plan. */
const MAX_SWEEP_RUNS = 100_000;
/** Most --jobs accepts (stat's bound). */
const MAX_JOBS = 1024;

/**
 * Runs RunSpecs and returns their results in order, as mapPool does (results up to the first
 * failure or the first run not started after a stop). The one seam where a sweep's runs are
 * handed out: here the worker pool of this machine; `--queue URL` swaps in a queue's
 * mapQueue(url, 'run', specs, opts), which returns the same PoolOutcome.
 */
export type RunSpecs = (specs: readonly RunSpec[], o: PoolOptions) => Promise<PoolOutcome<WireRunResult>>;

export const runLocally: RunSpecs = (specs, o) => mapPool('run', specs, o);

/**
 * The runs on the job queue at `url` instead (mapQueue(): mapPool()'s results and semantics), for
 * `spfperf worker`s on any host to take; the sweep says on stderr where they went, and which run
 * was started again after its worker died. The queue modules (bullmq, ioredis) load only here.
 */
export function onQueue(url: string, io: CliIo): RunSpecs {
  return async (specs, o) => {
    const { mapQueue } = await import('../pool/queue.js');
    const notes: string[] = [];
    const outcome = await mapQueue(url, 'run', specs, {
      stop: o.stop,
      onProgress: o.onProgress,
      onSettled: o.onSettled,
      onQueued: (q) => void writeAll(io.stderr, `spfperf sweep: ${specs.length} runs on the queue at ${q.url} (sweep ${q.sweep}), ${q.workers} worker${q.workers === 1 ? '' : 's'} watching it now\n`),
      onActive: (i, retry) => {
        if (retry) notes.push(`spfperf sweep: run ${i} started again: the worker that had it died\n`);
      },
    });
    if (notes.length > 0) await writeAll(io.stderr, notes.join(''));
    return outcome;
  };
}

/** A point, prepared: its runs (one per seed) and where it sits in the grid. */
interface Point {
  readonly index: number;
  readonly spec: PointSpec;
  readonly preps: readonly PreparedRun[];
  readonly coords: Readonly<Record<string, string | number>>;
  /** Relative to the output directory. */
  readonly file: string;
  /** The arguments of the `spfperf stat -r N --save FILE` that writes the same file. */
  readonly statArgs: readonly string[];
}

function runOptions(s: PointSpec, o: SweepOptions): CommonRunOptions {
  const shape = { sockets: o.sockets, coresPerSocket: o.coresPerSocket, threadsPerCore: o.threadsPerCore };
  return { arch: o.arch, machine: s.machine, ...shape, cpus: s.cpus === undefined ? undefined : String(s.cpus), config: s.config?.items ?? [], seed: o.seed, check: o.check };
}

function statArgsOf(workloadArg: string, s: PointSpec, o: SweepOptions): string[] {
  return [
    ...(o.arch !== undefined ? ['--arch', o.arch] : []),
    ...(s.machine !== undefined ? ['--machine', s.machine] : []),
    ...(o.sockets !== undefined ? ['--sockets', o.sockets] : []),
    ...(o.coresPerSocket !== undefined ? ['--cores-per-socket', o.coresPerSocket] : []),
    ...(o.threadsPerCore !== undefined ? ['--threads-per-core', o.threadsPerCore] : []),
    ...(s.config?.items ?? []).flatMap((c) => ['--config', c]),
    ...(s.cpus !== undefined ? ['--cpus', String(s.cpus)] : []),
    ...(o.seed !== undefined && o.seed !== '1' ? ['--seed', o.seed] : []),
    ...(o.check ? ['--check'] : []),
    workloadArg,
    ...s.params,
  ];
}

function axesOf(o: SweepOptions, paramArgs: readonly string[]): SweepAxes {
  const cpus = (o.cpus ?? []).flatMap((t) => parseCpuList(t));
  return {
    machines: o.machine !== undefined && o.machine.length > 0 ? parseMachines(o.machine) : undefined,
    configs: o.config !== undefined && o.config.length > 0 ? parseConfigs(o.config) : undefined,
    cpus: cpus.length > 0 ? [...new Set(cpus)] : undefined,
    params: parseParamAxes(paramArgs),
    args: paramArgs,
  };
}

/** Every point prepared (every seed of it), so that a bad point fails before anything runs. */
function preparePoints(workloadArg: string, axes: SweepAxes, o: SweepOptions, repeats: number): Point[] {
  const specs = expandPoints(axes);
  if (specs.length * repeats > MAX_SWEEP_RUNS) throw new UsageError(`the sweep has ${specs.length} points of ${repeats} runs, more than ${MAX_SWEEP_RUNS} runs`);
  return specs.map((spec, index) => {
    const opts = runOptions(spec, o);
    const first = prepareRun(workloadArg, spec.params, opts);
    const preps = [first];
    for (let i = 1; i < repeats; i++) preps.push(prepareRun(workloadArg, spec.params, { ...opts, seed: String(first.seed + i) }));
    const coords: Record<string, string | number> = { machine: first.machine.name, config: spec.config?.label ?? configLabel(first.config), cpus: first.ncpus, ...spec.paramValues };
    const file = `${POINTS_DIR}/${pointFileName(index, Object.entries(coords))}`;
    return { index, spec, preps, coords, file, statArgs: statArgsOf(workloadArg, spec, o) };
  });
}

/** The axes as sweep.json lists them: machine, config, cpus, then the parameters; each value as the points have it. */
function indexAxes(axes: SweepAxes, points: readonly Point[]): Axis[] {
  const distinct = (name: string): (string | number)[] => [...new Set(points.map((p) => p.coords[name]))];
  return [
    { name: 'machine', kind: 'machine', values: distinct('machine') },
    { name: 'config', kind: 'config', values: distinct('config') },
    { name: 'cpus', kind: 'cpus', values: distinct('cpus') },
    ...axes.params.map((p): Axis => ({ name: p.name, kind: 'param', values: [...p.values] })),
  ];
}

/** The workload's metric (its first `metric`), or the elapsed time when it has none. */
function metricOf(prep: PreparedRun): { metric: string; unit: string; read: (d: Pick<SavedRun, 'metrics' | 'elapsed'>) => number | null | undefined } {
  const m = prep.workload.metrics[0];
  if (m === undefined) return { metric: 'seconds time elapsed', unit: 's', read: (d) => d.elapsed };
  return { metric: `workload:${m.name}`, unit: m.unit, read: (d) => d.metrics[m.name]?.value };
}

/**
 * The order the runs are handed out in: the runs of most CPUs first (their workloads' threads
 * follow the CPU count as a rule, and so does a run's wall time), point order among equals. With
 * the longest runs started first, the last to end are short ones, and no worker idles long at the
 * end while another finishes a 16-CPU run (longest processing time first). The results do not
 * depend on it: each run is put back in its place.
 */
export function handOutOrder(preps: readonly Pick<PreparedRun, 'ncpus'>[]): number[] {
  return preps.map((_, r) => r).sort((a, b) => preps[b].ncpus - preps[a].ncpus || a - b);
}

function pickFormatter(o: SweepOptions): SweepFormatter {
  if (o.json) return formatSweepJson;
  if (o.fieldSeparator !== undefined) return formatSweepCsv(o.fieldSeparator);
  return formatSweepHuman;
}

export async function run(workloadArg: string, paramArgs: readonly string[], o: SweepOptions, io: CliIo, runSpecs: RunSpecs = runLocally): Promise<number> {
  const repeats = o.repeat !== undefined ? parseIntOption('-r', o.repeat, 1, MAX_RUNS) : 1;
  if (o.json && o.fieldSeparator !== undefined) throw new UsageError(`options '-x' and '-j' cannot be used together`);
  if (o.fieldSeparator === '') throw new UsageError(`option '-x': the separator is empty`);
  if (o.json && /^\d+$/.test(workloadArg)) throw new UsageError(`option '-j' is --json, as in stat: give the jobs at once with --jobs ${workloadArg}`);
  const jobs = o.jobs !== undefined ? parseIntOption('--jobs', o.jobs, 1, MAX_JOBS) : defaultJobs();
  if (o.queue !== undefined) {
    if (o.jobs !== undefined) throw new UsageError(`options '--queue' and '--jobs' cannot be used together: with --queue the workers' --concurrency says how many run at once`);
    parseRedisUrl(o.queue);
    runSpecs = onQueue(o.queue, io);
  }
  const dir = o.output ?? DEFAULT_SWEEP_DIR;
  // --plot's format is checked before any run (plot.ts, loaded only when it draws, checks it again).
  if (o.plot !== undefined) (await import('./plot.js')).pictureKind(o.plot, '--plot');
  const axes = axesOf(o, paramArgs);
  if (o.machine?.some((m) => m.split(',').some((x) => x.trim() === 'host'))) useHostCosts(io.env, 'cached');
  const points = preparePoints(workloadArg, axes, o, repeats);
  const configItems = (axes.configs ?? []).flatMap((c) => c.items);
  const old = checkOutputDir(dir, o.force === true, points.map((p) => join(dir, p.file)), workloadArg, configItems);
  clearOldSweep(dir, old);
  const plainArgs = paramArgs.filter((_, i) => !axes.params.some((a) => a.argIndex === i));
  const command = [workloadArg, ...plainArgs].join(' ');
  const { metric, unit, read } = metricOf(points[0].preps[0]);
  /** sweep.json, listing the points given (done). */
  const indexDoc = (done: readonly Point[]): object => ({
    spfperf_sweep: SWEEP_FORMAT,
    spfperf: SPFPERF_VERSION,
    workload: { name: points[0].preps[0].workload.name, file: points[0].preps[0].workload.file, args: plainArgs },
    repeats,
    seeds: points[0].preps.map((p) => p.seed),
    metric: { name: metric, unit },
    axes: indexAxes(axes, points),
    points: done.map((p) => ({ index: p.index, coords: p.coords, file: p.file, stat_args: ['-r', String(repeats), ...p.statArgs] })),
    points_planned: points.length,
    complete: done.length === points.length,
  });
  // At once an index of no points: the directory is a sweep's while it runs (a rerun takes it).
  writeIndex(dir, indexDoc([]));

  // The runs in point order (run r: point r / repeats, seed r % repeats), handed out longest first.
  const preps = points.flatMap((p) => p.preps);
  const order = handOutOrder(preps);
  const specs = order.map((r) => {
    const p = points[Math.floor(r / repeats)];
    return runSpecOf(workloadArg, p.spec.params, { ...runOptions(p.spec, o), seed: String(preps[r].seed) });
  });
  const stop = new StopFlag();
  let interrupted = false;
  const unsubscribe = onInterrupt(io, () => {
    interrupted = true;
    stop.set();
  });
  let outcome: PoolOutcome<WireRunResult>;
  try {
    const enabled = progressEnabled(io.isTTY.stderr, io.env);
    outcome = await withProgress({ label: `sweep ${command}`, stream: io.stderr, enabled }, (ctl) => {
      // Progress: the points whose runs have all ended; simulated time and faults summed over the runs.
      const ended = points.map(() => 0);
      let done = 0;
      const seen = new Map<number, RunProgress>();
      const show = (): void => {
        let simNs = 0;
        let faults = 0;
        for (const q of seen.values()) (simNs += q.simNs), (faults += q.faults);
        ctl.onProgress({ simNs, faults, units: { done, total: points.length, name: 'points' } });
      };
      const opts: PoolOptions = {
        jobs,
        stop,
        ...(enabled
          ? {
              onProgress: (i: number, p: unknown) => {
                seen.set(i, p as RunProgress);
                show();
              },
              onSettled: (i: number) => {
                const p = Math.floor(order[i] / repeats);
                if (++ended[p] === repeats) done++;
                show();
              },
            }
          : {}),
      };
      if (enabled) show();
      return runSpecs(specs, opts);
    });
  } finally {
    unsubscribe();
  }

  // The workload's processes killed by a signal, as stat says it, in the runs' order.
  const byRun: (OneRun | undefined)[] = preps.map(() => undefined);
  outcome.results.forEach((w, i) => (byRun[order[i]] = { prep: preps[order[i]], result: resultOf(w) }));
  const killed = byRun.map((r) => (r === undefined ? '' : signalLines(r))).join('');
  if (killed !== '') await writeAll(io.stderr, killed);
  // A point is done when all its runs ended on their own (not stopped by Ctrl-C, none failed).
  const views: SweepPointView[] = [];
  const written: Point[] = [];
  for (const p of points) {
    const mine = byRun.slice(p.index * repeats, (p.index + 1) * repeats);
    if (!mine.every((r): r is OneRun => r !== undefined && !r.result.stopped)) {
      views.push({ index: p.index, coords: p.coords, done: false });
      continue;
    }
    const doc = saveDocument(mine);
    writeSweepFile(join(dir, p.file), saveText(doc));
    written.push(p);
    const xs = doc.runs.map((r) => read(r));
    const noisePct = repeats > 1 && xs.every((x): x is number => typeof x === 'number' && Number.isFinite(x)) ? Math.abs(stats(xs).relPct) : undefined;
    views.push({ index: p.index, coords: p.coords, done: true, value: read(doc), noisePct, file: p.file });
  }
  writeIndex(dir, indexDoc(written));
  const missing = points.length - written.length;
  if (outcome.error !== undefined) {
    await writeAll(io.stderr, `spfperf: sweep: ${written.length} of ${points.length} points done (${join(dir, 'sweep.json')}), then a run failed:\n`);
    throw outcome.error;
  }
  const report: SweepReport = { command, metric, unit, repeats, seeds: points[0].preps.map((p) => p.seed), axes: indexAxes(axes, points), points: views };
  await writeAll(io.stdout, pickFormatter(o)(report));
  if (missing > 0) {
    await writeAll(io.stderr, `spfperf: sweep ${interrupted ? 'stopped (Ctrl-C)' : 'ended early'}: ${written.length} of ${points.length} points done, ${missing} not; ${join(dir, 'sweep.json')} lists the done ones\n`);
    return 130;
  }
  if (o.plot !== undefined) {
    const plot = await import('./plot.js');
    return plot.run(join(dir, 'sweep.json'), { output: o.plot }, io);
  }
  return 0;
}
