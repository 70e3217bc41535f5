import { describe, expect, test } from 'vitest';
import { formatScheduleId, parseScheduleId, scheduleSeed, type ScheduleId } from '../../src/check/schedule-id.js';
import { UsageError } from '../../src/errors.js';

describe('schedule ids', () => {
  const ids: ScheduleId[] = [
    { strategy: 'pct', depth: 3, seed: 1, index: 417, keep: null },
    { strategy: 'pct', depth: 1, seed: 0, index: 0, keep: [] },
    { strategy: 'random', depth: 0, seed: 4294967295, index: 12, keep: [0, 1, 2, 3, 9, 11, 12] },
    { strategy: 'pct', depth: 5, seed: 7, index: 3, keep: [1, 3] },
  ];

  test('format and parse round-trip', () => {
    expect(ids.map(formatScheduleId)).toEqual(['pct:d3:s1:i417', 'pct:d1:s0:i0:k-', 'random:s4294967295:i12:k0-3,9,11-12', 'pct:d5:s7:i3:k1,3']);
    for (const id of ids) expect(parseScheduleId(formatScheduleId(id))).toEqual(id);
  });

  test.each([
    ['pct:s1:i3', 'a pct id needs its depth'],
    ['random:d3:s1:i3', 'a random id has no depth'],
    ['pct:d0:s1:i3', 'depth 0 is out of range'],
    ['pct:d3:s4294967296:i3', 'seed 4294967296 is out of range'],
    ['pct:d3:s1:i3:k3-1', 'range 3-1 is not ascending'],
    ['pct:d3:s1:i3:k2,1', 'kept points must ascend'],
    ['bfs:d3:s1:i3', 'expected strategy'],
    ['pct:d3:s1:i3 ', 'expected strategy'],
  ])('%s is refused with a one-line usage error', (text, why) => {
    let err: unknown;
    try {
      parseScheduleId(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(why);
    expect((err as Error).message).toContain("option '--replay'");
    expect((err as Error).message).not.toContain('\n');
  });

  test('each schedule and stream has a seed of its own, the same every time', () => {
    const seeds = new Set<number>();
    for (let i = 0; i < 200; i++) for (let s = 0; s < 2; s++) seeds.add(scheduleSeed(1, i, s));
    expect(seeds.size).toBe(400);
    expect(scheduleSeed(1, 7, 0)).toBe(scheduleSeed(1, 7, 0));
    expect(scheduleSeed(1, 7, 0)).not.toBe(scheduleSeed(2, 7, 0));
  });
});
