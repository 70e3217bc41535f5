import { describe, expect, test } from 'vitest';
import { getMachine } from '../../src/config/machine.js';
import { EV } from '../../src/events/catalog.js';
import { runWorkload } from '../../src/sim/run.js';
import { inlineOptions } from '../sim/helpers.js';

/** Dirtying a shared mapping of a disk file: the mmap lock is dropped, dirty pages are balanced. */
const src = (size: string): string => `param size = ${size}
process {
  m = mmap $size rw shared file "/var/db/data"
  touch m read
  touch m write count pages
}
`;

function run(size: string, memoryMiB: number, faultCompleted = false) {
  const o = inlineOptions(src(size));
  return runWorkload({ ...o, machine: { ...getMachine('x86-vm16'), memoryBytes: memoryMiB * 2 ** 20 }, faultCompleted });
}

describe('dirty file pages: balance_dirty_pages()', () => {
  test('each first write to a disk-file page drops the mmap lock and retries (one pgfault more per page)', () => {
    const r = run('1M', 1024);
    const pages = r.counters.get('pages')!;
    expect(pages).toBe(256);
    // The read pass brings the file in (its I/O retries alike in both runs); each first write
    // then adds one retried pass per page unless the fault completes (VM_FAULT_COMPLETED).
    const c = run('1M', 1024, true);
    expect(r.counts.total(EV.PGFAULT) - c.counts.total(EV.PGFAULT)).toBe(pages);
    expect(r.counts.total(EV.PAGE_FAULTS)).toBe(c.counts.total(EV.PAGE_FAULTS));
  });

  test('past dirty_ratio (20 % of memory) the writer pauses until writeback catches up', () => {
    // 32 MiB dirtied (from the page cache, faster than 0.5 GB/s of writeback) on a 64 MiB
    // machine: the limit is ~12.8 MiB; on a 1 GiB machine it is never reached.
    const big = run('32M', 1024);
    const small = run('32M', 64);
    expect(small.counts.total(EV.PAGE_FAULTS)).toBe(big.counts.total(EV.PAGE_FAULTS));
    // The pauses are sleeps: elapsed grows, CPU time does not.
    // Over the limit by ~4900 pages at 0.5 GB/s of writeback: ~40 ms of pauses.
    expect(small.elapsedNs).toBeGreaterThan(big.elapsedNs + 30e6);
    expect(small.sysNs).toBeLessThan(big.sysNs * 1.2);
  });
});
