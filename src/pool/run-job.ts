import { prepareRun, runOptionsOf, type CommonRunOptions } from '../sim/setup.js';
import { runWorkloadAsync, type RunProgress, type RunResult } from '../sim/run.js';
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
