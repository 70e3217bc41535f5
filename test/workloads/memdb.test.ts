/**
 * workloads/memdb.spf: random reads and writes in one big VMA by many threads, with buffers
 * mapped and unmapped now and then.
 */
import { describe, expect, test } from 'vitest';
import { metric, runShipped, totals, vmas } from './helpers.js';

const SMALL = ['threads=4', 'seconds=1ms', 'size=64M'];

describe('memdb', () => {
  test('transactions fault the cold database in; the metric is transactions per `seconds`', () => {
    const r = runShipped('memdb', SMALL, { cpus: '4' });
    const tx = r.counters.get('tx')!;
    expect(tx).toBeGreaterThan(50);
    expect(metric(r, 'tx/s')).toBeCloseTo(tx / 0.001, 6);
    const t = totals(r);
    expect(t.faults).toBeGreaterThan(0);
    // Read faults map the zero page: fewer pages allocated than faults taken.
    expect(t.pgalloc).toBeLessThan(t.faults);
    expect(r.signals).toEqual([]);
  });

  test('warm=1: the database is written first; then only the buffers fault', () => {
    const pages = (64 * 1024 * 1024) / 4096;
    const quiet = runShipped('memdb', [...SMALL, 'warm=1', 'buffer_every=0'], { cpus: '4' });
    expect(totals(quiet).faults).toBe(pages);
    expect(quiet.counters.get('tx')!).toBeGreaterThan(50);
    const busy = runShipped('memdb', [...SMALL, 'warm=1', 'buffer_every=1'], { cpus: '4' });
    // Every transaction maps, writes (16 pages of 64 KiB) and unmaps a buffer.
    expect(totals(busy).faults).toBe(pages + 16 * busy.counters.get('tx')!);
  });

  test('one VMA for the database: the buffers come and go', () => {
    const r = runShipped('memdb', SMALL, { cpus: '4', inspect: true });
    expect(vmas(r.modelThreads[0]!).map((v) => v.end - v.start)).toEqual([64 * 1024 * 1024]);
  });
});
