/**
 * The worker of the job queue (`spfperf worker`, docs/fleet.md): takes the jobs of sweeps
 * (queue.ts) from the queue every worker watches, runs each with the local pool's handlers
 * (JOBS, jobs.ts) on worker threads of this process (pool.ts's worker.js, one a job, up to
 * `concurrency` at once), and stores each one's result or error on the queue.
 *
 * - A job from another spfperf version is refused: it fails, with this worker's reason, which
 *   the sweep prints. A job's own error (a workload that does not parse, a simulation error) is
 *   its result ({ok: false, error}): the sweep rebuilds its class (wire-error.ts).
 * - The jobs run on threads, so this thread stays free to renew the jobs' locks every
 *   lockDuration / 2. When this process dies its locks expire after lockDuration, and the
 *   stalled-job check of a live worker (every stalledInterval) puts the job back on the queue;
 *   after maxStalledCount such returns the job fails (BullMQ's stalled-job detection).
 * - close() takes no new job and waits for the running ones; a process that exits at once leaves
 *   its jobs to the stalled-job check of the other workers.
 */
import { hostname } from 'node:os';
import { Worker as Thread } from 'node:worker_threads';
import type { Job } from 'bullmq';
import { getInvariantCheckDefault, getSyncCheckDefault } from '../engine/engine.js';
import type { CheckBatch } from '../check/job.js';
import { JOBS, type JobKind } from './jobs.js';
import { StopFlag, type JobMessage, type WorkerMessage, type WorkerSetup } from './pool.js';
import { WORKER_URL } from './spare.js';
import { QUEUE_NAME, SPFPERF_VERSION, type QueueJobData, type QueueJobResult } from './queue.js';
import { connectRedis, parseRedisUrl } from './redis.js';
import type { RunSpec } from './run-job.js';
import type { WireError } from './wire-error.js';
import { decodeWire, encodeWire } from './wire-value.js';

/** BullMQ's stalled-job settings, as this worker runs them (the defaults: docs/fleet.md). */
export interface StalledOptions {
  /** How long a job's lock lives unless renewed (every half of it), ms. */
  readonly lockDurationMs: number;
  /** How often this worker looks for jobs whose worker died, ms. */
  readonly stalledIntervalMs: number;
  /** How many times a job may lose its worker and be put back before it fails. */
  readonly maxStalledCount: number;
}

/**
 * A job's lock lives 30 s (BullMQ's default): a dead worker's job is back on the queue within
 * 30-90 s. Renewal cannot starve here (the jobs run on threads). A job may lose two workers
 * (BullMQ's default is one) before it fails: a host that reboots mid-sweep is not the job's fault.
 */
export const STALLED_DEFAULTS: StalledOptions = { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 2 };

export interface FleetWorkerOptions extends StalledOptions {
  /** Jobs at once (threads). */
  readonly concurrency: number;
  readonly queueName?: string;
  /** The version this worker runs (default this spfperf's; a test gives another to see the refusal). */
  readonly version?: string;
  /** What happens to jobs, for the command's lines. */
  readonly onJob?: (e: FleetJobEvent) => void;
  /** The server was lost (with why), or is back. */
  readonly onConnection?: (up: boolean, why?: string) => void;
}

export interface FleetJobEvent {
  readonly type: 'start' | 'done' | 'error' | 'refused' | 'failed';
  /** The job's id on the queue: `<sweep id>-<index>`. */
  readonly id: string;
  /** What the job runs, in a few words. */
  readonly what: string;
  /** Wall time of the job, ms (the ends). */
  readonly ms?: number;
  /** Why (error, refused, failed). */
  readonly message?: string;
}

export interface FleetWorker {
  /** This worker's name on the queue (host-pid). */
  readonly name: string;
  readonly url: string;
  /** Take no new job, wait for the running ones, disconnect. */
  close(): Promise<void>;
  /**
   * Leave at once: the running jobs are dropped without a word to the queue (their locks expire
   * and the other workers' stalled-job checks put them back), the threads ended, disconnected.
   */
  abort(): Promise<void>;
}

/** Least wall time between two progress reports of a job on the queue, ms. */
const PROGRESS_MS = 1000;

/** Connect to `url` (a one-line UsageError when it cannot) and start taking jobs. */
export async function startFleetWorker(url: string, o: FleetWorkerOptions): Promise<FleetWorker> {
  const t = parseRedisUrl(url);
  let down = false;
  let leaving = false;
  const lost = (e: Error): void => {
    if (down || leaving) return;
    down = true;
    o.onConnection?.(false, e.message.split('\n')[0]);
  };
  // A worker outlives its server's restarts: it retries for ever, at most 10 s apart.
  const conn = await connectRedis(t, { maxDelayMs: 10_000, attempts: Infinity }, lost);
  conn.on('ready', () => {
    if (!down) return;
    down = false;
    o.onConnection?.(true);
  });
  const { Worker, UnrecoverableError } = await import('bullmq');
  const name = `${hostname()}-${process.pid}`;
  const version = o.version ?? SPFPERF_VERSION;
  const threads = new Threads(o.concurrency);

  const processor = async (job: Job<QueueJobData, QueueJobResult>): Promise<QueueJobResult> => {
    const d = job.data;
    const id = job.id ?? '?';
    let what: string = String(d.kind);
    try {
      what = describe(d.kind, decodeWire(d.input));
    } catch {
      // A job of another version may not decode: it is refused below, by its version.
    }
    const refuse = (why: string): never => {
      o.onJob?.({ type: 'refused', id, what, message: why });
      throw new UnrecoverableError(`refused by worker ${name}: ${why}`);
    };
    if (d.spfperfVersion !== version) refuse(`it runs spfperf ${version}, the job is of spfperf ${d.spfperfVersion} (run the sweep's version on every worker: docs/fleet.md)`);
    if (!Object.hasOwn(JOBS, d.kind)) refuse(`no kind of job '${String(d.kind)}'`);
    o.onJob?.({ type: 'start', id, what });
    const t0 = performance.now();
    let last = -Infinity;
    const progress = d.progress
      ? (data: unknown): void => {
          const now = performance.now();
          if (now - last < PROGRESS_MS) return;
          last = now;
          job.updateProgress(encodeWire(data) as object).catch(() => {});
        }
      : undefined;
    let r: QueueJobResult;
    try {
      r = await threads.run(d.kind, decodeWire(d.input), progress);
    } catch (e) {
      o.onJob?.({ type: 'failed', id, what, ms: performance.now() - t0, message: (e as Error).message });
      throw new Error(`on worker ${name}: ${(e as Error).message}`);
    }
    const ms = performance.now() - t0;
    o.onJob?.(r.ok ? { type: 'done', id, what, ms } : { type: 'error', id, what, ms, message: r.error.message.split('\n')[0] });
    return r;
  };

  const worker = new Worker<QueueJobData, QueueJobResult>(o.queueName ?? QUEUE_NAME, processor, {
    connection: conn,
    name,
    concurrency: o.concurrency,
    lockDuration: o.lockDurationMs,
    stalledInterval: o.stalledIntervalMs,
    maxStalledCount: o.maxStalledCount,
    autorun: false,
  });
  worker.on('error', (e) => lost(e));
  void worker.run().catch((e: Error) => lost(e));
  await worker.waitUntilReady();
  return {
    name,
    url: t.text,
    async close() {
      await worker.close();
      leaving = true;
      await threads.close();
      conn.disconnect();
    },
    async abort() {
      leaving = true;
      // The connections first: a job whose thread is ended then fails on this side only.
      const closed = worker.close(true).catch(() => {});
      conn.disconnect();
      await threads.close();
      await closed;
    },
  };
}

/** A job in a few words, for the worker's lines: the workload, its parameters and the options set. */
export function describe(kind: JobKind, input: unknown): string {
  const spec = (kind === 'run' ? input : (input as CheckBatch).spec) as RunSpec | undefined;
  if (spec?.workload === undefined) return kind;
  const opts = Object.entries(spec.options ?? {})
    .filter(([, v]) => v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => (v === true ? `--${k}` : `--${k} ${Array.isArray(v) ? v.join(',') : String(v)}`));
  const words = [spec.workload, ...spec.params, ...opts];
  if (kind === 'check') words.unshift('check'), words.push(`schedules ${(input as CheckBatch).from}..${(input as CheckBatch).to - 1}`);
  return words.join(' ');
}

/** The job a thread runs, and who waits for it. */
interface Slot {
  readonly w: Thread;
  job?: { readonly index: number; readonly done: (r: QueueJobResult) => void; readonly fail: (e: Error) => void; readonly progress?: (data: unknown) => void };
}

/** Worker threads of pool.ts's worker.js, started as jobs come (at most `max`: the bullmq worker's concurrency). */
class Threads {
  private readonly idle: Slot[] = [];
  private readonly all = new Set<Slot>();
  private next = 0;
  /** Never set: a job that ended early would store a partial result as if whole. */
  private readonly setup: WorkerSetup = { stop: new StopFlag().buffer, syncCheck: getSyncCheckDefault(), invariantCheck: getInvariantCheckDefault(), progress: true };

  constructor(private readonly max: number) {}

  run(kind: JobKind, input: unknown, progress?: (data: unknown) => void): Promise<QueueJobResult> {
    const s = this.idle.pop() ?? this.spawn();
    const index = this.next++;
    return new Promise((resolve, reject) => {
      s.job = {
        index,
        progress,
        done: (r) => {
          s.job = undefined;
          this.idle.push(s);
          resolve(r);
        },
        fail: reject,
      };
      const m: JobMessage = { index, kind, input };
      s.w.postMessage(m);
    });
  }

  private spawn(): Slot {
    if (this.all.size >= this.max) throw new Error(`more than ${this.max} jobs at once`);
    const s: Slot = { w: new Thread(WORKER_URL) };
    s.w.postMessage(this.setup);
    this.all.add(s);
    s.w.on('message', (m: WorkerMessage) => {
      const j = s.job;
      if (m.type === 'ready' || j === undefined || m.index !== j.index) return;
      if (m.type === 'progress') j.progress?.(m.data);
      else j.done(m.type === 'done' ? { ok: true, value: encodeWire(m.value) } : { ok: false, error: encodeWire(m.error) as WireError });
    });
    const died = (e: Error): void => {
      if (!this.all.delete(s)) return;
      const i = this.idle.indexOf(s);
      if (i >= 0) this.idle.splice(i, 1);
      s.job?.fail(e);
      s.job = undefined;
    };
    s.w.on('error', (e) => died(e));
    s.w.on('exit', (code) => died(new Error(`its worker thread exited with code ${code}`)));
    return s;
  }

  async close(): Promise<void> {
    const all = [...this.all];
    this.all.clear();
    this.idle.length = 0;
    await Promise.allSettled(all.map((s) => s.w.terminate()));
  }
}
