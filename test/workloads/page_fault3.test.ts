/**
 * workloads/page_fault3.spf (will-it-scale page_fault3): writes to a shared mapping of a tmpfs
 * file dirty the page cache; the first write to a clean page retries (2 pgfault per page) unless
 * VM_FAULT_COMPLETED.
 */
import { describe, expect, test } from 'vitest';
import { pids, runShipped, totals } from './helpers.js';

const PAGES = (16 * 1024 * 1024) / 4096;
const ONE = ['threads=1', 'iterations=1', 'size=16M'];

describe('page_fault3', () => {
  test('first touch: one perf fault per page, but two passes through handle_mm_fault (the retry)', () => {
    const r = runShipped('page_fault3', ONE, { cpus: '1' });
    const t = totals(r);
    expect(t.faults).toBe(PAGES);
    expect(t.pgfault).toBe(2 * PAGES);
    // A retried fault is accounted once, as major (mm_account_fault), though there was no I/O.
    expect(t.major).toBe(PAGES);
    expect(t.minor).toBe(0);
    expect(t.pgmajfault).toBe(0);
    // Shared: the file's pages are mapped, not copied; they stay cached after munmap.
    expect(t.pgalloc).toBeLessThan(PAGES + 64);
    expect(t.pgalloc - t.pgfree).toBeGreaterThanOrEqual(PAGES);
  });

  test('fault_completed=y: no retry, one pgfault per page', () => {
    const t = totals(runShipped('page_fault3', ONE, { cpus: '1', config: ['fault_completed=y'] }));
    expect(t.faults).toBe(PAGES);
    expect(t.pgfault).toBe(PAGES);
    expect(t.major).toBe(0);
  });

  test('a second round finds the pages cached and already dirty: no allocation, no retry', () => {
    const one = totals(runShipped('page_fault3', ONE, { cpus: '1' }));
    const two = totals(runShipped('page_fault3', ['threads=1', 'iterations=2', 'size=16M'], { cpus: '1' }));
    expect(two.faults).toBe(2 * PAGES);
    expect(two.pgfault - one.pgfault).toBe(PAGES);
    expect(two.pgalloc - one.pgalloc).toBeLessThan(64); // page tables only
  });

  test('mode=processes: a process per task', () => {
    const r = runShipped('page_fault3', ['threads=2', 'iterations=1', 'size=4M', 'mode=processes'], { cpus: '2' });
    expect(pids(r)).toHaveLength(3);
    expect(totals(r).faults).toBe(2 * 1024);
  });
});
