/**
 * The classic fault path (src/mm/fault.ts) driven by tiny DSL workloads: zero-page reads,
 * do_wp_page copies, access errors, faults after munmap, and what a killed process stops doing.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { runWorkload } from '../../src/sim/run.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_WRITE, SIGKILL, SIGSEGV, X86_PF_PROT, X86_PF_USER, X86_PF_WRITE, ZERO_PFN } from '../../src/mm/types.js';
import { faults, inlineOptions, mainThread, MiB, PAGE, pteAt, RecordingSink, runInline } from '../sim/helpers.js';

const PAGES = MiB / PAGE; // 256 pages in a 1 MiB region

/** A 1 MiB region mapped and then touched by `body` (DSL statements, one per line). */
function withRegion(prot: string, ...body: string[]): string {
  return `process {\n  a = mmap 1M ${prot}\n${body.map((l) => `  ${l}\n`).join('')}}\n`;
}

describe('reads of fresh anonymous memory', () => {
  test('map the shared zero page: one fault per page and no data page allocated', () => {
    const one = runInline(withRegion('rw', 'touch a read length 4K'));
    const sink = new RecordingSink();
    const all = runInline(withRegion('rw', 'touch a read'), { sinks: [sink] });
    expect(faults(all).pf).toBe(PAGES);
    expect(faults(all).minor).toBe(PAGES);
    expect(faults(all).pgfault).toBe(PAGES);
    // Only the page tables (pud, pmd, pte: the same for 1 page as for 256) are allocated.
    expect(faults(all).alloc).toBe(faults(one).alloc);
    expect(faults(all).alloc).toBeLessThanOrEqual(4);
    // Every fault was a not-present read fault from user mode.
    expect(sink.faults).toHaveLength(PAGES);
    for (const f of sink.faults) expect(f.err).toBe(X86_PF_USER);
    // The PTEs point at the zero page, read-only; the RSS did not grow.
    const th = mainThread(sink);
    for (const f of sink.faults) {
      const pte = pteAt(th, f.addr);
      expect(pte & PTE_PRESENT).toBe(PTE_PRESENT);
      expect(pte & PTE_WRITE).toBe(0);
      expect(pte >>> PTE_SHIFT).toBe(ZERO_PFN);
    }
    expect(th.mm.rss).toBe(0);
  });

  test('a later write to the same pages takes one more fault per page (do_wp_page copy)', () => {
    const readOnly = runInline(withRegion('rw', 'touch a read'));
    const sink = new RecordingSink();
    const r = runInline(withRegion('rw', 'touch a read', 'touch a write'), { sinks: [sink] });
    expect(faults(r).pf).toBe(2 * PAGES);
    expect(faults(r).minor).toBe(2 * PAGES);
    expect(faults(r).pgfault).toBe(2 * PAGES);
    // Each write fault found a present, read-only PTE (a protection fault) and copied (zeroed)
    // a new page for it.
    const writes = sink.faults.slice(PAGES);
    for (const f of writes) expect(f.err).toBe(X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
    expect(faults(r).alloc - faults(readOnly).alloc).toBe(PAGES);
    const th = mainThread(sink);
    const pfns = new Set<number>();
    for (const f of writes) {
      const pte = pteAt(th, f.addr);
      expect(pte & PTE_WRITE).toBe(PTE_WRITE);
      expect(pte >>> PTE_SHIFT).not.toBe(ZERO_PFN);
      pfns.add(pte >>> PTE_SHIFT);
    }
    expect(pfns.size).toBe(PAGES);
    expect(th.mm.rss).toBe(PAGES);
  });

  test('a read of a read-only mapping works (zero page) and allocates nothing', () => {
    const r = runInline(withRegion('r', 'touch a read', 'count done'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('done')).toBe(1);
    expect(faults(r).pf).toBe(PAGES);
    expect(faults(r).alloc).toBeLessThanOrEqual(4);
  });
});

describe('write faults', () => {
  test('a first write allocates one page per fault and a second write pass takes no faults', () => {
    const once = runInline(withRegion('rw', 'touch a write'));
    const sink = new RecordingSink();
    const twice = runInline(withRegion('rw', 'touch a write', 'touch a write', 'touch a read', 'count done'), { sinks: [sink] });
    expect(faults(once).pf).toBe(PAGES);
    expect(faults(twice).pf).toBe(PAGES);
    expect(faults(twice).pgfault).toBe(PAGES);
    expect(faults(twice).alloc).toBe(faults(once).alloc);
    expect(faults(once).alloc).toBeGreaterThanOrEqual(PAGES);
    expect(twice.counters.get('done')).toBe(1);
    for (const f of sink.faults) expect(f.err).toBe(X86_PF_USER | X86_PF_WRITE);
    expect(mainThread(sink).mm.rss).toBe(PAGES);
    // The extra passes cost user time only, no system time.
    expect(twice.userNs).toBeGreaterThan(once.userNs);
    expect(twice.sysNs).toBeLessThan(once.sysNs * 1.1);
  });

  test('stride and random touches fault once per distinct page', () => {
    const stride = runInline(withRegion('rw', 'touch a write stride 1K length 16K count n'));
    expect(stride.counters.get('n')).toBe(16);
    expect(faults(stride).pf).toBe(4);
    const sink = new RecordingSink();
    const random = runInline(withRegion('rw', 'touch a write random 100 length 64K count n'), { sinks: [sink] });
    expect(random.counters.get('n')).toBe(100);
    const distinct = new Set(sink.faults.map((f) => f.addr));
    expect(distinct.size).toBe(sink.faults.length);
    expect(faults(random).pf).toBe(distinct.size);
    expect(distinct.size).toBeGreaterThan(8);
    expect(distinct.size).toBeLessThanOrEqual(16);
  });
});

describe('bad accesses end in a signal', () => {
  test('a write to a read-only mapping kills the process with SIGSEGV; nothing after it runs', () => {
    const r = runInline(withRegion('r', 'touch a write', 'count after', 'b = mmap 64K', 'touch b write'));
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0]).toMatchObject({ signal: SIGSEGV, comm: 'inline' });
    expect(r.signals[0]!.detail).toMatch(/^write to [0-9a-f]+-[0-9a-f]+ r--p at 0x[0-9a-f]+$/);
    expect(r.counters.get('after') ?? 0).toBe(0);
    // One exception, which never reached handle_mm_fault and did not complete.
    expect(faults(r).pf).toBe(1);
    expect(faults(r).minor).toBe(0);
    expect(faults(r).pgfault).toBe(0);
    expect(faults(r).alloc).toBe(0);
  });

  test('the signal stops the access loop at the first bad page', () => {
    const sink = new RecordingSink();
    const r = runInline(withRegion('r', 'touch a read', 'touch a write count w'), { sinks: [sink] });
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(faults(r).pf).toBe(PAGES + 1);
    expect(r.counters.get('w') ?? 0).toBe(0);
    const last = sink.faults[sink.faults.length - 1]!;
    expect(last.addr).toBe(sink.faults[0]!.addr);
    expect(last.err).toBe(X86_PF_USER | X86_PF_WRITE | X86_PF_PROT);
  });

  test('any access to a PROT_NONE mapping is SIGSEGV', () => {
    const r = runInline(withRegion('none', 'touch a read', 'count after'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.signals[0]!.detail).toMatch(/^read to .* ---p at/);
    expect(r.counters.get('after') ?? 0).toBe(0);
  });

  test.each(['read', 'write'])('a %s after munmap is SIGSEGV (no mapping)', (access) => {
    const r = runInline(withRegion('rw', 'touch a write', 'munmap a', `touch a ${access}`, 'count after'));
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0]!.signal).toBe(SIGSEGV);
    expect(r.signals[0]!.detail).toMatch(/^no mapping at 0x[0-9a-f]+$/);
    expect(r.counters.get('after') ?? 0).toBe(0);
    expect(faults(r).pf).toBe(PAGES + 1);
    expect(faults(r).minor).toBe(PAGES);
  });

  test('the signal kills only the faulting process', () => {
    // Two processes with separate address spaces: the first (pid 1000) writes to its read-only
    // mapping and dies; the second reads its own and finishes.
    const r = runInline(
      'process count 2 {\n  b = mmap 16K r\n  if $pid == 1000 {\n    touch b write\n  } else {\n    touch b read\n  }\n  count after\n}\n',
      { ncpus: 2 },
    );
    expect(r.signals).toEqual([expect.objectContaining({ pid: 1000, signal: SIGSEGV })]);
    expect(r.counters.get('after')).toBe(1);
    expect(faults(r).minor).toBe(4);
  });

  test('the signal stops the sibling threads of the faulting thread', () => {
    // Thread 1 would loop for 1 ms; thread 0 dies at ~200 us and takes the process with it.
    const r = runInline(
      'process {\n  b = mmap 16K r\n  threads 2 {\n    if $tid == 0 {\n      compute 200us\n      touch b write\n' +
        '    } else {\n      loop for 1ms {\n        compute 1us\n        count spins\n      }\n    }\n  }\n  count after\n}\n',
      { ncpus: 2 },
    );
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.counters.get('after') ?? 0).toBe(0);
    const spins = r.counters.get('spins') ?? 0;
    expect(spins).toBeGreaterThan(50);
    expect(spins).toBeLessThan(500);
    expect(r.elapsedNs).toBeLessThan(500_000);
  });

  // Linux kills the whole thread group, waking threads blocked in the kernel (here at a
  // barrier); a sibling left blocked would make the run fail with "will never run again".
  test('a sibling blocked at a barrier dies with its process', () => {
    const r = runInline(
      'process {\n  b = mmap 16K r\n  threads 2 {\n    if $tid == 0 {\n      compute 200us\n      touch b write\n    }\n' +
        '    barrier\n    count after\n  }\n}\n',
      { ncpus: 2 },
    );
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.counters.get('after') ?? 0).toBe(0);
  });

  test('running out of the machine\'s memory is SIGKILL', () => {
    const o = inlineOptions(withRegion('rw', 'touch a write', 'count after'));
    // 128 KiB of "RAM": 32 frames, fewer than the 256 pages touched.
    const r = runWorkload({ ...o, machine: { ...o.machine, memoryBytes: 128 * 1024 } });
    expect(r.signals).toEqual([expect.objectContaining({ signal: SIGKILL })]);
    expect(r.signals[0]!.detail).toMatch(/out of memory/);
    expect(r.counters.get('after') ?? 0).toBe(0);
    expect(faults(r).alloc).toBe(31); // every frame but the zero page
  });
});

describe('concurrent faults on the same pages', () => {
  test('threads racing on one region install each page once', () => {
    const sink = new RecordingSink();
    const r = runInline('process {\n  a = mmap 1M\n  threads 4 {\n    touch a write\n  }\n}\n', { ncpus: 4, sinks: [sink] });
    const f = faults(r);
    // Every thread faults on a page nobody has installed yet; losers of a race free their page.
    expect(f.pf).toBeGreaterThanOrEqual(PAGES);
    expect(f.pf).toBeLessThanOrEqual(4 * PAGES);
    expect(f.minor).toBe(f.pf);
    const th = mainThread(sink);
    expect(th.mm.rss).toBe(PAGES);
    expect(f.alloc - f.free).toBe(th.k.alloc.inUse);
    // The data pages plus the page tables of one 1 MiB region (at most two PTE tables).
    expect(th.k.alloc.inUse).toBeGreaterThanOrEqual(PAGES + 3);
    expect(th.k.alloc.inUse).toBeLessThanOrEqual(PAGES + 4);
    expect(r.counts.total(EV.PAGE_FAULTS)).toBe(sink.faults.length);
  });
});

describe("a guest's fault overhead (guestFaultNs)", () => {
  test('paid once per fault at entry: the same faults, system time up by about faults x guestFaultNs (+-JITTER)', () => {
    const src = withRegion('rw', 'touch a write');
    const bare = inlineOptions(src);
    const guest = { ...bare, arch: { ...bare.arch, costs: { ...bare.arch.costs, guestFaultNs: 10_000 } } };
    const a = runWorkload(bare);
    const b = runWorkload(guest);
    expect(faults(b)).toEqual(faults(a));
    expect(faults(a).pf).toBe(PAGES);
    const extra = (b.sysNs - a.sysNs) / PAGES;
    expect(extra).toBeGreaterThan(10_000 * 0.98);
    expect(extra).toBeLessThan(10_000 * 1.02);
    // Kernel time only: the user's accesses cost what they did.
    expect(b.userNs).toBe(a.userNs);
  });
});
