/**
 * The architecture profiles (src/config/arch.ts) as the mm model uses them: page size and
 * page-table shape (fault counts, THP size), the powerpc hash MMU's hash faults, and TLB
 * shootdown by IPI (x86) versus broadcast invalidation (arm64, powerpc).
 */
import { describe, expect, test } from 'vitest';
import { getArch } from '../../src/config/arch.js';
import { EV } from '../../src/events/catalog.js';
import { PTE_HASHED, PTE_PRESENT } from '../../src/mm/types.js';
import { faults, MiB, MM_EVENTS, proc, pte, RecordingSink, runMm, total, totals, workloadThreads } from './helpers.js';

/** page_fault1's inner loop, once: map 128 MiB, write every page, unmap. */
const PAGE_FAULT1 = proc('a = mmap 128M', 'touch a write count w', 'let n = pages(a)', 'count np n', 'munmap a');

const PROFILES = [
  ['x86', 4096, 32768],
  ['arm64', 4096, 32768],
  ['powerpc-radix', 65536, 2048],
  ['powerpc-hash', 65536, 2048],
] as const;

describe('page size: a 128 MiB touch', () => {
  test.each(PROFILES)('%s: %i-byte pages, %i faults', (profile, pageSize, n) => {
    expect(2 ** getArch(profile).pageShift).toBe(pageSize);
    const r = runMm(PAGE_FAULT1, { profile, keep: false });
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('w')).toBe(n);
    expect(r.counters.get('np')).toBe(n);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(n);
    expect(total(r, EV.MINOR_FAULTS)).toBe(n);
    expect(total(r, EV.PGFAULT)).toBe(n);
    // A page per fault plus the page tables; all of it freed by the munmap.
    expect(faults(r).alloc).toBeGreaterThan(n);
    expect(faults(r).alloc).toBeLessThan(n + n / 8);
    expect(faults(r).free).toBe(faults(r).alloc);
  });

  test('the --arch profiles: powerpc is radix', () => {
    expect(getArch('powerpc').profile).toBe('powerpc-radix');
  });
});

describe('powerpc hash MMU', () => {
  test('hash faults: no extra page faults, but more system time than radix for the same workload', () => {
    const radix = runMm(PAGE_FAULT1, { profile: 'powerpc-radix' });
    const hash = runMm(PAGE_FAULT1, { profile: 'powerpc-hash' });
    expect(total(hash, EV.PAGE_FAULTS)).toBe(total(radix, EV.PAGE_FAULTS));
    expect(total(hash, EV.PGFAULT)).toBe(total(radix, EV.PGFAULT));
    expect(total(hash, EV.MINOR_FAULTS)).toBe(2048);
    // Each first access after the Linux PTE is set takes a hash fault (hash_page(), ~500 ns,
    // in the kernel), and each unmapped hashed page a hash invalidation.
    const c = getArch('powerpc-hash').costs;
    expect(c.hashPageNs).toBeGreaterThan(0);
    expect(hash.sysNs - radix.sysNs).toBeGreaterThan(2048 * c.hashPageNs);
    expect(hash.userNs + hash.sysNs).toBeGreaterThan(radix.userNs + radix.sysNs);
    expect(hash.elapsedNs).toBeGreaterThan(radix.elapsedNs);
  });

  test('a hashed PTE takes no second hash fault: a second pass costs the same on both MMUs', () => {
    const src = (passes: number) => proc('a = mmap 32M', ...Array(passes).fill('touch a write'));
    const d = (profile: string) => runMm(src(2), { profile }).sysNs - runMm(src(1), { profile }).sysNs;
    expect(Math.abs(d('powerpc-hash') - d('powerpc-radix'))).toBeLessThan(1000);
  });

  test('the touched PTEs are marked hashed on hash, never on radix', () => {
    for (const [profile, hashed] of [['powerpc-hash', PTE_HASHED], ['powerpc-radix', 0]] as const) {
      const sink = new RecordingSink();
      runMm(proc('a = mmap 4M', 'touch a write length 2M'), { profile, sinks: [sink] });
      const th = workloadThreads(sink)[0]!;
      const start = th.mm.vmas.all()[0]!.start;
      for (let a = start; a < start + 4 * MiB; a += 65536) {
        const p = pte(th, a);
        if (a < start + 2 * MiB) expect(p & (PTE_PRESENT | PTE_HASHED)).toBe(PTE_PRESENT | hashed);
        else expect(p).toBe(0);
      }
    }
  });
});

describe('TLB shootdown', () => {
  /**
   * Four threads of one process on four CPUs: thread 0 unmaps 1 MiB of a written 4 MiB region
   * while the other three are running (computing) on their CPUs.
   */
  const MUNMAP_WHILE_OTHERS_RUN = proc(
    'a = mmap 4M',
    'touch a write',
    'threads 4 pin {',
    '  if $tid == 0 {',
    '    compute 20us',
    '    munmap a offset 1M length 1M',
    '  } else {',
    '    compute 200us',
    '  }',
    '}',
  );

  test('x86: munmap of a range other CPUs run sends IPIs (nr_tlb_remote_flush), one per other CPU', () => {
    const r = runMm(MUNMAP_WHILE_OTHERS_RUN, { profile: 'x86', ncpus: 4 });
    expect(total(r, EV.NR_TLB_REMOTE_FLUSH)).toBe(1);
    expect(total(r, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(3);
    expect(getArch('x86').tlb).toBe('ipi');
  });

  test.each(['arm64', 'powerpc-radix', 'powerpc-hash'])('%s: broadcast invalidation, never an IPI', (profile) => {
    const r = runMm(MUNMAP_WHILE_OTHERS_RUN, { profile, ncpus: 4 });
    expect(r.signals).toEqual([]);
    expect(total(r, EV.NR_TLB_REMOTE_FLUSH)).toBe(0);
    expect(total(r, EV.NR_TLB_REMOTE_FLUSH_RECEIVED)).toBe(0);
    expect(total(r, EV.NR_TLB_LOCAL_FLUSH_ONE) + total(r, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBeGreaterThan(0);
  });

  test('x86: no IPI when no other CPU runs the mm', () => {
    const r = runMm(proc('a = mmap 4M', 'touch a write', 'munmap a offset 1M length 1M'), { profile: 'x86', ncpus: 4 });
    expect(total(r, EV.NR_TLB_REMOTE_FLUSH)).toBe(0);
    expect(total(r, EV.NR_TLB_LOCAL_FLUSH_ALL)).toBe(1); // 256 pages > the 33-page ceiling
  });
});

describe('THP size follows the page-table shape', () => {
  test.each([
    ['x86', 64],
    ['arm64', 64],
    ['powerpc-radix', 64], // 64 KiB pages x 32 entries = 2 MiB
    ['powerpc-hash', 8], // 64 KiB pages x 256 entries = 16 MiB
  ] as const)('%s: a 128 MiB write touch under thp=always takes %i huge faults', (profile, n) => {
    const r = runMm(proc('a = mmap 128M', 'touch a write'), { profile, thp: 'always' });
    expect(total(r, EV.PAGE_FAULTS)).toBe(n);
    expect(total(r, EV.THP_FAULT_ALLOC)).toBe(n);
  });
});
