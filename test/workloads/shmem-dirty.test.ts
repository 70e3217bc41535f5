/**
 * workloads/shmem-dirty.spf (Peter Xu's VM_FAULT_COMPLETED measurement): dirtying a shared shmem
 * mapping takes 2 pgfault per page before the patch and 1 after, and gets faster.
 */
import { describe, expect, test } from 'vitest';
import { metric, runShipped, totals } from './helpers.js';

const PAGES = (16 * 1024 * 1024) / 4096;

describe('shmem-dirty', () => {
  const base = runShipped('shmem-dirty', ['size=16M']);
  const completed = runShipped('shmem-dirty', ['size=16M'], { config: ['fault_completed=y'] });

  test('without fault_completed: every page retries (2 pgfault, one perf fault counted major)', () => {
    const t = totals(base);
    expect(base.counters.get('pages')).toBe(PAGES);
    expect(t.faults).toBe(PAGES);
    expect(t.pgfault).toBe(2 * PAGES);
    expect(t.major).toBe(PAGES);
    expect(t.pgmajfault).toBe(0); // no I/O: shmem
    // Every page of the file is allocated once, and stays in the page cache after munmap.
    expect(t.pgalloc).toBeGreaterThanOrEqual(PAGES);
    expect(t.pgalloc).toBeLessThan(PAGES + 64);
  });

  test('with fault_completed=y: 1 pgfault per page, all minor', () => {
    const t = totals(completed);
    expect(t.faults).toBe(PAGES);
    expect(t.pgfault).toBe(PAGES);
    expect(t.minor).toBe(PAGES);
    expect(t.major).toBe(0);
  });

  test('and the elapsed time (the metric, in ms) drops', () => {
    const before = metric(base, 'elapsed');
    const after = metric(completed, 'elapsed');
    expect(before).toBeCloseTo(base.elapsedNs / 1e6, 6);
    expect(after).toBeLessThan(before);
    expect(base.threads).toHaveLength(1); // single-threaded, as Peter's test
  });
});
