/**
 * workloads/kernbench.spf: a make -j process tree of single-threaded compiler processes mapping
 * binaries and libraries from disk: major faults on the first reads, minor ones after; no
 * speculative faults.
 */
import { describe, expect, test } from 'vitest';
import { metric, pids, runShipped, totals } from './helpers.js';

const FAST = ['compile=1ms', 'heap=1M'];

describe('kernbench', () => {
  test('a cold page cache: the first job reads its binaries and libraries from disk, later jobs do not', () => {
    const one = totals(runShipped('kernbench', [...FAST, 'tasks=1', 'units=1', 'warm=0'], { cpus: '2' }));
    const three = totals(runShipped('kernbench', [...FAST, 'tasks=1', 'units=3', 'warm=0'], { cpus: '2' }));
    expect(one.major).toBeGreaterThan(20);
    expect(one.pgmajfault).toBeGreaterThan(20);
    // Two more jobs: many more faults, all minor (the page cache has the files).
    expect(three.major).toBe(one.major);
    expect(three.pgmajfault).toBe(one.pgmajfault);
    expect(three.minor - one.minor).toBeGreaterThan(1000);
  });

  test('warm=1: the warm-up job takes all the major faults; the parallel build only minor ones', () => {
    const cold = totals(runShipped('kernbench', [...FAST, 'tasks=1', 'units=1', 'warm=0'], { cpus: '2' }));
    const r = runShipped('kernbench', [...FAST, 'tasks=2', 'units=4'], { cpus: '2' });
    expect(totals(r).pgmajfault).toBe(cold.pgmajfault);
    // make + 2 slots + (1 warm-up + 4) jobs of driver, cc1 and as: 1 + 2 + 1 + 15 processes.
    expect(pids(r)).toHaveLength(19);
    // The metric is the timed build alone (timed with `now`): shorter than the whole run, which
    // also has make's start and the cold warm-up job.
    expect(metric(r, 'elapsed')).toBeGreaterThan(0);
    expect(metric(r, 'elapsed')).toBeLessThan(r.elapsedNs / 1e6);
    expect(r.signals).toEqual([]);
  });

  test('single-threaded processes: no speculative faults under SPF', () => {
    const t = totals(runShipped('kernbench', [...FAST, 'tasks=2', 'units=2'], { cpus: '2', config: ['dufour-v11'] }));
    expect(t.faults).toBeGreaterThan(1000);
    expect(t.spf).toBe(0);
  });
});
