/**
 * random(), uniform() and choose() at run time: each thread draws from its own workload stream,
 * seeded by $seed and where the thread was created (src/sim/env.ts, Runner.childStream).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runWorkload } from '../../src/sim/run.js';
import { spfperf } from '../helpers/cli.js';
import { faults, inlineOptions, runInline } from './helpers.js';

/** Two threads map, touch and unmap buffers of 1 to 16 pages; the counters add up what they drew. */
const SIZES = `process {
  threads 2 {
    loop 20 {
      let n = random(1, 16)
      b = mmap n * 4K
      touch b write count touched
      munmap b
      count picked choose(1, 10, 100)
      count u uniform(0, 1)
    }
  }
}
`;

const drawn = (seed: number, extra: Parameters<typeof inlineOptions>[1] = {}, engineSeed?: number) => {
  const o = inlineOptions(SIZES, { ncpus: 2, seed, ...extra });
  const r = runWorkload(engineSeed === undefined ? o : { ...o, engineSeed });
  return Object.fromEntries(r.counters);
};

describe('random draws', () => {
  test('follow the workload seed', () => {
    const a = drawn(1);
    // 40 buffers of 1..16 pages: not all of one size, so the total lies strictly between.
    expect(a.touched).toBeGreaterThan(40);
    expect(a.touched).toBeLessThan(640);
    expect(Number.isInteger(a.touched)).toBe(true);
    expect(drawn(1)).toEqual(a);
    const others = [2, 3, 4].map((s) => JSON.stringify(drawn(s)));
    expect(new Set([JSON.stringify(a), ...others]).size).toBe(4);
  });

  test('a touch of each drawn buffer faults once per page it drew', () => {
    const r = runWorkload(inlineOptions(SIZES, { ncpus: 2, seed: 7 }));
    expect(faults(r).pf).toBe(r.counters.get('touched'));
  });

  test('do not follow the engine\'s seed (what spfperf check varies per schedule)', () => {
    const a = drawn(1);
    for (const engineSeed of [12345, 999]) {
      const { u, ...rest } = drawn(1, {}, engineSeed);
      const { u: ua, ...restA } = a;
      expect(rest).toEqual(restA);
      // The same draws, summed by the two threads in the order the schedule interleaves them:
      // floating-point addition is not associative, so only the last bits may differ.
      expect(u).toBeCloseTo(ua, 9);
    }
  });

  test('each thread has its own stream: another thread\'s draws do not shift them', () => {
    // Thread 1 draws an extra number first in the second script; thread 0's draws are the same.
    const one = (extra: string): number =>
      runInline(`process {\n  threads 2 {\n    ${extra}\n    if $tid == 0 {\n      count t0 random(1, 1000000)\n    }\n  }\n}\n`, { ncpus: 2 }).counters.get('t0')!;
    expect(one('let x = 1')).toBe(one('if $tid == 1 {\n      let x = random(1, 9)\n    }'));
  });

  test('threads and processes get different streams', () => {
    const r = runInline(
      'process count 2 {\n  count m random(0, 1T)\n  threads 2 {\n    if $tid == 0 {\n      count t0 random(0, 1T)\n    } else {\n      count t1 random(0, 1T)\n    }\n  }\n}\n',
      { ncpus: 2 },
    );
    const [m, t0, t1] = ['m', 't0', 't1'].map((c) => r.counters.get(c)!);
    expect(new Set([m, t0, t1]).size).toBe(3);
  });
});

describe('the command line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-random-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sizes.spf');
  writeFileSync(file, `metric "pages" = touched\n${SIZES}`);

  test('the same seed gives the same output byte for byte; another seed another run', async () => {
    const a = await spfperf(['stat', '-j', '--seed', '3', file]);
    const b = await spfperf(['stat', '-j', '--seed', '3', file]);
    const c = await spfperf(['stat', '-j', '--seed', '4', file]);
    expect(a.status).toBe(0);
    expect(b.stderr).toBe(a.stderr);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stderr).not.toBe(a.stderr);
  });

  test('a bad range at run time is a one-line error at the call, exit 3', async () => {
    const bad = join(dir, 'bad.spf');
    writeFileSync(bad, 'param lo = 5\nprocess {\n  compute random($lo, 2)\n}\n');
    const r = await spfperf(['stat', bad]);
    expect(r.status).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe(`spfperf: ${bad}:3:11: random(5, 2): the low bound is above the high bound`);
  });
});
