/**
 * `phase "name" { ... }` (src/sim/phases.ts): each phase's time and what its tasks counted,
 * threads and processes created in it included.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { runInline } from './helpers.js';

const PAGES = 32;

describe('phases', () => {
  const r = runInline(
    `process {
  heap = mmap ${PAGES * 4}K
  phase "warm-up" {
    touch heap write count ops
  }
  compute 10us
  phase "measured" {
    threads 2 {
      b = mmap 16K
      touch b write count ops
      fork {
        count forked 1
      }
    }
  }
}
`,
    { ncpus: 2 },
  );
  const [warm, measured] = r.phases;

  test('come in text order, each with its time', () => {
    expect(r.phases.map((p) => p.name)).toEqual(['warm-up', 'measured']);
    expect(warm.endNs).toBeGreaterThan(warm.startNs);
    // The compute between them belongs to no phase.
    expect(measured.startNs).toBeGreaterThanOrEqual(warm.endNs + 10_000);
    expect(measured.endNs).toBeLessThanOrEqual(r.elapsedNs);
  });

  test('count what their tasks did: the warm-up\'s touch; the threads and children created in a phase', () => {
    expect(warm.counts[EV.PAGE_FAULTS]).toBe(PAGES);
    expect(warm.counters.get('ops')).toBe(PAGES);
    // Two threads touch 4 pages each; forked children are in the phase too.
    expect(measured.counts[EV.PAGE_FAULTS]).toBeGreaterThanOrEqual(8);
    expect(measured.counters.get('ops')).toBe(8);
    expect(measured.counters.get('forked')).toBe(2);
    // The phases together count no more than the run, and here everything but the first mmap's
    // zero faults lies in a phase.
    expect(warm.counts[EV.PAGE_FAULTS] + measured.counts[EV.PAGE_FAULTS]).toBe(r.counts.total(EV.PAGE_FAULTS));
    expect(warm.counts[EV.TASK_CLOCK] + measured.counts[EV.TASK_CLOCK]).toBeLessThan(r.counts.total(EV.TASK_CLOCK));
    expect(measured.counts[EV.TASK_CLOCK]).toBeGreaterThan(0);
  });

  test('the same name in two places is one phase; a phase no task enters is all zero', () => {
    const t = runInline('process {\n  threads 2 {\n    phase "work" {\n      count n 1\n    }\n  }\n  if 0 {\n    phase "never" {\n      count n 1\n    }\n  }\n  phase "work" {\n    count n 1\n  }\n}\n', { ncpus: 2 });
    expect(t.phases.map((p) => [p.name, p.counters.get('n') ?? 0])).toEqual([['work', 3], ['never', 0]]);
    expect(t.phases[1]).toMatchObject({ startNs: 0, endNs: 0 });
  });

  test('a workload without phases has none', () => {
    expect(runInline('process {\n  count n 1\n}\n').phases).toEqual([]);
  });
});
