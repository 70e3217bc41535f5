/**
 * workloads/multi-fault.spf (KAMEZAWA 2009): pinned threads fault their own 2 MiB in their own
 * VMA, between barriers, and zap it with madvise(DONTNEED) every round.
 */
import { describe, expect, test } from 'vitest';
import { metric, runShipped, totals, vmas } from './helpers.js';

describe('multi-fault', () => {
  test('every round faults every page of every area again (512 pages of 4 KiB per thread)', () => {
    const r = runShipped('multi-fault', ['threads=2', 'rounds=3'], { inspect: true });
    const t = totals(r);
    expect(t.faults).toBe(2 * 3 * 512);
    expect(r.counters.get('faults')).toBe(2 * 3 * 512);
    expect(metric(r, 'faults/s')).toBeCloseTo(3072 / (r.elapsedNs / 1e9), 6);
    expect(metric(r, 'faults/60s')).toBeCloseTo(60 * metric(r, 'faults/s'), 3);
    // One VMA per thread, split by the one-page PROT_NONE holes.
    const layout = vmas(r.modelThreads[0]!).map((v) => String(v).split(' ')[1]);
    expect(layout).toEqual(['rw-p', '---p', 'rw-p', '---p']);
    // Each thread's area starts on its own page table (8 MiB apart).
    const [a, , b] = vmas(r.modelThreads[0]!);
    expect(b!.start - a!.start).toBe(8 * 1024 * 1024);
    expect(a!.start % (2 * 1024 * 1024)).toBe(0);
  });

  test('64 KiB pages (powerpc): 32 faults per area per round; the holes are one page', () => {
    const r = runShipped('multi-fault', ['threads=2', 'rounds=2'], { machine: 'p8-80' });
    expect(totals(r).faults).toBe(2 * 2 * 32);
    expect(r.signals).toEqual([]);
  });

  test("Kamezawa's design takes them all without mmap_sem and gets more done per second", () => {
    const params = ['threads=8', 'rounds=4'];
    const base = runShipped('multi-fault', params, { machine: 'x86-2s8c' });
    const kame = runShipped('multi-fault', params, { machine: 'x86-2s8c', config: ['kamezawa-fixed'] });
    expect(totals(base).faults).toBe(8 * 4 * 512);
    expect(totals(kame).spf).toBe(8 * 4 * 512);
    expect(metric(kame, 'faults/s') / metric(base, 'faults/s')).toBeGreaterThan(1.2);
  });
});
