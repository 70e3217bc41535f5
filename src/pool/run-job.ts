import { prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkload, runWorkloadAsync, type RunProgress, type RunResult } from '../sim/run.js';
import { CountingSink, type CountsSnapshot } from '../trace/sink.js';
import type { JobContext } from './jobs.js';
import { isMainThread } from 'node:worker_threads';
import { useHostCosts } from '../calibrate/hostcost.js';

/**
 * The pool's `run` job: one simulation run, described by what prepareRun() takes, so a worker
 * thread prepares it as the command would have (the same workload file, parameters, machine,
 * config and seed give the same run), and its result as plain data.
 */

/** A run as the command line gives it: the workload, its name=value arguments, the run options. */
export interface RunSpec {
  readonly workload: string;
  readonly params: readonly string[];
  readonly options: CommonRunOptions;
}

/** A RunResult that survives a structured clone: the counting sink as its counts. */
export interface WireRunResult extends Omit<RunResult, 'counts'> {
  readonly counts: CountsSnapshot;
}

/** The spec of a run: only the options prepareRun() reads (a command's options carry more). */
export function runSpecOf(workload: string, params: readonly string[], o: CommonRunOptions): RunSpec {
  const options: CommonRunOptions = {
    arch: o.arch,
    machine: o.machine,
    cpus: o.cpus,
    sockets: o.sockets,
    coresPerSocket: o.coresPerSocket,
    threadsPerCore: o.threadsPerCore,
    config: o.config === undefined ? undefined : [...o.config],
    seed: o.seed,
    check: o.check,
    perturb: o.perturb,
  };
  return { workload, params: [...params], options };
}

/** Prepare and run a spec to the end (or until the pool is stopped: a partial result). */
/** Whether this worker thread has read the host's cached costs (see runJob). */
let hostCostsRead = false;

export async function runJob(spec: RunSpec, ctx: JobContext): Promise<WireRunResult> {
  // `--machine host` runs on the costs measured on this host when calibrate's cache has them: the
  // command's thread read them already (stat, record); a worker thread reads them once itself.
  if (spec.options.machine === 'host' && !isMainThread && !hostCostsRead) {
    useHostCosts(process.env, 'cached');
    hostCostsRead = true;
  }
  const prep = prepareRun(spec.workload, spec.params, spec.options);
  const r = await runWorkloadAsync(runOptionsOf(prep), {
    onProgress: (p: RunProgress) => ctx.progress(p),
    shouldStop: () => ctx.stopped(),
  });
  return { ...r, counts: r.counts.snapshot() };
}

/** The RunResult a worker's WireRunResult stands for. */
export function resultOf(w: WireRunResult): RunResult {
  return { ...w, counts: CountingSink.fromSnapshot(w.counts) };
}

/** Whether this thread has run warmUpJit(). */
let jitWarm = false;

/**
 * A tiny run (page_fault1, 2 threads, 2 rounds of 256 KiB on 2 CPUs: ~25 ms), once a thread,
 * before a pool's thread takes its first job (worker.ts, pool.ts): it takes paths of the model
 * that a long run takes only late (munmap, exit, more than one VMA) while V8 still collects type
 * feedback, so that fewer of the functions it optimises during the first job deoptimise and get
 * compiled again (a traced first job of page_fault1 on 16 CPUs: 13 deopts after it, 40-50
 * without; a slice's end, the unasked syncs and the event heap's ties are among those left). That
 * matters where every core runs a job and V8's compiler threads take their time from them:
 * stat -r 4 --jobs 2 of page_fault1 on 16 CPUs, 14.4-14.9 s of CPU against 15.3-15.6 s and
 * 7.55-7.71 s of wall against 7.97-8.15 s (4 of 4 alternated pairs); a serial run, whose compiles
 * have an idle core, gains nothing from it (the same stat with --jobs 1: 0 to +2 %), so runs
 * outside a pool do without. The run is thrown away: its engine, kernel and sinks are its own.
 */
export function warmUpJit(): void {
  if (jitWarm) return;
  jitWarm = true;
  runWorkload(runOptionsOf(prepareRun('page_fault1', ['threads=2', 'iterations=2', 'size=256K'], { cpus: '2' })));
}
