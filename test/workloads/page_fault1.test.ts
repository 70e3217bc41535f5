/**
 * workloads/page_fault1.spf (will-it-scale page_fault1): one fault per page of anonymous memory
 * written, on every architecture's page size, THP, and threads vs processes.
 */
import { describe, expect, test } from 'vitest';
import { metric, pids, runShipped, totals } from './helpers.js';

const ONE = ['threads=1', 'iterations=1'];

describe('page_fault1', () => {
  test('one round of 128 MiB: 32768 faults with 4 KiB pages (x86, arm64), 2048 with 64 KiB (powerpc)', () => {
    for (const [machine, want] of [['x86-vm16', 32768], ['msm845', 32768], ['p8-80', 2048]] as const) {
      const r = runShipped('page_fault1', ONE, { machine, cpus: '1' });
      const t = totals(r);
      expect(t.faults, machine).toBe(want);
      expect(t.minor, machine).toBe(want);
      expect(t.major, machine).toBe(0);
      expect(r.counters.get('ops'), machine).toBe(want);
      expect(metric(r, 'ops/s'), machine).toBeCloseTo(want / (r.elapsedNs / 1e9), 6);
    }
    // The generic arm64 profile (no machine preset) has 4 KiB pages too.
    expect(totals(runShipped('page_fault1', ONE, { arch: 'arm64', cpus: '1' })).faults).toBe(32768);
  });

  test('thp=always: one fault per 2 MiB on x86 (64 for 128 MiB), each a huge page', () => {
    const t = totals(runShipped('page_fault1', ONE, { cpus: '1', config: ['thp=always'] }));
    expect(t.faults).toBe(64);
    expect(t.thpAlloc).toBe(64);
  });

  test('every page allocated is freed by the munmap of its round', () => {
    const t = totals(runShipped('page_fault1', ['threads=2', 'iterations=2', 'size=8M'], { cpus: '2' }));
    expect(t.faults).toBe(2 * 2 * 2048);
    expect(t.pgfree).toBe(t.pgalloc);
  });

  test('mode=processes: each task its own process and mm; single-threaded, so no speculative faults', () => {
    const params = ['threads=2', 'iterations=1', 'size=4M'];
    const thr = runShipped('page_fault1', params, { cpus: '4', config: ['dufour-v11'] });
    const proc = runShipped('page_fault1', [...params, 'mode=processes'], { cpus: '4', config: ['dufour-v11'] });
    expect(totals(thr).faults).toBe(2048);
    expect(totals(proc).faults).toBe(2048);
    expect(proc.counters.get('ops')).toBe(2048);
    // threads: the parent and its two threads share one pid; processes: parent + 2 children.
    expect(pids(thr)).toHaveLength(1);
    expect(pids(proc)).toHaveLength(3);
    // Dufour's SPF only speculates in a multi-threaded mm.
    expect(totals(thr).spf).toBeGreaterThan(0);
    expect(totals(proc).spf).toBe(0);
  });

  test('a mode that is not threads or processes is refused', () => {
    expect(() => runShipped('page_fault1', ['mode=thread'])).toThrow(/expected one of: threads, processes; did you mean 'threads'\?/);
  });
});
