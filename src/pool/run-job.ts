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

/** Events in a slice of the warm-up run: its slices end as a pooled job's do (runWorkloadAsync()'s). */
const WARM_UP_SLICE = 2000;

/**
 * A small run, once a thread, before a pool's thread takes its first job (worker.ts, pool.ts):
 * page_fault1 with 16 threads on 16 CPUs, 2 rounds of 512 KiB (4096 faults, ~70 ms alone), in
 * slices. It takes the paths of the model that a long run takes only late or only under
 * contention (munmap, exit, more than one VMA, a lock's slow path, the end of a slice, the event
 * heap's ties) while V8 still collects type feedback, so that the functions V8 optimises during
 * the first job are compiled once, not compiled, thrown away and compiled again. That matters
 * where every core runs a job: V8's compiler threads then take their time from the runs, where a
 * serial run's compiles have an idle core (so runs outside a pool do without).
 *
 * Against the earlier warm-up (2 threads, 2 rounds of 256 KiB on 2 CPUs, run whole: ~25 ms),
 * whole-process medians of alternated runs (docs/performance.md, "The pool's warm-up, again"):
 * stat -r 4 --jobs 2 --cpus 16 page_fault1 threads=16 iterations=4, 4.51-4.76 s against
 * 4.67-4.99 s (four series of 5-6) and 8.7-9.0 s of CPU against 8.9-9.6 s; with iterations=1,
 * 1.68 s against 1.88 s. It costs a tiny pool ~40 ms (4 runs of 4 CPUs, 16 MiB: 0.71 s against
 * 0.67 s). The run is thrown away: its engine, kernel and sinks are its own.
 */
export function warmUpJit(): void {
  if (jitWarm) return;
  jitWarm = true;
  // In slices, but synchronous: a worker takes no message until it is done.
  runWorkload(runOptionsOf(prepareRun('page_fault1', ['threads=16', 'iterations=2', 'size=512K'], { cpus: '16' })), WARM_UP_SLICE);
}
