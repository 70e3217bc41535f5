import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { freePort, HAVE_REDIS, startRedis, type RedisServer } from '../helpers/redis-server.js';
import { mapQueue, SPFPERF_VERSION } from '../../src/pool/queue.js';
import { runSpecOf } from '../../src/pool/run-job.js';
import { STALLED_DEFAULTS } from '../../src/pool/queue-worker.js';
import type { StopSignal } from '../../src/io.js';

describe('spfperf worker: bad input', () => {
  test('no --queue, a bad URL, a bad number: one line naming the option, exit 1', async () => {
    expect(await spfperf(['worker'])).toEqual({ status: 1, stdout: '', stderr: "spfperf: option '--queue <url>' is required (redis://HOST:PORT/DB)\n" });
    expect(await spfperf(['worker', '--queue', 'http://fleet/0'])).toEqual({ status: 1, stdout: '', stderr: "spfperf: option '--queue': 'http://fleet/0' is not a redis URL (scheme http) (expected redis://HOST:PORT/DB)\n" });
    expect(await spfperf(['worker', '--queue', 'redis://fleet/0', '--concurrency', '0'])).toEqual({ status: 1, stdout: '', stderr: "spfperf: option '--concurrency': 0 is out of range (1..1024)\n" });
  });

  test('an unreachable server: one line saying so, exit 1, no retries', async () => {
    const port = await freePort();
    expect(await spfperf(['worker', '--queue', `redis://127.0.0.1:${port}/2`])).toEqual({
      status: 1,
      stdout: '',
      stderr: `spfperf: cannot reach redis at redis://127.0.0.1:${port}/2 (option '--queue'): connect ECONNREFUSED 127.0.0.1:${port}\n`,
    });
  });

  test('the help gives the stalled-job defaults the worker runs with', async () => {
    const help = (await spfperf(['worker', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(`a dead worker's job waits (default ${STALLED_DEFAULTS.lockDurationMs})`);
    expect(help).toContain(`whose worker died (default ${STALLED_DEFAULTS.stalledIntervalMs})`);
    expect(help).toContain(`before it fails (default ${STALLED_DEFAULTS.maxStalledCount})`);
  });
});

(HAVE_REDIS ? describe : describe.skip)(`spfperf worker on a real redis-server${HAVE_REDIS ? '' : ' (skipped: redis-server is not installed here)'}`, () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  /** A worker command in this process, and the Ctrl-C/SIGTERM it subscribed to. */
  const start = (args: string[]): { done: ReturnType<typeof spfperf>; signal: (s: StopSignal) => void } => {
    let handler: ((s: StopSignal) => void) | undefined;
    let signals: readonly StopSignal[] = [];
    const done = spfperf(['worker', '--queue', redis.url, ...args], {
      onInterrupt: (h, s) => {
        handler = h;
        signals = s ?? ['SIGINT'];
        return () => (handler = undefined);
      },
    });
    return {
      done,
      signal: (s) => {
        expect(signals).toContain(s);
        handler?.(s);
      },
    };
  };

  test('one line per job on stderr; SIGTERM: the running jobs finish, exit 0', async () => {
    const w = start(['--concurrency', '1']);
    const specs = [1, 2].map((s) => runSpecOf('page_fault1', ['threads=2', 'iterations=1', 'size=256K'], { cpus: '2', seed: String(s) }));
    const r = await mapQueue(redis.url, 'run', specs);
    expect(r.results).toHaveLength(2);
    w.signal('SIGTERM');
    const { status, stderr } = await w.done;
    expect(status).toBe(0);
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^spfperf worker: \\S+-\\d+ runs the jobs of spfperf ${SPFPERF_VERSION.replace(/\./g, '\\.')} from ${redis.url}, 1 at once \\(Ctrl-C or SIGTERM to stop\\)$`));
    expect(lines.slice(1, 3).map((l) => l.replace(/^spfperf worker: [0-9a-f]{4}…-(\d) (.*): done in \d+\.\d\d s$/, '$1 $2')).sort()).toEqual([
      '0 page_fault1 threads=2 iterations=1 size=256K --cpus 2 --seed 1',
      '1 page_fault1 threads=2 iterations=1 size=256K --cpus 2 --seed 2',
    ]);
    expect(lines[3]).toBe('spfperf worker: stopping after the running jobs (SIGTERM again to leave them to other workers)');
    expect(lines).toHaveLength(4);
  });

  test('-q: no line per job; a second Ctrl-C leaves at once (130)', async () => {
    const w = start(['-q', '--concurrency', '1']);
    const r = await mapQueue(redis.url, 'run', [runSpecOf('page_fault1', ['threads=1', 'iterations=1', 'size=256K'], { cpus: '1', seed: '1' })]);
    expect(r.error).toBeUndefined();
    w.signal('SIGINT');
    w.signal('SIGINT');
    expect(await w.done).toEqual({ status: 130, stdout: '', stderr: 'spfperf: the running jobs go back on the queue for other workers\n' });
  });
});
