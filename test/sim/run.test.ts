/**
 * The workload interpreter (src/sim/interp.ts): threads and barriers, timed loops, counters and
 * metrics, processes, run-time errors and deadlock detection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SimulationError } from '../../src/errors.js';
import { EV } from '../../src/events/catalog.js';
import { runWorkload, runWorkloadAsync, type RunResult } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';
import { faults, inlineOptions, runInline } from './helpers.js';

function proc(...body: string[]): string {
  return `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an exception');
}

const metric = (r: RunResult, name: string): number => r.metrics.find((m) => m.name === name)!.value;

describe('threads and barriers', () => {
  test('threads meeting at a barrier all get past it', () => {
    const r = runInline(proc('threads 4 {', '  compute ($tid + 1) * 100us', '  barrier', '  count after', '}', 'count joined'), { ncpus: 4 });
    expect(r.counters.get('after')).toBe(4);
    expect(r.counters.get('joined')).toBe(1);
    expect(r.threads).toHaveLength(5);
    expect(r.elapsedNs).toBeGreaterThanOrEqual(400_000);
  });

  test('a barrier holds early threads until the last one arrives', () => {
    // Thread 1 reaches the barrier at once and then loops for 500 us; thread 0 computes 1 ms
    // first. Only if the barrier really waits does thread 1's loop end after 1.5 ms.
    const src = proc(
      'threads 2 {',
      '  if $tid == 0 {', '    compute 1ms', '  }',
      '  barrier',
      '  if $tid == 1 {', '    loop for 500us {', '      compute 10us', '      count late', '    }', '  }',
      '}',
    );
    const r = runInline(src, { ncpus: 2 });
    expect(r.counters.get('late')).toBe(50);
    expect(r.elapsedNs).toBeGreaterThanOrEqual(1_500_000);
    expect(r.elapsedNs).toBeLessThan(1_700_000);
  });

  test('a barrier can be used again and again (one generation per round)', () => {
    const r = runInline(proc('threads 3 {', '  loop 5 {', '    compute ($tid + 1) * 10us', '    barrier', '    count rounds', '  }', '}'), { ncpus: 3 });
    expect(r.counters.get('rounds')).toBe(15);
    // Each round waits for the slowest thread (30 us).
    expect(r.elapsedNs).toBeGreaterThanOrEqual(5 * 30_000);
  });

  test('$tid and $nthreads are per thread; the parent waits for all of them', () => {
    const r = runInline(proc('threads 4 {', '  count tids $tid', '  count n $nthreads', '}', 'count tids 100'), { ncpus: 2 });
    expect(r.counters.get('tids')).toBe(0 + 1 + 2 + 3 + 100);
    expect(r.counters.get('n')).toBe(16);
  });

  test('more threads than CPUs share them by time slicing', () => {
    const r = runInline(proc('threads 4 {', '  compute 10ms', '  count done', '}'), { ncpus: 2 });
    expect(r.counters.get('done')).toBe(4);
    // 40 ms of work on 2 CPUs.
    expect(r.elapsedNs).toBeGreaterThanOrEqual(20_000_000);
    expect(r.elapsedNs).toBeLessThan(25_000_000);
    expect(r.userNs).toBeCloseTo(40_000_000, -3);
    expect(r.counts.total(EV.CONTEXT_SWITCHES)).toBeGreaterThan(4);
  });

  test('threads that would deadlock make the run fail, naming the stuck task', () => {
    const e = thrown(() => runInline(proc('threads 2 {', '  if $tid == 0 {', '    barrier', '  }', '}'), { ncpus: 2 }));
    expect(e).toBeInstanceOf(SimulationError);
    expect(e.message).toContain('will never run again');
    expect(e.message).toMatch(/inline\/1001 \(blocked\) waiting on barrier/);
    // The main thread waits for it in join.
    expect(e.message).toMatch(/inline\/1000 \(blocked\) waiting on join inline\/1001/);
  });
});

describe('loops', () => {
  test('loop for D stops once D of simulated time has passed', () => {
    const r = runInline(proc('loop for 1ms {', '  compute 10us', '  count it', '}'));
    expect(r.elapsedNs).toBeGreaterThanOrEqual(1_000_000);
    expect(r.elapsedNs).toBeLessThan(1_100_000);
    // The limit is checked before each iteration: 100 iterations of 10 us fill it exactly.
    expect(r.counters.get('it')).toBeGreaterThanOrEqual(100);
    expect(r.counters.get('it')).toBeLessThanOrEqual(101);
  });

  test('a timed loop finishes the iteration it started', () => {
    const r = runInline(proc('loop for 1ms {', '  compute 300us', '  count it', '}'));
    expect(r.counters.get('it')).toBe(4);
    expect(r.elapsedNs).toBeGreaterThanOrEqual(1_200_000);
  });

  test('loop N for D stops at whichever limit comes first; a count of 0 means no count limit', () => {
    const byCount = runInline(proc('loop 3 for 1ms {', '  compute 10us', '  count it', '}'));
    expect(byCount.counters.get('it')).toBe(3);
    const byTime = runInline(proc('loop 1000 for 100us {', '  compute 10us', '  count it', '}'));
    expect(byTime.counters.get('it')).toBe(10);
    const zero = runInline(proc('loop 0 for 100us {', '  compute 10us', '  count it', '}'));
    expect(zero.counters.get('it')).toBe(10);
  });

  test('loop N runs N times (0 times for 0, whole times for fractions)', () => {
    const r = runInline(proc('loop 7 {', '  count a', '}', 'loop 0 {', '  count b', '}', 'loop 2.9 {', '  count c', '}'));
    expect(r.counters.get('a')).toBe(7);
    expect(r.counters.get('b') ?? 0).toBe(0);
    expect(r.counters.get('c')).toBe(2);
  });

  test('nested loops, if/else and let', () => {
    const r = runInline(
      proc('let x = 0', 'loop 4 {', '  loop 3 {', '    count inner', '  }', '  if $seed == 1 {', '    count yes', '  } else {', '    count no', '  }', '}', 'let y = 5', 'count y y * 2'),
    );
    expect(r.counters.get('inner')).toBe(12);
    expect(r.counters.get('yes')).toBe(4);
    expect(r.counters.get('no') ?? 0).toBe(0);
    expect(r.counters.get('y')).toBe(10);
  });
});

describe('counters and metrics', () => {
  test('count adds 1 or an expression; touch ... count adds the accesses', () => {
    const r = runInline(proc('loop 3 {', '  count a', '  count b 2.5', '}', 'm = mmap 64K', 'touch m write count t', 'touch m read stride 1K count t'));
    expect(r.counters.get('a')).toBe(3);
    expect(r.counters.get('b')).toBe(7.5);
    expect(r.counters.get('t')).toBe(16 + 64);
  });

  test('a metric is evaluated from counters and elapsed seconds', () => {
    const src = 'param k = 3\nmetric "ops/s" = ops / elapsed\nmetric "scaled" unit "x" = ops * $k + $ncpus\n' + proc('loop 10 {', '  compute 50us', '  count ops 2', '}');
    const r = runInline(src, { ncpus: 2 });
    expect(r.counters.get('ops')).toBe(20);
    expect(metric(r, 'ops/s')).toBeCloseTo(20 / (r.elapsedNs / 1e9), 9);
    expect(metric(r, 'ops/s')).toBeGreaterThan(20 / 600e-6);
    expect(r.metrics[1]).toEqual({ name: 'scaled', unit: 'x', value: 20 * 3 + 2 });
    const r2 = runInline(src, { ncpus: 2, params: ['k=10'] });
    expect(metric(r2, 'scaled')).toBe(20 * 10 + 2);
  });

  test('counters are summed over processes', () => {
    const r = runInline('process count 3 {\n  count hits $pid - 999\n}\n', { ncpus: 3 });
    expect(r.counters.get('hits')).toBe(1 + 2 + 3);
    expect(r.threads.map((t) => t.pid)).toEqual([1000, 1001, 1002]);
  });

  test('a counter nobody bumped is 0 in a metric', () => {
    const r = runInline('metric "m" = never + 1\nprocess {\n  if 0 {\n    count never\n  }\n}\n');
    expect(metric(r, 'm')).toBe(1);
  });
});

describe('processes and address spaces', () => {
  test('each process has its own mm: the same mmap gets the same address in both', () => {
    const r = runInline('process count 2 {\n  a = mmap 1M\n  touch a write\n}\n', { ncpus: 2 });
    expect(faults(r).pf).toBe(512);
    expect(r.signals).toEqual([]);
  });

  test('threads share their process\'s regions', () => {
    const r = runInline(proc('a = mmap 1M', 'threads 4 {', '  touch a write offset $tid * 256K length 256K count t', '}', 'touch a read count t'), { ncpus: 4 });
    expect(r.counters.get('t')).toBe(256 + 256);
    // Each page faulted once, by the thread that wrote it; the read pass found them all present.
    expect(faults(r).pf).toBe(256);
    for (const t of r.threads.filter((x) => x.idx > 0)) expect(r.counts.of(t.idx, EV.PAGE_FAULTS)).toBe(64);
  });
});

describe('run-time errors', () => {
  test('a touch beyond the region is a SimulationError pointing at the statement', () => {
    const e = thrown(() => runInline(proc('a = mmap 16K', 'touch a write offset 8K length 16K')));
    expect(e).toBeInstanceOf(SimulationError);
    expect(e.message).toMatch(/^inline\.spf:3:3: range 8192\+16384 lies outside region 'a' \(16384 bytes\)/);
  });

  test('division by zero at run time is a SimulationError', () => {
    expect(() => runInline(proc('let z = 0', 'count c 1 / z'))).toThrow(SimulationError);
  });
});

describe('running a workload file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('prepareRun loads a script by path, resolves parameters and runs it', () => {
    const path = join(dir, 'mine.spf');
    writeFileSync(path, '# mine\nparam n = 3\nparam size = 64K\nmetric "pages/s" = p / elapsed\n' + proc('loop $n {', '  a = mmap $size', '  touch a write count p', '  munmap a', '}'));
    const p = prepareRun(path, ['n=5'], { cpus: '2', seed: '9' });
    expect(p.ncpus).toBe(2);
    expect(p.seed).toBe(9);
    expect(p.params.get('n')).toBe(5);
    const r = runWorkload(runOptionsOf(p));
    expect(r.counters.get('p')).toBe(5 * 16);
    expect(faults(r).pf).toBe(5 * 16);
    expect(metric(r, 'pages/s')).toBeCloseTo(80 / (r.elapsedNs / 1e9), 6);
  });
});

// Found by the CLI fuzz test (test/cli/fuzz.test.ts): a mutated app-launch touching a 62 GB
// mapping ran for a minute whatever the cap, and a loop whose rounds take no time could not be
// stopped by Ctrl-C (one engine step for the whole loop).
describe('stopping a run: its time limit, and loops whose rounds take no time', () => {
  test('stopAtNs stops a run at that simulated time, even a task running alone, as a stopped run', () => {
    const src = proc('a = mmap 64M rw private anon', 'touch a write');
    const whole = runWorkload(inlineOptions(src));
    const cut = runWorkload({ ...inlineOptions(src), stopAtNs: 100_000 });
    expect(whole.stopped).toBe(false);
    expect(cut.stopped).toBe(true);
    // 64 MiB is 16384 faults of ~1-2 us each: 100 us of them is a few dozen.
    expect(faults(whole).pf).toBe(16384);
    expect(faults(cut).pf).toBeGreaterThan(10);
    expect(faults(cut).pf).toBeLessThan(200);
  });

  test('a loop of rounds that take no time comes back to the event loop, so Ctrl-C stops it', async () => {
    let slices = 0;
    const r = await runWorkloadAsync(inlineOptions(proc('loop 1T {', '  count ops 1', '}')), { sliceItems: 100, onProgress: () => slices++, shouldStop: () => slices >= 2 });
    expect(r.stopped).toBe(true);
    expect(r.counters.get('ops')).toBeGreaterThan(0);
    expect(r.counters.get('ops')).toBeLessThan(1e6);
  });

  test('such a loop still runs to its end: no time and no context switch added', () => {
    const r = runInline(proc('loop 100000 {', '  count ops 1', '}'));
    expect(r.counters.get('ops')).toBe(100000);
    expect(r.elapsedNs).toBe(runInline(proc('count ops 1')).elapsedNs);
    expect(r.counts.total(EV.CONTEXT_SWITCHES)).toBe(0);
  });
});
