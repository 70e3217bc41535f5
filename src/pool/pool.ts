import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { getInvariantCheckDefault, getSyncCheckDefault } from '../engine/engine.js';
import { JOBS, type JobContext, type JobHandler, type JobInput, type JobKind, type JobOutput } from './jobs.js';
import { fromWire, type WireError } from './wire-error.js';
import { takeWorker } from './spare.js';
import { warmUpJit } from './run-job.js';

/**
 * Independent jobs (a run's seeds, a comparison's configs, validation cases) on all cores: this
 * thread takes jobs itself and `jobs - 1` worker threads (worker.ts) take the others, each job's
 * input going to whichever is free, and the results come back in the jobs' order whatever order
 * they finish in, so a caller that prints them prints what a serial run prints. (This thread
 * has its modules loaded already, so it takes jobs rather than start one more worker that would
 * load them again; it starts its first once the workers have loaded theirs (LoadGate), and runs
 * its jobs in slices, between which the workers' messages, progress and Ctrl-C are handled.)
 * With `jobs: 1`, or a single job, the jobs run in this thread, one after another, through the
 * same handler (jobs.ts): the old serial behaviour.
 *
 *   const { results, error } = await mapPool('run', specs, { jobs: defaultJobs() });
 *
 * Jobs are handed out in order. mapPool() fails fast: once job i fails, no later job starts and
 * the workers running later ones are terminated; the earlier ones finish (one of them may fail
 * too, and the first failure in job order is the one reported, as a serial loop would). It
 * returns the results before the failure. settlePool() runs every job and returns each one's
 * outcome. A job's error comes back as the error it threw (the typed errors of src/errors.ts keep
 * their class: wire-error.ts), so the CLI prints the same one-line message. Every worker is
 * terminated before either returns.
 *
 * A StopFlag (Ctrl-C) stops the pool: no job starts after it (except the first), and the running
 * ones see `ctx.stopped()` and end early with what they have (a run returns its partial counts).
 */

/** How many jobs run at once by default: one per core the process may use. */
export function defaultJobs(): number {
  return availableParallelism();
}

/** A stop request every worker sees at once (shared memory: it is read between slices of a run). */
export class StopFlag {
  readonly buffer = new SharedArrayBuffer(4);
  private readonly word = new Int32Array(this.buffer);
  set(): void {
    Atomics.store(this.word, 0, 1);
  }
  get isSet(): boolean {
    return Atomics.load(this.word, 0) !== 0;
  }
}

export interface PoolOptions {
  /** Most jobs running at once (>= 1); never more workers than jobs. 1: in this thread. */
  readonly jobs: number;
  readonly stop?: StopFlag;
  /** A job's progress reports (a worker sends at most one every 100 ms). */
  readonly onProgress?: (index: number, data: unknown) => void;
  /** Each job's outcome, as it ends (in the order they end, not the jobs' order). */
  readonly onSettled?: (index: number, outcome: Settled<unknown>) => void;
}

export type Settled<O> = { readonly ok: true; readonly value: O } | { readonly ok: false; readonly error: Error };

export interface PoolOutcome<O> {
  /** The results in job order, up to the first job that failed or did not start (stopped). */
  readonly results: O[];
  /** The first failure in job order. */
  readonly error?: Error;
}

/** Messages of the pool to a worker, and back. */
export interface JobMessage {
  readonly index: number;
  readonly kind: JobKind;
  readonly input: unknown;
}
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'progress'; readonly index: number; readonly data: unknown }
  | { readonly type: 'done'; readonly index: number; readonly value: unknown }
  | { readonly type: 'error'; readonly index: number; readonly error: WireError };

/** What each worker is told first, before any job (its first message: a worker may be started ahead of its pool, spare.ts). */
export interface WorkerSetup {
  readonly stop: SharedArrayBuffer;
  /** The engine's sync-check default of this thread (the test suite turns it on). */
  readonly syncCheck: boolean;
  /** The invariant-check default of this thread (the test suite turns it on). */
  readonly invariantCheck: boolean;
  readonly progress: boolean;
}

export async function mapPool<K extends JobKind>(kind: K, inputs: readonly JobInput<K>[], o: PoolOptions): Promise<PoolOutcome<JobOutput<K>>> {
  return outcomeOf(await drive(kind, inputs, o, true));
}

/** The jobs' outcomes in job order as mapPool() returns them: the results up to the first job that failed or did not run. */
export function outcomeOf<O>(settled: readonly (Settled<unknown> | undefined)[]): PoolOutcome<O> {
  const results: O[] = [];
  for (const s of settled) {
    if (s === undefined) break;
    if (!s.ok) return { results, error: s.error };
    results.push(s.value as O);
  }
  return { results };
}

/** Every job's outcome in job order; undefined for a job that did not start (stopped). */
export async function settlePool<K extends JobKind>(kind: K, inputs: readonly JobInput<K>[], o: PoolOptions): Promise<(Settled<JobOutput<K>> | undefined)[]> {
  return (await drive(kind, inputs, o, false)) as (Settled<JobOutput<K>> | undefined)[];
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

async function drive(kind: JobKind, inputs: readonly unknown[], o: PoolOptions, failFast: boolean): Promise<(Settled<unknown> | undefined)[]> {
  if (!Number.isInteger(o.jobs) || o.jobs < 1) throw new Error(`pool: jobs must be a whole number >= 1, not ${o.jobs}`);
  return runJobs(kind, inputs, o, failFast);
}

/**
 * The first workers of a pool while they load their modules: the pool's own thread starts its
 * first job once every one of them is up or dead (wait()). A worker that loads beside that
 * thread's first run loads ~3 times slower (V8's compiler threads, busy with the run, share the
 * other core), starts its first job last and ends last, the thread's core idle meanwhile; waiting
 * costs the thread an uncontended load instead (~0.17 s; docs/performance.md, "-j 2").
 */
export class LoadGate {
  private loading = 0;
  private open: (() => void) | null = null;
  /** One more worker loading. */
  add(): void {
    this.loading++;
  }
  /** One of them is up, or dead. */
  done(): void {
    if (this.loading > 0 && --this.loading === 0 && this.open !== null) {
      this.open();
      this.open = null;
    }
  }
  /** Resolves once none is loading (at once if none is). */
  wait(): Promise<void> {
    return this.loading === 0 ? Promise.resolve() : new Promise((res) => (this.open = res));
  }
}

/** A worker and the job it runs (-1: none). */
interface Slot {
  readonly w: Worker;
  job: number;
  /** Terminated by the pool, or dead: its events no longer count. */
  gone: boolean;
  /** One of the first workers, whose modules are not loaded yet (it has not said 'ready'). */
  loading: boolean;
}

/** This thread's loop of jobs beside min(jobs, inputs) - 1 workers (none: the serial behaviour). */
function runJobs(kind: JobKind, inputs: readonly unknown[], o: PoolOptions, failFast: boolean): Promise<(Settled<unknown> | undefined)[]> {
  const n = inputs.length;
  const out: (Settled<unknown> | undefined)[] = inputs.map(() => undefined);
  const setup: WorkerSetup = { stop: (o.stop ?? new StopFlag()).buffer, syncCheck: getSyncCheckDefault(), invariantCheck: getInvariantCheckDefault(), progress: o.onProgress !== undefined };
  const live = new Set<Slot>();
  const exits: Promise<unknown>[] = [];
  let next = 0;
  let firstFailed = Infinity;
  let ended = false;
  /** Whether this thread's own loop of jobs has ended. */
  let localDone = false;

  return new Promise((resolve) => {
    const wanted = (): boolean => next < n && next < firstFailed && (next === 0 || o.stop?.isSet !== true);

    const retire = (s: Slot): void => {
      if (s.gone) return;
      s.gone = true;
      live.delete(s);
      exits.push(s.w.terminate());
    };

    const maybeEnd = (): void => {
      if (ended || !localDone || wanted() || [...live].some((s) => s.job >= 0)) return;
      ended = true;
      for (const s of [...live]) retire(s);
      void Promise.allSettled(exits).then(() => resolve(out));
    };

    const record = (i: number, r: Settled<unknown>): void => {
      out[i] = r;
      o.onSettled?.(i, r);
      if (!r.ok && failFast && i < firstFailed) {
        firstFailed = i;
        // Later jobs' results will not be used: stop their workers now (this thread's job sees
        // ctx.stopped() and ends at its next slice).
        for (const other of [...live]) if (other.job > i) retire(other);
      }
    };

    const settle = (s: Slot, r: Settled<unknown>): void => {
      const i = s.job;
      s.job = -1;
      record(i, r);
    };

    const gate = new LoadGate();
    const isUp = (s: Slot): void => {
      if (s.loading) {
        s.loading = false;
        gate.done();
      }
    };

    /** This thread's share: the next job whenever it is free, through the same handler. */
    const local = async (): Promise<void> => {
      const handler = JOBS[kind] as JobHandler<unknown, unknown>;
      // (The workers' first jobs are posted already: feed() ran before this.)
      for (let first = true; wanted(); first = false) {
        const i = next++;
        // This thread's first job is taken now, as the workers' are, and runs once they are up;
        // meanwhile this thread takes the warm-up every thread of a pool takes (warmUpJit()).
        if (first && live.size > 0) {
          warmUpJit();
          await gate.wait();
        }
        const ctx: JobContext = { stopped: () => o.stop?.isSet === true || i > firstFailed, progress: (d) => o.onProgress?.(i, d) };
        let r: Settled<unknown>;
        try {
          r = { ok: true, value: await handler(inputs[i], ctx) };
        } catch (e) {
          r = { ok: false, error: asError(e) };
        }
        if (i < firstFailed || !failFast) record(i, r);
      }
      localDone = true;
      maybeEnd();
    };

    const feed = (s: Slot): void => {
      if (!s.gone) {
        if (wanted()) {
          s.job = next++;
          const m: JobMessage = { index: s.job, kind, input: inputs[s.job] };
          s.w.postMessage(m);
        } else retire(s);
      }
      maybeEnd();
    };

    /** A worker that died (it could not load, or crashed): its job fails; another takes its place. */
    const died = (s: Slot, e: Error): void => {
      if (s.gone) return;
      isUp(s);
      s.gone = true;
      live.delete(s);
      if (s.job >= 0) settle(s, { ok: false, error: e });
      if (wanted()) feed(spawn());
      else maybeEnd();
    };

    const spawn = (first = false): Slot => {
      const p = takeWorker();
      p.w.postMessage(setup);
      const s: Slot = { w: p.w, job: -1, gone: false, loading: first && !p.up };
      if (s.loading) gate.add();
      live.add(s);
      exits.push(new Promise((res) => s.w.once('exit', res)));
      s.w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') return isUp(s);
        if (s.gone || m.index !== s.job) return;
        if (m.type === 'progress') o.onProgress?.(m.index, m.data);
        else {
          settle(s, m.type === 'done' ? { ok: true, value: m.value } : { ok: false, error: fromWire(m.error) });
          feed(s);
        }
      });
      s.w.on('error', (e) => died(s, asError(e)));
      s.w.on('exit', (code) => died(s, new Error(`worker thread exited with code ${code}`)));
      return s;
    };

    for (let k = Math.min(o.jobs, n) - 1; k > 0; k--) feed(spawn(true));
    void local();
  });
}
