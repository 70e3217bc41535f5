/**
 * workloads/page_fault2.spf (will-it-scale page_fault2): writes to a private mapping of a tmpfs
 * file copy each file page (COW), so every op allocates, and the file's pages stay cached.
 */
import { describe, expect, test } from 'vitest';
import { pids, runShipped, totals } from './helpers.js';

const PAGES = (16 * 1024 * 1024) / 4096;

describe('page_fault2', () => {
  test('one round: a fault per page, each copying the file page into a new anonymous page', () => {
    const r = runShipped('page_fault2', ['threads=1', 'iterations=1', 'size=16M'], { cpus: '1' });
    const t = totals(r);
    expect(t.faults).toBe(PAGES);
    expect(t.minor).toBe(PAGES);
    expect(t.major).toBe(0); // tmpfs: no I/O
    expect(t.pgfault).toBe(PAGES); // a private (COW) fault does not retry
    // COW: the page-cache page and the private copy (plus page tables).
    expect(t.pgalloc).toBeGreaterThanOrEqual(2 * PAGES);
    expect(t.pgalloc).toBeLessThan(2 * PAGES + 64);
    // munmap frees the copies; the file's pages stay in its page cache.
    expect(t.pgalloc - t.pgfree).toBeGreaterThanOrEqual(PAGES);
    expect(r.counters.get('ops')).toBe(PAGES);
  });

  test('later rounds find the file pages cached: one allocation (the copy) per op', () => {
    const one = totals(runShipped('page_fault2', ['threads=1', 'iterations=1', 'size=16M'], { cpus: '1' }));
    const two = totals(runShipped('page_fault2', ['threads=1', 'iterations=2', 'size=16M'], { cpus: '1' }));
    expect(two.faults).toBe(2 * PAGES);
    const secondRound = two.pgalloc - one.pgalloc;
    expect(secondRound).toBeGreaterThanOrEqual(PAGES);
    expect(secondRound).toBeLessThan(PAGES + 64);
  });

  test('mode=processes: a process per task, all writing copies', () => {
    const r = runShipped('page_fault2', ['threads=2', 'iterations=1', 'size=4M', 'mode=processes'], { cpus: '2' });
    expect(pids(r)).toHaveLength(3);
    expect(totals(r).faults).toBe(2 * 1024);
    expect(r.signals).toEqual([]);
  });
});
