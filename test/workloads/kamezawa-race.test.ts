/**
 * workloads/kamezawa-race.spf: split/merge rounds racing faults on the merged VMA. (The lost
 * wake-up under `--config kamezawa` is tested in test/mm/spf/kamezawa.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import { SimulationError } from '../../src/errors.js';
import { metric, runShipped, totals } from './helpers.js';

describe('kamezawa-race', () => {
  test('under the classic path it completes: every round splits and merges, the faulting threads write their slices', () => {
    const r = runShipped('kamezawa-race', ['threads=3', 'rounds=20'], { cpus: '3' });
    expect(r.counters.get('merges')).toBe(20);
    expect(metric(r, 'merges/s')).toBeCloseTo(20 / (r.elapsedNs / 1e9), 6);
    // 1 page for the anon_vma, then 2 faulting threads x 4 passes over 256 KiB: the first pass faults.
    expect(totals(r).faults).toBe(1 + 2 * 64);
    expect(r.signals).toEqual([]);
  });

  test('under the 2009 RFC as posted it never finishes', () => {
    expect(() => runShipped('kamezawa-race', ['threads=4'], { cpus: '4', config: ['kamezawa'] })).toThrow(SimulationError);
  });
});
