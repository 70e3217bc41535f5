/**
 * workloads/ebizzy.spf (ebizzy 0.3): setup faults, one fault per page of each copy with -mT,
 * one-page copies with -R (the rand_num() quirk), unmergeable chunks with -p, no per-record
 * faults with malloc.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { metric, runShipped, totals, vmas } from './helpers.js';

/** Setup: the pointer array's page + 10 chunks of 512 KiB written page by page. */
const SETUP = 1 + 10 * 128;
const SHORT = ['threads=2', 'seconds=1ms'];

describe('ebizzy', () => {
  test('-mT (the defaults): 128 faults per record (a fresh 512 KiB copy touched page by page)', () => {
    const r = runShipped('ebizzy', SHORT, { cpus: '2' });
    const records = r.counters.get('records')!;
    expect(records).toBeGreaterThan(2);
    expect(totals(r).faults).toBe(SETUP + 128 * records);
    // Every copy is unmapped again and the chunks go at exit: all pages come back.
    const t = totals(r);
    expect(t.pgfree).toBe(t.pgalloc);
    // records/s is the loops divided by -S.
    expect(metric(r, 'records/s')).toBeCloseTo(records / 0.001, 6);
  });

  test('-R: every "random" size is one record (the state starts at 0), so one page and one fault per copy', () => {
    const r = runShipped('ebizzy', [...SHORT, 'random_size=1'], { cpus: '2' });
    const records = r.counters.get('records')!;
    expect(records).toBeGreaterThan(20);
    expect(totals(r).faults).toBe(SETUP + records);
  });

  test('setup: the array page alone on top, the libraries\' stand-in below it, one VMA for the chunks below; -p mprotects every even chunk so none merge', () => {
    const plain = runShipped('ebizzy', SHORT, { cpus: '2', inspect: true });
    // 6.12+ (the default thp_anon_align=pmd): the 5 MiB of chunks are not PMD-aligned, they lie
    // right below the page that stands for the libraries.
    expect(vmas(plain.modelThreads[0]!).map(String)).toEqual(['7ffff7afd000-7ffff7ffd000 rw-p', '7ffff7ffd000-7ffff7ffe000 ---p', '7ffff7ffe000-7ffff7fff000 rw-p']);
    // 6.7-6.11 aligned them to 2 MiB, leaving a hole above.
    const aligned = runShipped('ebizzy', SHORT, { cpus: '2', inspect: true, config: ['thp_anon_align=any'] });
    expect(vmas(aligned.modelThreads[0]!).map(String)[0]).toBe('7ffff7a00000-7ffff7f00000 rw-p');
    const p = runShipped('ebizzy', [...SHORT, 'permissions=1'], { cpus: '2', inspect: true });
    const layout = vmas(p.modelThreads[0]!).map((v) => String(v).split(' ')[1]);
    // From the lowest address: chunk 9 (rw) ... chunk 0 (r), the stand-in, then the array page (rw).
    expect(layout).toEqual(['rw-p', 'r--p', 'rw-p', 'r--p', 'rw-p', 'r--p', 'rw-p', 'r--p', 'rw-p', 'r--p', '---p', 'rw-p']);
    expect(totals(p).faults).toBe(SETUP + 128 * p.counters.get('records')!);
  });

  test('-mTRp, the other published run: one-page copies with the chunks split', () => {
    const r = runShipped('ebizzy', [...SHORT, 'random_size=1', 'permissions=1'], { cpus: '2' });
    expect(totals(r).faults).toBe(SETUP + r.counters.get('records')!);
    expect(r.signals).toEqual([]);
  });

  test('a one-page copy lands below the chunks and merges into their VMA: its fault finds an anon_vma', () => {
    // Per-VMA locks as merged (6.4) give up on a VMA without an anon_vma; none of the copies'
    // faults does, as on the real 6.18 host (no mmap_lock taken by a fault, mmap_lock:* shows).
    const params = ['threads=1', 'iterations=50', 'random_size=1'];
    const r = runShipped('ebizzy', params, { cpus: '1', config: ['per-vma-lock', 'kernel=6.4'] });
    // Only the set-up's first writes to the array and to the chunks abort (no anon_vma yet).
    expect(r.counts.total(EV.VMA_LOCK_ABORT)).toBe(2);
    expect(r.counts.total(EV.VMA_LOCK_SUCCESS)).toBe(totals(r).faults - 2);
  });

  test('without -T: memcpy reads chunk 0 and writes the copy (faults as -T), plus user time for the bytes', () => {
    const r = runShipped('ebizzy', [...SHORT, 'touch=0'], { cpus: '2' });
    expect(totals(r).faults).toBe(SETUP + 128 * r.counters.get('records')!);
    const t = runShipped('ebizzy', SHORT, { cpus: '2' });
    expect(r.userNs).toBeGreaterThan(10 * t.userNs);
  });

  test('without -m: copies come from a reused heap, so no faults after its first use', () => {
    const r = runShipped('ebizzy', [...SHORT, 'mmap=0'], { cpus: '2' });
    expect(r.counters.get('records')!).toBeGreaterThan(100);
    expect(totals(r).faults).toBe(SETUP + 2 * 128); // each thread's heap, once
  });
});
