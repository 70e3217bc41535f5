import { runJob } from './run-job.js';
import { checkJob } from '../check/job.js';

/**
 * The kinds of job the pool runs, by name: what a worker thread (worker.ts) can be asked to do,
 * and what the pool runs in this thread with `jobs: 1`. A job's input and output must survive a
 * structured clone (plain objects, arrays, Maps, typed arrays: no functions, no class instances).
 * A new kind is one handler here; the pool itself knows none by name.
 */

/** What a running job may ask of the pool. */
export interface JobContext {
  /** True once the caller asked the pool to stop (Ctrl-C): end early with what there is. */
  stopped(): boolean;
  /** Report progress (cloneable data); the pool hands it to the caller's onProgress. */
  progress(data: unknown): void;
}

export type JobHandler<I, O> = (input: I, ctx: JobContext) => Promise<O>;

export const JOBS = {
  /** One simulation run: a RunSpec in, a WireRunResult out (run-job.ts). */
  run: runJob,
  /** A batch of `spfperf check` schedules: a CheckBatch in, a CheckBatchResult out (check/job.ts). */
  check: checkJob,
} satisfies Record<string, JobHandler<never, unknown>>;

export type JobKind = keyof typeof JOBS;
export type JobInput<K extends JobKind> = Parameters<(typeof JOBS)[K]>[0];
export type JobOutput<K extends JobKind> = Awaited<ReturnType<(typeof JOBS)[K]>>;
