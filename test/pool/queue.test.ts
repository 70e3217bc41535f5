import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Redis } from 'ioredis';
import { Job, Queue, QueueEvents } from 'bullmq';
import { mapPool, StopFlag } from '../../src/pool/pool.js';
import type { RunProgress } from '../../src/sim/run.js';
import { mapQueue, QUEUE_NAME, settleQueue, SPFPERF_VERSION } from '../../src/pool/queue.js';
import { startFleetWorker, type FleetWorker } from '../../src/pool/queue-worker.js';
import { runSpecOf, type RunSpec } from '../../src/pool/run-job.js';
import { UsageError, WorkloadSyntaxError } from '../../src/errors.js';
import { spfperf } from '../helpers/cli.js';
import { freePort, HAVE_REDIS, startRedis, startWorker, stopProcess, type RedisServer } from '../helpers/redis-server.js';

const spec = (seed: number, size = '256K', workload = 'page_fault1', iterations = 1): RunSpec => runSpecOf(workload, ['threads=2', `iterations=${iterations}`, `size=${size}`], { cpus: '2', seed: String(seed) });

describe('the job queue without a server', () => {
  test('a bad URL is a UsageError naming --queue', async () => {
    for (const [url, why] of [
      ['http://127.0.0.1:6379/0', /is not a redis URL \(scheme http\)/],
      ['127.0.0.1:6379', /is not a redis URL|is not a URL/],
      ['redis://127.0.0.1:6379/zero', /has a database 'zero' that is not a number/],
      ['redis://127.0.0.1:99999/0', /is not a URL/],
    ] as const) {
      const e = await mapQueue(url, 'run', [spec(1)]).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UsageError);
      expect((e as Error).message).toMatch(/^option '--queue': /);
      expect((e as Error).message).toMatch(why);
      expect((e as Error).message).not.toContain('\n');
    }
  });

  test('an unreachable server is one line saying so', async () => {
    const port = await freePort();
    const e = await mapQueue(`redis://127.0.0.1:${port}/0`, 'run', [spec(1)]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toBe(`cannot reach redis at redis://127.0.0.1:${port}/0 (option '--queue'): connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});

// Skipped only where redis-server is not installed (CI installs it: .ci/run); on CI its absence fails.
const needRedis = HAVE_REDIS ? describe : describe.skip;
if (!HAVE_REDIS && process.env.CI !== undefined) {
  test('redis-server is installed on CI (.ci/run installs it)', () => {
    expect.fail('redis-server is not installed: .ci/run should have installed the Debian package');
  });
}

needRedis(`the job queue on a real redis-server${HAVE_REDIS ? '' : ' (skipped: redis-server is not installed here; apt-get install redis-server)'}`, () => {
  let redis: RedisServer;
  let conn: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    conn = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    conn?.disconnect();
    await redis?.stop();
  });

  /** The keys of a sweep's jobs still in Redis. */
  const leftovers = async (sweep: string): Promise<string[]> => conn.keys(`bull:${QUEUE_NAME}:${sweep}-*`);

  test('sweep --queue with two worker processes, one killed mid-run: every run done once, the output and files those of a local sweep, byte for byte', async () => {
    const stalled = ['--concurrency', '1', '--lock-duration', '1000', '--stalled-interval', '250'];
    const a = startWorker(redis.url, stalled);
    const b = startWorker(redis.url, stalled);
    const dirs = mkdtempSync(join(tmpdir(), 'spfperf-fleet-'));
    // 3 points x 2 seeds: 6 runs, each long enough (size=4M) that worker a is killed inside one.
    const grid = ['--cpus', '1,2,4', '--config', 'base', '-r', '2', 'page_fault1', 'threads=2', 'iterations=1', 'size=4M'];
    try {
      await Promise.all([a.line(/runs the jobs of/), b.line(/runs the jobs of/)]);

      // Watch the queue as a third party: which worker takes which job, and each job's completions.
      const queue = new Queue(QUEUE_NAME, { connection: conn });
      const events = new QueueEvents(QUEUE_NAME, { connection: conn });
      await events.waitUntilReady();
      const completions = new Map<string, number>();
      const stalledIds: string[] = [];
      let killed: string | undefined;
      const aName = `${hostname()}-${a.p.pid}`;
      events.on('completed', ({ jobId }) => completions.set(jobId, (completions.get(jobId) ?? 0) + 1));
      events.on('stalled', ({ jobId }) => stalledIds.push(jobId));
      // Worker a dies (SIGKILL) as soon as it is seen running a job: a job's 'active' event, not a timer.
      events.on('active', ({ jobId }) => {
        if (killed !== undefined) return;
        void Job.fromId(queue, jobId).then((job) => {
          if (killed === undefined && job?.processedBy === aName) {
            killed = jobId;
            a.p.kill('SIGKILL');
          }
        });
      });

      const remote = await spfperf(['sweep', '--queue', redis.url, '-o', join(dirs, 'remote'), ...grid]);
      await events.close();
      await queue.close();
      expect(remote.status).toBe(0);
      const sweep = /\(sweep ([^)]+)\)/.exec(remote.stderr)![1];
      expect(remote.stderr).toMatch(new RegExp(`^spfperf sweep: 6 runs on the queue at ${redis.url} \\(sweep ${sweep}\\), 2 workers watching it now$`, 'm'));

      // The same sweep on this machine's pool: the same table, the same index and point files.
      const local = await spfperf(['sweep', '--jobs', '2', '-o', join(dirs, 'local'), ...grid]);
      expect(remote.stdout).toBe(local.stdout);
      const files = ['sweep.json', ...readdirSync(join(dirs, 'local', 'points')).map((f) => join('points', f))];
      expect(files).toHaveLength(4);
      for (const f of files) expect(readFileSync(join(dirs, 'remote', f), 'utf8')).toBe(readFileSync(join(dirs, 'local', f), 'utf8'));

      // Worker a was killed while it ran a job; the job went back on the queue (stalled) and b ran it.
      expect(killed).toBeDefined();
      expect(await a.exited).toBeNull();
      expect(stalledIds).toContain(killed);
      const killedIndex = Number(killed!.slice(sweep.length + 1));
      expect(remote.stderr).toContain(`spfperf sweep: run ${killedIndex} started again: the worker that had it died`);
      expect(b.stderr()).toContain(`-${killedIndex} page_fault1`);
      // Every job completed once on the queue, and no job of the sweep is left in Redis.
      expect([...completions.keys()].filter((id) => id.startsWith(`${sweep}-`)).sort()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${sweep}-${i}`).sort());
      expect([...completions.values()].every((c) => c === 1)).toBe(true);
      expect(await leftovers(sweep)).toEqual([]);
    } finally {
      await Promise.all([stopProcess(a.p, 'SIGKILL'), stopProcess(b.p)]);
    }
    // The survivor stopped cleanly on SIGTERM.
    expect(await b.exited).toBe(0);
  });

  describe('with a worker in this process', () => {
    let w: FleetWorker;
    beforeAll(async () => {
      w = await startFleetWorker(redis.url, { concurrency: 2, lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1 });
    });
    afterAll(async () => w?.close());

    test('a job seen both in the events and in a lookup is counted once', async () => {
      const specs = [1, 2, 3, 4].map((s) => spec(s));
      const settled = new Map<number, number>();
      // reconcileMs 0: every outstanding job is looked up on every tick, besides its events.
      const r = await mapQueue(redis.url, 'run', specs, { reconcileMs: 0, onSettled: (i) => settled.set(i, (settled.get(i) ?? 0) + 1) });
      expect(r.results).toHaveLength(4);
      expect([...settled.entries()].sort()).toEqual([
        [0, 1],
        [1, 1],
        [2, 1],
        [3, 1],
      ]);
    });

    test('a job\'s error keeps its class; the jobs before it come back, as mapPool\'s', async () => {
      const specs = [spec(1), spec(2), spec(3, '256K', 'fixtures/workloads/bad-syntax.spf'), spec(4)];
      let sweep = '';
      const [remote, local] = [await mapQueue(redis.url, 'run', specs, { onQueued: (q) => (sweep = q.sweep) }), await mapPool('run', specs, { jobs: 1 })];
      expect(remote.error).toBeInstanceOf(WorkloadSyntaxError);
      expect((remote.error as WorkloadSyntaxError).render()).toBe((local.error as WorkloadSyntaxError).render());
      expect(JSON.stringify(remote.results)).toBe(JSON.stringify(local.results));
      // Removed: every job up to the failing one; a later one still running then is left to the queue's age limit.
      expect((await leftovers(sweep)).filter((k) => !/-3(:lock)?$/.test(k))).toEqual([]);
    });

    test('progress reaches the sweep with the job\'s index; a stop takes the waiting jobs off the queue', async () => {
      // Runs of more than one slice of runWorkloadAsync() (20000 events): they report progress.
      // 64M: long enough (65536 faults a run) that the worker has not run all six by the time the
      // first one's end comes back as an event and the stop takes the rest off (at 16M, once the
      // fault path got faster, a clean-clone CI run saw all six done).
      const specs = [1, 2, 3, 4, 5, 6].map((s) => spec(s, '64M', 'page_fault1', 2));
      const stop = new StopFlag();
      const progressOf = new Set<number>();
      let sweep = '';
      const out = await settleQueue(redis.url, 'run', specs, {
        stop,
        onQueued: (q) => (sweep = q.sweep),
        onProgress: (i, data) => {
          expect((data as RunProgress).faults).toBeGreaterThan(0);
          progressOf.add(i);
        },
        // Stop once the first job is done: the worker (2 at once) has not started them all.
        onSettled: () => stop.set(),
      });
      const done = out.flatMap((s, i) => (s === undefined ? [] : [i]));
      expect(done.length).toBeGreaterThanOrEqual(1);
      expect(done.length).toBeLessThan(specs.length);
      expect(out.every((s) => s === undefined || s.ok)).toBe(true);
      expect([...progressOf].every((i) => done.includes(i))).toBe(true);
      expect(progressOf.size).toBeGreaterThanOrEqual(1);
      expect(await leftovers(sweep)).toEqual([]);
    });

    test('a worker of another version refuses the job, and the sweep says why', async () => {
      const r = await mapQueue(redis.url, 'run', [spec(1)], { version: '0.0.0-other' });
      expect(r.results).toEqual([]);
      expect(r.error).toBeInstanceOf(UsageError);
      expect(r.error!.message).toBe(
        `job 0 on the queue: refused by worker ${w.name}: it runs spfperf ${SPFPERF_VERSION}, the job is of spfperf 0.0.0-other (run the sweep's version on every worker: docs/fleet.md)`,
      );
    });
  });
});
