/**
 * workloads/pft.spf (mmtests pft, Lespinasse's runs): threads fault disjoint equal shares of one
 * anonymous VMA, then the region is unmapped; repeated for `seconds`.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { metric, runShipped, totals } from './helpers.js';

const ONCE = 'seconds=1ns'; // the time limit is checked before each run: exactly one run

describe('pft', () => {
  test('one run: every page of the region faults once, each thread its own share', () => {
    const r = runShipped('pft', ['threads=4', 'size=16M', ONCE], { cpus: '4' });
    expect(totals(r).faults).toBe(4096);
    expect(r.counters.get('faults')).toBe(4096);
    const workers = r.threads.filter((t) => r.counts.of(t.idx, EV.PAGE_FAULTS) > 0);
    expect(workers).toHaveLength(4);
    for (const w of workers) expect(r.counts.of(w.idx, EV.PAGE_FAULTS)).toBe(1024);
    // The metric times the faulting only (each thread's own, averaged), as pft does: it is
    // higher than faults over the whole run, which also has the mmap, thread start and munmap.
    const faultS = r.counters.get('fault_s')!;
    expect(faultS).toBeGreaterThan(0);
    expect(metric(r, 'faults/s')).toBeCloseTo(4096 / (faultS / 4), 6);
    expect(metric(r, 'faults/s')).toBeGreaterThan(4096 / (r.elapsedNs / 1e9));
    // The munmap frees the region: nothing is left allocated.
    expect(totals(r).pgfree).toBe(totals(r).pgalloc);
  });

  test('shares are page-aligned (a remainder of pages is not touched) on any page size', () => {
    expect(totals(runShipped('pft', ['threads=3', 'size=16M', ONCE], { cpus: '4' })).faults).toBe(3 * 1365);
    expect(totals(runShipped('pft', ['threads=4', 'size=16M', ONCE], { machine: 'p8-80', cpus: '4' })).faults).toBe(256);
  });

  test('runs repeat until `seconds` have passed', () => {
    const r = runShipped('pft', ['threads=2', 'size=4M', 'seconds=2ms'], { cpus: '2' });
    const runs = totals(r).faults / 1024;
    expect(Number.isInteger(runs)).toBe(true);
    expect(runs).toBeGreaterThan(2);
    expect(r.elapsedNs).toBeGreaterThanOrEqual(2e6);
  });

  test('the faults share one VMA: speculative designs take them without the mmap lock', () => {
    const t = totals(runShipped('pft', ['threads=4', 'size=16M', ONCE], { cpus: '4', config: ['lespinasse'] }));
    expect(t.spf).toBeGreaterThan(0.9 * t.faults);
  });
});
