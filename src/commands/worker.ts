/**
 * spfperf worker: take the jobs of sweeps from a job queue on a Redis server and run them here
 * (src/pool/queue-worker.ts; docs/fleet.md). Any number of workers, on any hosts that reach the
 * server and run the same spfperf version.
 *
 *   $ spfperf worker --queue redis://fleet:6379/0 --concurrency 8
 *   spfperf worker: box7-4121 runs the jobs of spfperf 0.1.0 from redis://fleet:6379/0, 8 at once (Ctrl-C or SIGTERM to stop)
 *   spfperf worker: 3b1f…-0 page_fault1 size=16M --cpus 4 --config base --seed 1: done in 2.41 s
 *   spfperf worker: 3b1f…-1 page_fault1 size=16M --cpus 4 --config base --seed 2: done in 2.39 s
 *
 * One line per job on stderr (none with -q). The first Ctrl-C or SIGTERM takes no new job and
 * exits 0 once the running ones are done; a second exits at once (130/143), and the jobs it was
 * running go back on the queue for other workers when their locks expire.
 */
import { availableParallelism } from 'node:os';
import { InterruptedError, UsageError } from '../errors.js';
import type { CliIo, StopSignal } from '../io.js';
import { parseIntOption } from '../sim/setup.js';
import { STALLED_DEFAULTS, startFleetWorker, type FleetJobEvent } from '../pool/queue-worker.js';
import { SPFPERF_VERSION } from '../pool/queue.js';

export interface WorkerOptions {
  readonly queue?: string;
  readonly concurrency?: string;
  readonly quiet?: boolean;
  readonly lockDuration?: string;
  readonly stalledInterval?: string;
  readonly maxStalled?: string;
}

/** Most jobs at once a worker takes. */
const MAX_CONCURRENCY = 1024;
/** Longest lock duration or stalled interval, ms (a day). */
const MAX_MS = 86_400_000;

/** `3b1f2c4d-…-17` as `3b1f…-17`: the sweep by its first characters, the job's index in full. */
function shortId(id: string): string {
  const m = /^([0-9a-f]{4})[0-9a-f-]*-(\d+)$/.exec(id);
  return m === null ? id : `${m[1]}…-${m[2]}`;
}

function jobLine(e: FleetJobEvent): string | undefined {
  const head = `spfperf worker: ${shortId(e.id)} ${e.what}`;
  const s = ((e.ms ?? 0) / 1000).toFixed(2);
  switch (e.type) {
    case 'start':
      return undefined;
    case 'done':
      return `${head}: done in ${s} s`;
    case 'error':
      return `${head}: ended with an error in ${s} s (the sweep reports it): ${e.message}`;
    case 'refused':
      return `${head}: refused: ${e.message}`;
    case 'failed':
      return `${head}: failed: ${e.message}`;
  }
}

export async function run(o: WorkerOptions, io: CliIo): Promise<number> {
  if (o.queue === undefined) throw new UsageError(`option '--queue <url>' is required (redis://HOST:PORT/DB)`);
  const concurrency = o.concurrency !== undefined ? parseIntOption('--concurrency', o.concurrency, 1, MAX_CONCURRENCY) : availableParallelism();
  const lockDurationMs = o.lockDuration !== undefined ? parseIntOption('--lock-duration', o.lockDuration, 10, MAX_MS) : STALLED_DEFAULTS.lockDurationMs;
  const stalledIntervalMs = o.stalledInterval !== undefined ? parseIntOption('--stalled-interval', o.stalledInterval, 10, MAX_MS) : STALLED_DEFAULTS.stalledIntervalMs;
  const maxStalledCount = o.maxStalled !== undefined ? parseIntOption('--max-stalled', o.maxStalled, 0, 1000) : STALLED_DEFAULTS.maxStalledCount;
  const say = (line: string): void => void io.stderr.write(`${line}\n`);

  const w = await startFleetWorker(o.queue, {
    concurrency,
    lockDurationMs,
    stalledIntervalMs,
    maxStalledCount,
    onJob: (e) => {
      const line = o.quiet === true ? undefined : jobLine(e);
      if (line !== undefined) say(line);
    },
    onConnection: (up, why) => say(up ? `spfperf worker: connected to the queue again` : `spfperf worker: lost the queue's server (${why}); retrying`),
  });
  if (o.quiet !== true) say(`spfperf worker: ${w.name} runs the jobs of spfperf ${SPFPERF_VERSION} from ${w.url}, ${concurrency} at once (Ctrl-C or SIGTERM to stop)`);

  return new Promise<number>((resolve, reject) => {
    let stopping = false;
    const unsubscribe =
      io.onInterrupt?.(
        (signal: StopSignal) => {
          if (stopping) {
            unsubscribe();
            void w.abort();
            reject(new InterruptedError(signal, 'the running jobs go back on the queue for other workers'));
            return;
          }
          stopping = true;
          if (o.quiet !== true) say(`spfperf worker: stopping after the running jobs (${signal} again to leave them to other workers)`);
          w.close().then(
            () => {
              unsubscribe();
              resolve(0);
            },
            (e: unknown) => {
              unsubscribe();
              reject(e);
            },
          );
        },
        ['SIGINT', 'SIGTERM'],
      ) ?? (() => {});
  });
}
