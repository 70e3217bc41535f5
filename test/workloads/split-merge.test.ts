/**
 * workloads/split-merge.spf: split/merge rounds and faulting threads in no forced order. (What
 * `spfperf check` finds in it under `--config kamezawa` is tested in test/commands/check.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { metric, runShipped, totals } from './helpers.js';

describe('split-merge', () => {
  test('under the classic path it completes: every round splits and merges, every faulting thread writes its pages', () => {
    const r = runShipped('split-merge', ['threads=3', 'rounds=5', 'pages=8'], { cpus: '3' });
    expect(r.counters.get('merges')).toBe(5);
    expect(metric(r, 'merges/s')).toBeCloseTo(5 / (r.elapsedNs / 1e9), 6);
    // 1 page for the anon_vma, then 2 faulting threads x 8 fresh pages.
    expect(totals(r).faults).toBe(1 + 2 * 8);
    expect(r.signals).toEqual([]);
  });

  test('nothing forces the race: in the plain order it completes under the 2009 RFC as posted too', () => {
    const r = runShipped('split-merge', [], { config: ['kamezawa'] });
    expect(r.counters.get('merges')).toBe(4);
    expect(r.signals).toEqual([]);
  });
});
