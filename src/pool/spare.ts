import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';

/**
 * The pool's worker threads (worker.ts), and those started ahead of their pool: a command that
 * will run a pool (stat -r N, --compare) starts its workers before it loads its own modules
 * (prestartWorkers(), from cli.ts), so that they load theirs at the same time on the other cores
 * instead of after it, while the command's thread waits (pool.ts's LoadGate). This module loads
 * nothing of the model.
 */

/**
 * The worker's entry. Workers run compiled JavaScript: from dist/ this is the file next to this
 * one; under the test runner this module is the TypeScript source, and the worker is the build's
 * (test/global-setup.ts rebuilds dist/ when a source is newer).
 */
export const WORKER_URL = import.meta.url.endsWith('.ts') ? new URL('../../dist/pool/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);

let flagsSet = false;

/**
 * V8 allocates a function's feedback vector on its first call instead of its eighth
 * (--no-lazy-feedback-allocation), so that the model's functions are optimised sooner: each
 * worker and the command's thread warm up on their first run, in parallel, while a serial run
 * pays it once (stat -r 4 --jobs 2 of page_fault1 on 16 CPUs, iterations=4: 8.42 -> 8.04 s wall,
 * medians of 3 alternated runs; again with the pool threads' warm-up, 7.19-7.52 s against
 * 7.43-8.00 s, 4 of 5 pairs; docs/performance.md). Set once, for the whole process, when the
 * first worker starts: the command's thread has not run the model yet.
 */
function setPoolFlags(): void {
  if (flagsSet) return;
  flagsSet = true;
  setFlagsFromString('--no-lazy-feedback-allocation');
}

/** A worker thread of the pool; `up` once it said its modules are loaded (its first message, 'ready'). */
export interface PoolWorker {
  readonly w: Worker;
  up: boolean;
}

/** Workers started ahead of a pool, not yet taken by one: they do not keep the process alive. */
const spares: PoolWorker[] = [];

/** A new worker thread; it waits for its WorkerSetup message (pool.ts) before it takes jobs. */
function startWorker(): PoolWorker {
  setPoolFlags();
  const p: PoolWorker = { w: new Worker(WORKER_URL), up: false };
  p.w.once('message', () => (p.up = true));
  return p;
}

/**
 * Start the workers a pool of `runs` jobs will want (one fewer than min(jobs, runs): the pool's
 * own thread takes jobs too), before the command loads its modules. `jobs`: the --jobs option as
 * given (undefined: one per core; not a whole number >= 1: none started, the command says why).
 */
export function prestartWorkers(runs: number, jobs: string | undefined): void {
  const n = jobs === undefined ? availableParallelism() : /^\d+$/.test(jobs) ? Number(jobs) : 0;
  for (let k = spares.length; k < Math.min(n, runs) - 1; k++) {
    const p = startWorker();
    p.w.unref();
    // A spare that dies before a pool takes it is forgotten (the pool starts another; its own
    // worker fails there as this one did, and says why).
    const forget = (): void => {
      const i = spares.indexOf(p);
      if (i >= 0) spares.splice(i, 1);
    };
    p.w.on('error', forget);
    p.w.once('exit', forget);
    spares.push(p);
  }
}

/** Workers started ahead and not taken yet. */
export function spareCount(): number {
  return spares.length;
}

/** A worker for a pool: a spare if there is one (it keeps the process alive again), else a new one. */
export function takeWorker(): PoolWorker {
  const p = spares.shift();
  if (p === undefined) return startWorker();
  p.w.ref();
  return p;
}
