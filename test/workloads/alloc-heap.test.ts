/**
 * workloads/alloc-heap.spf: allocator threads mapping random-sized buffers beside heap threads
 * working on a shared heap, in the phases "setup" and "run".
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { metric, runShipped, totals } from './helpers.js';

const SIZES = ['seconds=1ms', 'heap=8M', 'min_buf=64K', 'max_buf=512K'];
const SMALL = ['threads=4', ...SIZES];
const HEAP_PAGES = (8 * 1024 * 1024) / 4096;

describe('alloc-heap', () => {
  test('populate=1: the heap is faulted in by mmap in "setup"; in "run" only the buffers fault', () => {
    const r = runShipped('alloc-heap', SMALL, { cpus: '4' });
    const [setup, run] = r.phases;
    expect([setup.name, run.name]).toEqual(['setup', 'run']);
    // MAP_POPULATE's faults are the kernel's: vmstat pgfault, not perf page-faults.
    expect(setup.counts[EV.PAGE_FAULTS]).toBe(0);
    expect(setup.counts[EV.PGFAULT]).toBe(HEAP_PAGES);
    // Every buffer page is written once after its mmap: one fault each; the heap takes none.
    expect(run.counts[EV.PAGE_FAULTS]).toBe(r.counters.get('buf_pages'));
    expect(totals(r).faults).toBe(r.counters.get('buf_pages'));
    // Buffers of 64K to 512K: 16 to 128 pages each.
    const allocs = r.counters.get('allocs')!;
    expect(allocs).toBeGreaterThan(0);
    expect(r.counters.get('buf_pages')!).toBeGreaterThanOrEqual(16 * allocs);
    expect(r.counters.get('buf_pages')!).toBeLessThanOrEqual(128 * allocs);
    expect(metric(r, 'allocs/s')).toBeCloseTo(allocs / 0.001, 6);
    expect(metric(r, 'heap-ops/s')).toBeCloseTo(r.counters.get('heap_ops')! / 0.001, 6);
    expect(r.signals).toEqual([]);
  });

  test('populate=0: the heap threads fault the heap in themselves', () => {
    const r = runShipped('alloc-heap', [...SMALL, 'populate=0'], { cpus: '4' });
    expect(r.phases[0].counts[EV.PGFAULT]).toBe(0);
    expect(totals(r).faults).toBeGreaterThan(r.counters.get('buf_pages')!);
  });

  test('the sizes follow the seed: the same seed the same run, another seed other sizes', () => {
    const pages = (seed: number): number => runShipped('alloc-heap', [...SIZES, 'threads=2', 'allocators=2'], { cpus: '2', seed: String(seed) }).counters.get('buf_pages')!;
    expect(pages(1)).toBe(pages(1));
    expect(new Set([pages(1), pages(2), pages(3)]).size).toBeGreaterThan(1);
  });

  test('the thread split: allocators, and the rest on the heap', () => {
    const r = runShipped('alloc-heap', [...SIZES, 'threads=3', 'allocators=3'], { cpus: '4' });
    expect(r.counters.get('heap_ops') ?? 0).toBe(0);
    expect(r.counters.get('allocs')).toBeGreaterThan(0);
    expect(r.threads).toHaveLength(4);
  });
});

/**
 * Today's servers (machines/*.json, issue 16 item 3), each with CPUs enough to span two L3s
 * (rome-2s256: CCXs of 4 cores; genoa-2s384: CCDs of 8) or two SMT4 cores (p9-2s160).
 */
const SERVERS: readonly [string, string][] = [
  ['skl-2s112', '4'],
  ['spr-2s224', '4'],
  ['rome-2s256', '8'],
  ['genoa-2s384', '12'],
  ['graviton3-64', '4'],
  ['p9-2s160', '8'],
];
/** A smaller run than SIZES: 24 of them. */
const TINY = ['seconds=0.5ms', 'heap=4M', 'min_buf=64K', 'max_buf=256K'];
const DESIGNS = ['base', 'dufour-v11', 'lespinasse', 'per-vma-lock'];

describe('alloc-heap on today\'s servers, under every design', () => {
  test.each(SERVERS.flatMap(([m, cpus]) => DESIGNS.map((d) => [m, cpus, d] as const)))('%s --cpus %s, %s', (machine, cpus, design) => {
    const r = runShipped('alloc-heap', [`threads=${cpus}`, ...TINY], { machine, cpus, config: [design] });
    expect(r.signals).toEqual([]);
    // Every fault of the run is a buffer page's (the heap was populated in "setup").
    expect(totals(r).faults).toBe(r.counters.get('buf_pages'));
    expect(r.counters.get('allocs')).toBeGreaterThan(0);
    expect(r.counters.get('heap_ops')).toBeGreaterThan(0);
    // The design took faults its way: without the mmap lock, or under the VMA lock. (Not all:
    // Lespinasse's abort while an mmap or munmap is under way or once it moved the per-mm count
    // (SPF_ABORT_ODD, SPF_ABORT_PTE_MAP_LOCK_SEQ1): on p9-2s160, whose 64 KiB pages make a buffer
    // 1 to 8 faults between two mmaps, two faults of three.)
    const spf = totals(r).spf;
    const vmaLocked = r.counts.total(EV.VMA_LOCK_SUCCESS);
    if (design === 'base') expect(spf + vmaLocked).toBe(0);
    else if (design === 'per-vma-lock') expect(vmaLocked).toBeGreaterThan(0);
    else expect(spf).toBeGreaterThan(0);
  });
});
