import { describe, expect, it } from 'vitest';
import { mean, stats } from '../../src/stats/aggregate.js';

describe('stats over runs (perf\'s util/stat.c)', () => {
  it('gives the mean and the standard deviation of the mean', () => {
    const s = stats([1, 2, 3, 4]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    // sample variance 5/3; of the mean: 5/3/4
    expect(s.stddev).toBeCloseTo(Math.sqrt(5 / 3 / 4), 12);
    expect(s.relPct).toBeCloseTo((100 * Math.sqrt(5 / 12)) / 2.5, 10);
  });

  it('has no noise for one run, for equal values, or for a zero mean', () => {
    expect(stats([7]).stddev).toBe(0);
    expect(stats([5, 5, 5]).relPct).toBe(0);
    expect(stats([0, 0]).relPct).toBe(0);
    expect(stats([-1, 1]).relPct).toBe(0);
    expect(mean([2, 4])).toBe(3);
  });
});
