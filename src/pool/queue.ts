/**
 * The pool's jobs on a job queue (BullMQ on a Redis server), taken by `spfperf worker` processes on
 * any number of hosts (queue-worker.ts; docs/fleet.md): mapPool()'s semantics over the network.
 *
 *   const { results, error } = await mapQueue('redis://fleet:6379/0', 'run', specs, { stop, onProgress });
 *
 * - One well-known queue (QUEUE_NAME, `spfperf`) that every worker watches; a call is a sweep with
 *   a unique id, and its jobs are `<sweep id>-<index>`, each carrying {kind, input, spfperfVersion}.
 *   A worker of another spfperf version refuses the job (it fails, with the worker's reason).
 * - Results come back in the jobs' order, as mapPool()'s do: a job's input and result cross as
 *   JSON with what a structured clone keeps (wire-value.ts), so they equal a local run's. A job's
 *   error comes back as its class (wire-error.ts); a job the queue itself failed (refused, or its
 *   workers died too often) is a UsageError saying why.
 * - Results are collected from the queue's events (QueueEvents), and, every `reconcileMs`, from
 *   the jobs still outstanding (an event missed, e.g. trimmed from the stream); a job is counted
 *   once, by its id, however often its completion is seen.
 * - A worker that dies (killed, its host gone) stops renewing its job's lock; another worker's
 *   stalled-job check puts the job back on the queue (BullMQ's stalled-job detection, run by the
 *   workers: its interval and limit are the workers' options, queue-worker.ts), and another
 *   worker runs it.
 * - Fail fast as mapPool(): once job i fails, the waiting jobs after it are taken off the queue;
 *   the earlier ones are waited for. A StopFlag takes every waiting job off the queue; the
 *   running ones run to their end on their workers (which are not told) and are waited for.
 * - At the end the sweep's jobs are removed (those still running after a failure are removed by
 *   the queue a day after they end: removeOnComplete's age).
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Queue as BullQueue, QueueEvents as BullQueueEvents } from 'bullmq';
import { UsageError } from '../errors.js';
import type { JobInput, JobKind, JobOutput } from './jobs.js';
import { outcomeOf, type PoolOutcome, type Settled, type StopFlag } from './pool.js';
import { fromWire, type WireError } from './wire-error.js';
import { decodeWire, encodeWire } from './wire-value.js';
import { connectRedis, parseRedisUrl, type RedisTarget } from './redis.js';

/** The queue every worker watches. */
export const QUEUE_NAME = 'spfperf';

/** This spfperf's version: a job carries it, a worker of another version refuses the job. */
export const SPFPERF_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** What a job carries on the queue. */
export interface QueueJobData {
  readonly sweep: string;
  readonly index: number;
  readonly kind: JobKind;
  /** The job's input, encodeWire()d. */
  readonly input: unknown;
  readonly spfperfVersion: string;
  /** Whether the sweep wants the job's progress reports. */
  readonly progress: boolean;
}

/** A job's return value on the queue: its result (encodeWire()d) or its error. */
export type QueueJobResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireError };

export interface QueueOptions {
  readonly stop?: StopFlag;
  /** A job's progress reports (at most one a second from its worker, queue-worker.ts). */
  readonly onProgress?: (index: number, data: unknown) => void;
  /** Each job's outcome, as it ends (in the order they end). */
  readonly onSettled?: (index: number, outcome: Settled<unknown>) => void;
  /** The jobs are on the queue: the sweep's id, and how many workers watch the queue now. */
  readonly onQueued?: (info: { readonly sweep: string; readonly workers: number; readonly url: string }) => void;
  /** A job a worker started; `retry` when it had started before (its worker died). */
  readonly onActive?: (index: number, retry: boolean) => void;
  /** The queue's name (default QUEUE_NAME). */
  readonly queueName?: string;
  /** The version the jobs carry (default this spfperf's; a test gives another to see the refusal). */
  readonly version?: string;
  /** How often the outstanding jobs are looked up besides the events, ms (default 5000). */
  readonly reconcileMs?: number;
}

/** mapPool() on the queue at `url`: the results in job order, up to the first failure. */
export async function mapQueue<K extends JobKind>(url: string, kind: K, inputs: readonly JobInput<K>[], o: QueueOptions = {}): Promise<PoolOutcome<JobOutput<K>>> {
  return outcomeOf(await drive(parseRedisUrl(url), kind, inputs, o, true));
}

/** settlePool() on the queue: every job's outcome in job order; undefined for one that did not run (stopped). */
export async function settleQueue<K extends JobKind>(url: string, kind: K, inputs: readonly JobInput<K>[], o: QueueOptions = {}): Promise<(Settled<JobOutput<K>> | undefined)[]> {
  return (await drive(parseRedisUrl(url), kind, inputs, o, false)) as (Settled<JobOutput<K>> | undefined)[];
}

/** Jobs added to Redis in one call. */
const ADD_BATCH = 500;
/** Outstanding jobs looked up in one round of reconcile. */
const RECONCILE_BATCH = 500;
/** A finished job left behind (a failure's later jobs still running) is removed this long after it ends, s. */
const LEFTOVER_AGE_S = 24 * 3600;

async function drive(t: RedisTarget, kind: JobKind, inputs: readonly unknown[], o: QueueOptions, failFast: boolean): Promise<(Settled<unknown> | undefined)[]> {
  const n = inputs.length;
  const out: (Settled<unknown> | undefined)[] = inputs.map(() => undefined);
  if (n === 0) return out;
  let lost: Error | undefined;
  // Once up, a lost server is waited for ~25 s (15 attempts, 0.2 s, 0.4 s, ... apart), then the sweep fails.
  const conn = await connectRedis(t, { maxDelayMs: 10_000, attempts: 15 }, (e) => (lost = e));
  const { Queue, QueueEvents, Job } = await import('bullmq');
  const name = o.queueName ?? QUEUE_NAME;
  const queue: BullQueue = new Queue(name, { connection: conn });
  // The events from now on, by the server's clock (an events stream id is its milliseconds): none
  // of the jobs' events, added next, can be before, even if the first read comes after them.
  const [sec, usec] = await conn.time();
  const events: BullQueueEvents = new QueueEvents(name, { connection: conn, autorun: false, lastEventId: `${Number(sec) * 1000 + Math.floor(Number(usec) / 1000) - 1}-0` });
  const quiet = (): void => {};
  queue.on('error', quiet);
  events.on('error', quiet);
  try {
    return await collect();
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
    conn.disconnect();
  }

  async function collect(): Promise<(Settled<unknown> | undefined)[]> {
    const sweep = randomUUID();
    const prefix = `${sweep}-`;
    const idOf = (i: number): string => `${prefix}${i}`;
    const indexOf = (id: string | undefined): number => {
      if (id === undefined || !id.startsWith(prefix)) return -1;
      const i = Number(id.slice(prefix.length));
      return Number.isInteger(i) && i >= 0 && i < n ? i : -1;
    };
    /** Jobs taken off the queue before they started (stopped, or after a failure). */
    const removed = new Set<number>();
    const started = new Set<number>();
    let firstFailed = Infinity;
    let stopping = false;

    const record = (i: number, r: Settled<unknown>): void => {
      if (out[i] !== undefined) return; // seen before: a job is counted once
      out[i] = r;
      removed.delete(i);
      o.onSettled?.(i, r);
      if (!r.ok && failFast && i < firstFailed) {
        firstFailed = i;
        void takeOff(i + 1);
      }
    };
    const completed = (i: number, rv: unknown): void => {
      const r = rv as QueueJobResult;
      if (r?.ok === true) record(i, { ok: true, value: decodeWire(r.value) });
      else if (r?.ok === false) record(i, { ok: false, error: fromWire(decodeWire(r.error) as WireError) });
      else record(i, { ok: false, error: new UsageError(`job ${i} on the queue: its worker returned no result`) });
    };
    const failed = (i: number, reason: string | undefined): void => {
      const why = /stalled more than allowable limit/.test(reason ?? '') ? `its workers died while running it, more often than the workers' --max-stalled allows (${reason})` : (reason ?? 'failed');
      record(i, { ok: false, error: new UsageError(`job ${i} on the queue: ${why}`) });
    };
    /** Take the waiting jobs from `from` on off the queue (a running one cannot be: it runs on). */
    const takeOff = async (from: number): Promise<void> => {
      const ids: number[] = [];
      for (let j = from; j < n; j++) if (out[j] === undefined && !removed.has(j)) ids.push(j);
      await Promise.all(
        ids.map(async (j) => {
          if ((await queue.remove(idOf(j)).catch(() => 0)) === 1 && out[j] === undefined) removed.add(j);
        }),
      );
      maybeEnd();
    };

    let end: (() => void) | undefined;
    const ended = new Promise<void>((res) => (end = res));
    const wanted = (i: number): boolean => i <= firstFailed || !failFast;
    const maybeEnd = (): void => {
      for (let i = 0; i < n; i++) if (wanted(i) && out[i] === undefined && !removed.has(i)) return;
      end?.();
    };

    events.on('completed', ({ jobId, returnvalue }) => {
      const i = indexOf(jobId);
      if (i < 0) return;
      // A return value too large for the event stream comes as the job's own (reconcile()).
      if (returnvalue === undefined || returnvalue === null) void lookUp([i]);
      else completed(i, returnvalue);
      maybeEnd();
    });
    events.on('failed', ({ jobId, failedReason }) => {
      const i = indexOf(jobId);
      if (i < 0) return;
      failed(i, failedReason);
      maybeEnd();
    });
    events.on('active', ({ jobId }) => {
      const i = indexOf(jobId);
      if (i < 0 || out[i] !== undefined) return;
      o.onActive?.(i, started.has(i));
      started.add(i);
    });
    if (o.onProgress !== undefined) {
      const onProgress = o.onProgress;
      events.on('progress', ({ jobId, data }) => {
        const i = indexOf(jobId);
        if (i >= 0 && out[i] === undefined) onProgress(i, decodeWire(data));
      });
    }

    /** Look up jobs by id: those that ended are recorded (an event may have been missed). */
    const lookUp = async (ids: readonly number[]): Promise<void> => {
      await Promise.all(
        ids.map(async (i) => {
          const job = await Job.fromId(queue, idOf(i));
          if (out[i] !== undefined) return;
          if (job === undefined) {
            if (!removed.has(i)) record(i, { ok: false, error: new UsageError(`job ${i} on the queue: it was removed from queue '${name}' by someone else`) });
          } else if (job.finishedOn !== undefined && job.finishedOn !== null) {
            if (job.failedReason !== undefined && job.failedReason !== null && job.failedReason !== '') failed(i, job.failedReason);
            else completed(i, job.returnvalue);
          }
        }),
      );
      maybeEnd();
    };

    // Listen before the jobs are added: no event of theirs can come before.
    void events.run().catch(quiet);
    await events.waitUntilReady();
    for (let from = 0; from < n; from += ADD_BATCH) {
      const batch = inputs.slice(from, from + ADD_BATCH).map((input, k) => {
        const index = from + k;
        const data: QueueJobData = { sweep, index, kind, input: encodeWire(input), spfperfVersion: o.version ?? SPFPERF_VERSION, progress: o.onProgress !== undefined };
        return { name: kind, data, opts: { jobId: idOf(index), attempts: 1, removeOnComplete: { age: LEFTOVER_AGE_S }, removeOnFail: { age: LEFTOVER_AGE_S } } };
      });
      await queue.addBulk(batch);
    }
    o.onQueued?.({ sweep, workers: await queue.getWorkersCount().catch(() => 0), url: t.text });

    const reconcileMs = o.reconcileMs ?? 5000;
    let lastReconcile = Date.now();
    let busy = false;
    let cursor = 0;
    const tick = setInterval(() => {
      if (lost !== undefined && conn.status === 'end') end?.();
      if (o.stop?.isSet === true && !stopping) {
        stopping = true;
        void takeOff(0);
      }
      if (!busy && Date.now() - lastReconcile >= reconcileMs) {
        busy = true;
        // At most RECONCILE_BATCH jobs a round, the outstanding ones in turn.
        const todo: number[] = [];
        for (let k = 0; k < n && todo.length < RECONCILE_BATCH; k++) {
          const i = (cursor + k) % n;
          if (wanted(i) && out[i] === undefined && !removed.has(i)) todo.push(i);
        }
        cursor = todo.length > 0 ? (todo[todo.length - 1] + 1) % n : 0;
        void lookUp(todo)
          .catch(quiet)
          .finally(() => {
            busy = false;
            lastReconcile = Date.now();
          });
      }
    }, 100);
    try {
      await ended;
    } finally {
      clearInterval(tick);
    }
    if (conn.status === 'end') throw new UsageError(`lost the connection to redis at ${t.text} (option '${t.option}'): ${lost?.message.split('\n')[0] ?? 'closed'}`);
    // The sweep's jobs off the queue: its results are in.
    await Promise.all(inputs.map((_, i) => queue.remove(idOf(i)).catch(() => 0)));
    return out.map((s, i) => (wanted(i) ? s : undefined));
  }
}
