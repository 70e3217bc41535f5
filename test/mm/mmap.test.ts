/**
 * mmap/munmap/mprotect (src/mm/mmap.ts, src/mm/mprotect.ts) through DSL workloads, inspecting the kernel state the
 * run leaves behind (VMAs, PTEs, RSS, page counts) through the threads a recording sink saw.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_WRITE, SIGSEGV, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE } from '../../src/mm/types.js';
import { SimulationError } from '../../src/errors.js';
import { faults, KiB, mainThread, MiB, PAGE, pteAt, RecordingSink, runInline } from '../sim/helpers.js';
import { runWorkload } from '../../src/sim/run.js';
import { resolveConfig } from '../../src/config/kconfig.js';
import { mmOptions } from './helpers.js';

function proc(...body: string[]): string {
  return `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

/** Run with a recording sink; return the run, the sink and the main thread. */
function inspect(src: string) {
  const sink = new RecordingSink();
  const r = runInline(src, { sinks: [sink] });
  return { r, sink, th: mainThread(sink) };
}

describe('munmap', () => {
  test('unmapping the middle of a region splits it into two VMAs', () => {
    const { r, th } = inspect(proc('a = mmap 48K', 'touch a write', 'munmap a offset 16K length 16K'));
    expect(r.signals).toEqual([]);
    const vmas = th.mm.vmas.all();
    expect(vmas).toHaveLength(2);
    const [lo, hi] = vmas;
    expect(lo!.end - lo!.start).toBe(16 * KiB);
    expect(hi!.end - hi!.start).toBe(16 * KiB);
    expect(hi!.start - lo!.end).toBe(16 * KiB);
    // The upper part keeps its file offset (pgoff) relative to the original start.
    expect(hi!.pgoff - lo!.pgoff).toBe((32 * KiB) / PAGE);
    // Only the 4 middle pages were zapped and freed; the outer 8 stay mapped.
    expect(faults(r).free).toBe(4);
    expect(th.mm.rss).toBe(8);
    for (let a = lo!.start; a < lo!.end; a += PAGE) expect(pteAt(th, a) & PTE_PRESENT).toBe(PTE_PRESENT);
    for (let a = lo!.end; a < hi!.start; a += PAGE) expect(pteAt(th, a)).toBe(0);
    for (let a = hi!.start; a < hi!.end; a += PAGE) expect(pteAt(th, a) & PTE_PRESENT).toBe(PTE_PRESENT);
  });

  test('after the split the outer parts still work, without new faults', () => {
    const r = runInline(
      proc('a = mmap 48K', 'touch a write', 'munmap a offset 16K length 16K', 'touch a write length 16K', 'touch a read offset 32K length 16K', 'count ok'),
    );
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    expect(faults(r).pf).toBe(12);
  });

  test('fresh outer parts fault normally after the split', () => {
    const r = runInline(proc('a = mmap 48K', 'munmap a offset 16K length 16K', 'touch a write length 16K', 'touch a write offset 32K', 'count ok'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    expect(faults(r).pf).toBe(8);
  });

  test.each([
    ['the first page of the hole', 'offset 16K length 4K'],
    ['the last page of the hole', 'offset 28K length 4K'],
  ])('a touch of %s is SIGSEGV', (_what, range) => {
    const r = runInline(proc('a = mmap 48K', 'touch a write', 'munmap a offset 16K length 16K', `touch a read ${range}`, 'count after'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0]!.detail).toMatch(/^no mapping at/);
    expect(r.counters.get('after') ?? 0).toBe(0);
  });

  test('unmapping everything frees every page and page table allocated', () => {
    const { r, th } = inspect(
      proc(
        'a = mmap 2M', 'touch a write',
        'b = mmap 1M', 'touch b read', 'touch b write stride 8K',
        'c = mmap 512K', 'touch c write', 'mprotect c r offset 128K length 128K',
        'munmap a offset 1M', 'munmap b', 'munmap a length 1M', 'munmap c',
      ),
    );
    expect(r.signals).toEqual([]);
    const f = faults(r);
    expect(f.alloc).toBeGreaterThan(512 + 128 + 128);
    expect(f.free).toBe(f.alloc);
    expect(th.k.alloc.inUse).toBe(0);
    expect(th.mm.rss).toBe(0);
    expect(th.mm.vmas.size).toBe(0);
    // No page table is left hanging below the pgd.
    expect(th.mm.pgd.used).toBe(0);
  });

  test('every round of mmap/touch/munmap frees what it allocated', () => {
    const r = runInline(proc('loop 5 {', '  a = mmap 3M', '  touch a write', '  munmap a', '}'));
    const f = faults(r);
    expect(f.pf).toBe(5 * 768);
    expect(f.free).toBe(f.alloc);
    // The unmap tore down the PTEs: a TLB flush per round.
    expect(r.counts.total(EV.NR_TLB_LOCAL_FLUSH_ALL) + r.counts.total(EV.NR_TLB_LOCAL_FLUSH_ONE)).toBeGreaterThanOrEqual(5);
  });

  test('munmap of a range outside the region is a run-time error', () => {
    expect(() => runInline(proc('a = mmap 16K', 'munmap a offset 8K length 16K'))).toThrow(SimulationError);
  });
});

describe('mmap placement', () => {
  test('mmap, munmap, mmap of the same size reuses the address range', () => {
    const { r, sink, th } = inspect(proc('a = mmap 64K', 'touch a write', 'munmap a', 'b = mmap 64K', 'touch b write'));
    expect(r.signals).toEqual([]);
    expect(sink.faults).toHaveLength(32);
    const first = sink.faults.slice(0, 16).map((f) => f.addr);
    const second = sink.faults.slice(16).map((f) => f.addr);
    expect(second).toEqual(first);
    const vmas = th.mm.vmas.all();
    expect(vmas).toHaveLength(1);
    expect(vmas[0]!.start).toBe(first[0]);
    expect(vmas[0]!.end - vmas[0]!.start).toBe(64 * KiB);
  });

  test('mappings go top-down below mmap_base, and adjacent anonymous ones merge', () => {
    const { th } = inspect(proc('a = mmap 1M', 'b = mmap 1M', 'c = mmap 1M r'));
    const vmas = th.mm.vmas.all();
    // a and b (same flags, adjacent) are one VMA; c (read-only) sits right below it.
    expect(vmas).toHaveLength(2);
    const [c, ab] = vmas;
    expect(ab!.end).toBe(th.mm.mmapBase);
    expect(ab!.end - ab!.start).toBe(2 * MiB);
    expect(c!.end).toBe(ab!.start);
    expect(c!.end - c!.start).toBe(MiB);
    expect(c!.toString()).toMatch(/ r--p$/);
    expect(ab!.toString()).toMatch(/ rw-p$/);
  });

  test('a mapping that fills a hole exactly merges with the VMAs on both sides', () => {
    const { r, sink, th } = inspect(proc('a = mmap 48K', 'touch a write', 'munmap a offset 16K length 16K', 'b = mmap 16K', 'touch b write'));
    expect(r.signals).toEqual([]);
    // b went into the hole (the highest gap below mmap_base that fits)...
    const holeAddrs = sink.faults.slice(4, 8).map((f) => f.addr);
    expect(sink.faults.slice(12).map((f) => f.addr)).toEqual(holeAddrs);
    // ...and the three pieces are one VMA again.
    expect(th.mm.vmas.size).toBe(1);
    const v = th.mm.vmas.all()[0]!;
    expect(v.end - v.start).toBe(48 * KiB);
    expect(v.end).toBe(th.mm.mmapBase);
  });

  test('a mapping of another protection in a hole does not merge', () => {
    const { th } = inspect(proc('a = mmap 48K', 'munmap a offset 16K length 16K', 'b = mmap 16K r'));
    expect(th.mm.vmas.all().map((v) => v.toString().split(' ')[1])).toEqual(['rw-p', 'r--p', 'rw-p']);
  });

  test('the size is rounded up to whole pages', () => {
    const { r, th } = inspect(proc('a = mmap 5000', 'touch a write count n', 'count pages pages(a)'));
    expect(r.counters.get('pages')).toBe(2);
    expect(r.counters.get('n')).toBe(2);
    expect(th.mm.vmas.all()[0]!.end - th.mm.vmas.all()[0]!.start).toBe(2 * PAGE);
  });
});

describe('mprotect', () => {
  test('read-only then a write is SIGSEGV; reads still work', () => {
    const r = runInline(proc('a = mmap 16K', 'touch a write', 'mprotect a r', 'touch a read', 'count reads', 'touch a write', 'count after'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0]!.detail).toMatch(/^write to .* r--p at/);
    expect(r.counters.get('reads')).toBe(1);
    expect(r.counters.get('after') ?? 0).toBe(0);
    // The reads found present PTEs: 4 first-touch faults, then only the fatal one.
    expect(faults(r).pf).toBe(5);
  });

  test('read-only then back to rw: each write takes one fault that reuses its page', () => {
    const sink = new RecordingSink();
    const plain = runInline(proc('a = mmap 16K', 'touch a write'));
    const r = runInline(proc('a = mmap 16K', 'touch a write', 'mprotect a r', 'mprotect a rw', 'touch a write', 'count after'), { sinks: [sink] });
    expect(r.signals).toEqual([]);
    expect(r.counters.get('after')).toBe(1);
    expect(faults(r).pf).toBe(8);
    expect(faults(r).minor).toBe(8);
    // The second batch are protection faults on present, write-protected PTEs...
    for (const f of sink.faults.slice(4)) expect(f.err).toBe(X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
    expect(sink.faults.slice(4).map((f) => f.addr)).toEqual(sink.faults.slice(0, 4).map((f) => f.addr));
    // ...resolved by wp_page_reuse: no new page.
    expect(faults(r).alloc).toBe(faults(plain).alloc);
    const th = mainThread(sink);
    for (const f of sink.faults.slice(0, 4)) expect(pteAt(th, f.addr) & PTE_WRITE).toBe(PTE_WRITE);
    expect(th.mm.rss).toBe(4);
  });

  test('mprotect write-protects the PTEs it covers and only those', () => {
    const { r, sink, th } = inspect(proc('a = mmap 64K', 'touch a write', 'mprotect a r offset 16K length 16K'));
    expect(r.signals).toEqual([]);
    const addrs = sink.faults.map((f) => f.addr);
    expect(addrs).toHaveLength(16);
    const base = addrs[0]!;
    for (let i = 0; i < 16; i++) {
      const pte = pteAt(th, base + i * PAGE);
      expect(pte & PTE_PRESENT).toBe(PTE_PRESENT);
      expect(pte >>> PTE_SHIFT).toBeGreaterThan(0);
      expect(pte & PTE_WRITE, `page ${i}`).toBe(i >= 4 && i < 8 ? 0 : PTE_WRITE);
    }
    // The VMA was split in three: rw, r, rw.
    expect(th.mm.vmas.all().map((v) => v.toString().split(' ')[1])).toEqual(['rw-p', 'r--p', 'rw-p']);
    expect(th.mm.vmas.size).toBe(3);
    // One flush of the 4 changed PTEs.
    expect(r.counts.total(EV.NR_TLB_LOCAL_FLUSH_ONE)).toBe(4);
  });

  test('protecting the middle and restoring it merges the VMA back into one', () => {
    const { r, th } = inspect(proc('a = mmap 1M', 'touch a write', 'mprotect a r offset 256K length 256K', 'mprotect a rw offset 256K length 256K', 'touch a write'));
    expect(r.signals).toEqual([]);
    expect(th.mm.vmas.size).toBe(1);
    const v = th.mm.vmas.all()[0]!;
    expect(v.end - v.start).toBe(MiB);
    // 256 first-touch faults + 64 write-protect faults on the restored middle.
    expect(faults(r).pf).toBe(256 + 64);
  });

  test('PROT_NONE then rw makes the mapping usable', () => {
    const r = runInline(proc('a = mmap 64K none', 'mprotect a rw', 'touch a write', 'count ok'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    expect(faults(r).pf).toBe(16);
  });

  test('mprotect over a hole fails with ENOMEM', () => {
    expect(() => runInline(proc('a = mmap 48K', 'munmap a offset 16K length 16K', 'mprotect a r'))).toThrow(/mprotect failed: ENOMEM/);
  });
});

describe('munmap downgrades the mmap lock to read before the zap (munmap_downgrade, 4.20+)', () => {
  const SRC = 'process {\n  threads 4 pin {\n    loop 6 {\n      c = mmap 1M rw private anon\n      touch c write seq\n      munmap c\n    }\n  }\n}\n';
  // The rw_semaphore of 4.20, where the downgrade came in. (With 5.11+'s reader lock stealing,
  // faulting threads take the lock from the writer woken after each zap, and on this loop the
  // downgrade no longer pays: docs/locking.md.)
  const rwsem = resolveConfig(['kernel=4.20']).rwsem;
  const run = (design: string, munmapDowngrade: boolean) => runWorkload({ ...mmOptions(SRC, { ncpus: 4, design, keep: false }), munmapDowngrade, rwsem });

  test('the same faults, every page and table freed; other threads fault during the zap instead of waiting', () => {
    const n = run('base', false);
    const y = run('base', true);
    expect(y.counts.total(EV.PAGE_FAULTS)).toBe(n.counts.total(EV.PAGE_FAULTS));
    for (const r of [n, y]) expect(r.counts.total(EV.PGFREE)).toBe(r.counts.total(EV.PGALLOC));
    expect(y.elapsedNs).toBeLessThan(n.elapsedNs);
    // Under the read lock other threads run on the mm while it is zapped: the flush now reaches them.
    expect(y.counts.total(EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBeGreaterThan(n.counts.total(EV.NR_TLB_REMOTE_FLUSH_RECEIVED));
  });

  test.each(['dufour-v11', 'lespinasse', 'per-vma-lock', 'kamezawa-fixed'])('%s: runs under the downgrade, every page touched and freed', (design) => {
    const y = run(design, true);
    expect(y.signals).toEqual([]);
    expect(y.counts.total(EV.PAGE_FAULTS)).toBeGreaterThanOrEqual(4 * 6 * 256);
    expect(y.counts.total(EV.PGFREE)).toBe(y.counts.total(EV.PGALLOC));
  });
});
