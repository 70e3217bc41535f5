import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';

/** A run short enough for a test, with per-seed variance (jittered costs) so -r's noise shows. */
const RUN = ['--cpus', '2', 'page_fault1', 'threads=2', 'iterations=1', 'size=256K'];

/** The same command with --jobs 1 (in this thread, one run after another) and --jobs 2 (the pool). */
async function both(args: readonly string[]): Promise<[Awaited<ReturnType<typeof spfperf>>, Awaited<ReturnType<typeof spfperf>>]> {
  return [await spfperf(['stat', '--jobs', '1', ...args]), await spfperf(['stat', '--jobs', '2', ...args])];
}

describe('stat -r and --compare on the worker pool (--jobs)', () => {
  it('-r 3 prints the same bytes with --jobs 1 and --jobs 2, in every format (with --per-thread and --vmstat)', async () => {
    for (const format of [['--per-thread', '--vmstat'], ['-x', ';', '--per-thread'], ['-j', '--vmstat']]) {
      const [serial, pooled] = await both(['-r', '3', '-e', 'faults,task-clock,pagefault:*', ...format, ...RUN]);
      expect(serial.status).toBe(0);
      expect(pooled.status).toBe(0);
      expect(pooled.stderr).toBe(serial.stderr);
      expect(pooled.stdout).toBe(serial.stdout);
    }
  });

  it('--save writes the same document', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-jobs-'));
    const [a, b] = [join(dir, 'serial.json'), join(dir, 'pooled.json')];
    await spfperf(['stat', '--jobs', '1', '-r', '3', '--save', a, ...RUN]);
    await spfperf(['stat', '--jobs', '2', '-r', '3', '--save', b, ...RUN]);
    const saved = readFileSync(a, 'utf8');
    const runs = JSON.parse(saved).runs as { seed: number; elapsed: number }[];
    expect(runs.map((r) => r.seed)).toEqual([1, 2, 3]);
    // The runs differ from seed to seed, so a run missing or out of place would show.
    expect(new Set(runs.map((r) => r.elapsed)).size).toBe(3);
    expect(readFileSync(b, 'utf8')).toBe(saved);
  });

  it('--compare prints the same diff table', async () => {
    const [serial, pooled] = await both(['--compare', 'base,spf', '-r', '2', ...RUN]);
    expect(serial.status).toBe(0);
    expect(serial.stdout).toContain('spf');
    expect(pooled.stdout).toBe(serial.stdout);
    expect(pooled.stderr).toBe(serial.stderr);
  });

  it('a run that fails in a worker: the same message and exit status as in this thread', async () => {
    const [serial, pooled] = await both(['-r', '3', '--cpus', '1', 'fixtures/workloads/runtime-error.spf']);
    expect(serial.status).toBe(3);
    expect(serial.stderr).toBe('spfperf: fixtures/workloads/runtime-error.spf:6:3: mprotect failed: ENOMEM\n  mprotect a r\n  ^\n');
    expect(pooled.status).toBe(serial.status);
    expect(pooled.stderr).toBe(serial.stderr);
  });

  it('an invariant violation in a worker: the same one-line head and exit status 4 as in this thread', async () => {
    const [serial, pooled] = await both(['-r', '2', '--cpus', '1', 'fixtures/workloads/wrong-expect.spf']);
    expect(serial.status).toBe(4);
    expect(serial.stderr).toMatch(/^spfperf: invariant violated: read-sees-last-write by wrong-expect\/1000 in do_anonymous_page at 0x[0-9a-f]+ \(\d+ ns\): a read of the word at 0x[0-9a-f]+ saw 1, expected 2 \(pfn \d+, filled by do_anonymous_page at \d+ ns\)\n$/);
    expect(pooled.status).toBe(serial.status);
    expect(pooled.stderr).toBe(serial.stderr);
  });

  it('a process killed by a signal in each run: the same lines, in the runs\' order', async () => {
    const [serial, pooled] = await both(['-r', '3', '-e', 'faults', '--cpus', '1', 'fixtures/workloads/segv.spf']);
    expect(serial.status).toBe(0);
    expect(serial.stderr.match(/Segmentation fault/g)).toHaveLength(3);
    expect(pooled.stderr).toBe(serial.stderr);
  });

  it('a seed that cannot be prepared fails after the runs before it, as the serial loop does', async () => {
    const [serial, pooled] = await both(['-r', '2', '--seed', String(2 ** 32 - 1), '-e', 'faults', '--cpus', '1', 'fixtures/workloads/segv.spf']);
    expect(serial.status).toBe(1);
    expect(serial.stderr).toMatch(/Segmentation fault.*\nspfperf: option '--seed': 4294967296 is out of range \(0\.\.4294967295\)\n$/);
    expect(pooled.stderr).toBe(serial.stderr);
    expect(pooled.status).toBe(1);
  });

  it('--jobs takes a whole number from 1 (not -j: that is --json, as in perf stat)', async () => {
    for (const [v, msg] of [['0', "0 is out of range (1..1024)"], ['two', "'two' is not a whole number"], ['-1', "'-1' is not a whole number"]]) {
      const r = await spfperf(['stat', '--jobs', v, ...RUN]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`spfperf: option '--jobs': ${msg}\n`);
    }
    const j = await spfperf(['stat', '-j', '-e', 'faults', ...RUN]);
    expect(j.status).toBe(0);
    expect(JSON.parse(j.stderr.split('\n')[0])).toMatchObject({ event: 'faults' });
  });

  it('Ctrl-C: the runs under way stop with their counts, no more start, and the counts so far are printed', async () => {
    // Pressed a turn of the event loop after stat subscribes: the first two runs (one per worker)
    // have been handed out by then.
    const onInterrupt = (handler: () => void): (() => void) => {
      setImmediate(handler);
      return () => {};
    };
    const long = ['--cpus', '4', 'ebizzy', 'threads=4', 'seconds=10s'];
    const r = await spfperf(['stat', '--jobs', '2', '-r', '4', '-e', 'faults', ...long], { onInterrupt });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("Performance counter stats for 'ebizzy threads=4 seconds=10s' (2 runs):");
    const elapsed = Number(/\n +([\d.]+) \+- [\d.]+ seconds time elapsed/.exec(r.stderr)?.[1]);
    expect(elapsed).toBeGreaterThan(0);
    expect(elapsed).toBeLessThan(10);
    // --compare: a config none of whose runs had started still gets its first run, stopped at once.
    const c = await spfperf(['stat', '--jobs', '2', '-r', '2', '--compare', 'base,spf', ...long], { onInterrupt });
    expect(c.status).toBe(0);
    expect(c.stdout).toMatch(/base/);
    expect(c.stdout).toMatch(/spf/);
  });
});

describe('SPFPERF_SIM_LIMIT_NS: the fuzz tests\' cap on a run\'s simulated time', () => {
  const env = (v?: string) => ({ ...process.env, SPFPERF_DEBUG: undefined, SPFPERF_SIM_LIMIT_NS: v });

  it('stops the run there, says so, and prints what it counted', async () => {
    const args = ['stat', '-e', 'faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=64M'];
    const whole = await spfperf(args, { env: env() });
    const cut = await spfperf(args, { env: env('100000') });
    expect([whole.status, cut.status]).toEqual([0, 0]);
    expect(whole.stderr).not.toMatch(/SPFPERF_SIM_LIMIT_NS/);
    expect(cut.stderr).toMatch(/^spfperf: run stopped at SPFPERF_SIM_LIMIT_NS=100000 ns of simulated time$/m);
    const count = (s: string): number => Number(/^\s*(\d+)\s+faults/m.exec(s)![1]);
    expect(count(whole.stderr)).toBe(16384);
    expect(count(cut.stderr)).toBeGreaterThan(0);
    expect(count(cut.stderr)).toBeLessThan(200);
  });

  it('refuses a value that is not a positive number (exit 1, one line)', async () => {
    const r = await spfperf(['stat', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K'], { env: env('-5') });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("spfperf: SPFPERF_SIM_LIMIT_NS: '-5' is not a positive number of nanoseconds\n");
  });
});
