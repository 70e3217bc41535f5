import { describe, expect, test } from 'vitest';
import { shrink, smallerValues, type Candidate } from '../../src/check/shrink.js';

/**
 * A synthetic failure: it breaks when at least 2 threads run, iterations is at least 3, and the
 * schedule keeps points 4 and 7 of its 10 (any other point is noise).
 */
function fails(c: Candidate): boolean {
  const keep = c.id.keep ?? Array.from({ length: 10 }, (_, i) => i);
  return c.params.get('threads')! >= 2 && c.params.get('iterations')! >= 3 && keep.includes(4) && keep.includes(7);
}

const start: Candidate = { params: new Map([['threads', 16], ['iterations', 200], ['size', 64]]), id: { strategy: 'random', depth: 0, seed: 1, index: 5, keep: null } };

describe('shrink', () => {
  test('finds the fewest points and the smallest parameters that still fail', () => {
    let runs = 0;
    const r = shrink(start, { fails: (c) => (runs++, fails(c)), points: () => 10 });
    expect(r.shrunk.id.keep).toEqual([4, 7]);
    expect(Object.fromEntries(r.shrunk.params)).toEqual({ threads: 2, iterations: 3, size: 1 });
    expect(r.shrunk.id.index).toBe(5);
    expect(r.tries).toBe(runs);
    expect(fails(r.shrunk)).toBe(true);
  });

  test('stops at its budget with a candidate that still fails', () => {
    const r = shrink(start, { fails, points: () => 10, budget: 5 });
    expect(r.tries).toBe(5);
    expect(fails(r.shrunk)).toBe(true);
  });

  test('a failure that needs no point keeps none', () => {
    const r = shrink(start, { fails: (c) => c.params.get('threads')! >= 4, points: () => 10 });
    expect(r.shrunk.id.keep).toEqual([]);
    expect(r.shrunk.params.get('threads')).toBe(4);
  });

  test('smaller values: 1, half, one less for a small count; none below 1', () => {
    expect(smallerValues(16)).toEqual([1, 8, 15]);
    expect(smallerValues(2)).toEqual([1]);
    expect(smallerValues(1)).toEqual([]);
    expect(smallerValues(4194304)).toEqual([1, 2097152]);
    expect(smallerValues(0.5)).toEqual([]);
  });
});

describe('shrink with reindex', () => {
  test('smaller parameters may move to another schedule of the search that still fails', () => {
    // Breaks with 8 threads or more on schedule 5, and with 2 or more on schedule 3 only.
    const f = (c: Candidate): boolean => {
      const n = c.params.get('threads')!;
      return (c.id.index === 5 && n >= 8) || (c.id.index === 3 && n >= 2);
    };
    const s0: Candidate = { params: new Map([['threads', 16]]), id: { strategy: 'pct', depth: 3, seed: 1, index: 5, keep: null } };
    expect(shrink(s0, { fails: f, points: () => 2 }).shrunk.params.get('threads')).toBe(8);
    const r = shrink(s0, { fails: f, points: () => 2, reindex: 10 });
    expect(r.shrunk.params.get('threads')).toBe(2);
    expect(r.shrunk.id.index).toBe(3);
    expect(f(r.shrunk)).toBe(true);
  });
});
