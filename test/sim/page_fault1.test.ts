/**
 * The shipped page_fault1 workload end to end: exact fault accounting, determinism, and the
 * multi-thread scaling shape of the classic (mmap_lock) fault path.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { EV, EVENTS, NUM_EVENTS } from '../../src/events/catalog.js';
import type { RunResult } from '../../src/sim/run.js';
import { faults, runShipped } from './helpers.js';

/** Every number of a RunResult, for whole-result comparisons. */
function numbers(r: RunResult): Record<string, number> {
  const out: Record<string, number> = { elapsedNs: r.elapsedNs, userNs: r.userNs, sysNs: r.sysNs };
  for (let id = 0; id < NUM_EVENTS; id++) {
    out[EVENTS[id]!.name] = r.counts.total(id);
    for (const t of r.threads) out[`${EVENTS[id]!.name}#${t.idx}`] = r.counts.of(t.idx, id);
  }
  for (const t of r.threads) {
    out[`user#${t.idx}`] = t.userNs;
    out[`sys#${t.idx}`] = t.sysNs;
  }
  for (const m of r.metrics) out[`metric:${m.name}`] = m.value;
  for (const [k, v] of r.counters) out[`counter:${k}`] = v;
  return out;
}

/** Event totals only (no time-valued events). */
function eventCounts(r: RunResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (let id = 0; id < NUM_EVENTS; id++) if (id !== EV.TASK_CLOCK && id !== EV.CPU_CLOCK) out[EVENTS[id]!.name] = r.counts.total(id);
  return out;
}

describe('page_fault1, 1 thread, 4 iterations of 128 MiB on 1 CPU', () => {
  // 4 rounds * 128 MiB / 4 KiB = 131072 first-touch writes, each one fault.
  const PAGES = (4 * 128 * 1024 * 1024) / 4096;
  const run = (seed?: number): RunResult => runShipped('page_fault1', ['threads=1', 'iterations=4'], 1, seed);
  let first: RunResult;
  beforeAll(() => {
    first = run();
  });

  test('counts exactly one minor fault per page and nothing major', () => {
    expect(PAGES).toBe(131072);
    const f = faults(first);
    expect(f.pf).toBe(131072);
    expect(f.minor).toBe(131072);
    expect(f.major).toBe(0);
    expect(f.pgfault).toBe(131072);
    expect(first.counts.total(EV.PGMAJFAULT)).toBe(0);
    expect(first.counters.get('ops')).toBe(131072);
    // Every data page (plus the page tables) allocated is freed again by the munmaps.
    expect(f.alloc).toBeGreaterThanOrEqual(131072);
    expect(f.free).toBe(f.alloc);
    expect(first.signals).toEqual([]);
  });

  test('the metric is ops per simulated second', () => {
    const m = first.metrics.find((x) => x.name === 'ops/s')!;
    expect(m.value).toBeCloseTo(131072 / (first.elapsedNs / 1e9), 6);
    expect(first.elapsedNs).toBeGreaterThan(0);
    // A fault-bound loop: most of the time is system time.
    expect(first.sysNs).toBeGreaterThan(first.userNs);
    expect(first.userNs + first.sysNs).toBeLessThanOrEqual(first.elapsedNs * 1.0000001);
  });

  test('the same run twice gives identical numbers', () => {
    const again = run();
    expect(numbers(again)).toEqual(numbers(first));
  });

  test('another seed changes the timing but not the counts', () => {
    const other = run(7);
    expect(other.elapsedNs).not.toBe(first.elapsedNs);
    expect(eventCounts(other)).toEqual(eventCounts(first));
    expect(faults(other).pf).toBe(131072);
  });
});

describe('page_fault1 scaling with threads = CPUs', () => {
  let runs: { n: number; r: RunResult }[];
  beforeAll(() => {
    runs = [1, 2, 4].map((n) => ({ n, r: runShipped('page_fault1', [`threads=${n}`, 'iterations=1', 'size=8M'], n) }));
  });

  test('each thread takes one fault per page of its own 8 MiB', () => {
    for (const { n, r } of runs) {
      const f = faults(r);
      expect(f.pf, `threads=${n}`).toBe(n * 2048);
      expect(f.minor, `threads=${n}`).toBe(n * 2048);
      expect(f.major, `threads=${n}`).toBe(0);
      expect(f.pgfault, `threads=${n}`).toBe(n * 2048);
      expect(r.counters.get('ops'), `threads=${n}`).toBe(n * 2048);
      expect(f.free, `threads=${n}`).toBe(f.alloc);
      // Each worker thread (not the main one) took its share.
      const workers = r.threads.filter((t) => t.idx > 0);
      expect(workers).toHaveLength(n);
      for (const t of workers) expect(r.counts.of(t.idx, EV.PAGE_FAULTS)).toBe(2048);
    }
  });

  test('ops/s per CPU falls strictly as threads are added', () => {
    // The threads share one mm: every fault takes mmap_lock for reading, which bounces the
    // rwsem's cache line between CPUs (the reader count is written by every down_read/up_read),
    // and every mmap/munmap takes it for writing, stalling all the other threads' faults.
    // So adding CPUs adds less than one CPU's worth of throughput each time.
    const perCpu = runs.map(({ n, r }) => r.metrics.find((m) => m.name === 'ops/s')!.value / n);
    expect(perCpu[1]).toBeLessThan(perCpu[0]!);
    expect(perCpu[2]).toBeLessThan(perCpu[1]!);
    // ...but total throughput does not collapse below one thread's.
    const total = runs.map(({ r }) => r.metrics.find((m) => m.name === 'ops/s')!.value);
    expect(total[2]).toBeGreaterThan(total[0]! * 0.5);
  });

  test('a 4-thread run is deterministic too', () => {
    const again = runShipped('page_fault1', ['threads=4', 'iterations=1', 'size=8M'], 4);
    expect(numbers(again)).toEqual(numbers(runs[2]!.r));
  });
});
