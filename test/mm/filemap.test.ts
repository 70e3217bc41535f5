/**
 * File mappings over the page cache (src/mm/filemap.ts and the file fault paths of
 * src/mm/do_fault.ts): disk files (major faults with the machine's storage latency, 128 KiB
 * read-around), tmpfs (shmem: never major), fault-around, private COW and shared writes with
 * the retry after fault_dirty_shared_page (or VM_FAULT_COMPLETED).
 */
import { describe, expect, test } from 'vitest';
import { getMachine } from '../../src/config/machine.js';
import { EV } from '../../src/events/catalog.js';
import type { File } from '../../src/mm/filemap.js';
import { PG_ANON, PG_DIRTY } from '../../src/mm/page.js';
import { PTE_DIRTY, PTE_PRESENT, PTE_WRITE } from '../../src/mm/types.js';
import { faults, KiB, mainThread, MiB, MM_EVENTS, PAGE, pfnAt, proc, pte, RecordingSink, runMm, total, totals, vmaAt, type MmRunOptions } from './helpers.js';

const PAGES = MiB / PAGE; // 256
const WINDOW = (64 * KiB) / PAGE; // fault-around: 16 pages

/**
 * mmap_base is 4 KiB short of a 64 KiB boundary; a 60 KiB mapping first puts the next 1 MiB
 * mapping (the file) on a 64 KiB boundary, so fault-around windows and file offsets line up.
 */
function fileSource(mapping: string, ...body: string[]): string {
  return proc('pad = mmap 60K', `f = mmap 1M ${mapping}`, ...body);
}

function inspect(source: string, o: MmRunOptions = {}) {
  const sink = new RecordingSink();
  const r = runMm(source, { ...o, sinks: [sink] });
  const th = mainThread(sink);
  return { r, sink, th, file: (path: string): File => th.k.files.get(path)! };
}

/** The file VMA's start (checked to be 64 KiB aligned). */
function fileStart(th: ReturnType<typeof mainThread>): number {
  const v = th.mm.vmas.all().find((x) => x.file !== null)!;
  expect(v.start % (64 * KiB)).toBe(0);
  return v.start;
}

describe('disk files', () => {
  test('a read fault on an uncached page is major: I/O with the mmap lock dropped, then a retry', () => {
    const { r, th, file } = inspect(fileSource('r file "/data/f"', 'touch f read length 4K'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(1);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(1);
    expect(total(r, EV.MINOR_FAULTS)).toBe(0);
    expect(total(r, EV.PGMAJFAULT)).toBe(1);
    expect(total(r, EV.PGFAULT)).toBe(2);
    // The storage latency (x86-vm16: 100 us) is in the elapsed time.
    expect(r.elapsedNs).toBeGreaterThan(100_000);
    expect(r.elapsedNs).toBeLessThan(200_000);
    // Read-around brought 128 KiB (32 pages) into the page cache: pages 0..31.
    const f = file('/data/f');
    expect([...f.pages.keys()].sort((a, b) => a - b)).toEqual([...Array(32).keys()]);
    // The retry's fault-around mapped the first 16 of them, read-only, straight from the cache.
    const start = fileStart(th);
    for (let i = 0; i < PAGES; i++) {
      const a = start + i * PAGE;
      if (i < WINDOW) {
        expect(pfnAt(th, a)).toBe(f.pages.get(i));
        expect(pte(th, a) & PTE_WRITE).toBe(0);
      } else {
        expect(pte(th, a)).toBe(0);
      }
    }
  });

  test('read-around and fault-around: 1 MiB read in 16 faults, 15 major and 1 minor, 16 pages mapped by each', () => {
    const { r, th, sink } = inspect(fileSource('r file "/data/f"', 'touch f read count rd'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.counters.get('rd')).toBe(PAGES);
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(PAGES / WINDOW);
    // Page 0 reads pages 0..31; page 16 is then cached (a minor fault); from page 32 on each
    // read-around window [i - 16, i + 16) adds 16 new pages, one major fault per 16 pages.
    expect(total(r, EV.PGMAJFAULT)).toBe(15);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(15);
    expect(total(r, EV.MINOR_FAULTS)).toBe(1);
    expect(total(r, EV.PGFAULT)).toBe(16 + 15);
    const start = fileStart(th);
    expect(sink.faults.map((f) => (f.addr - start) / PAGE)).toEqual([...Array(16).keys()].map((i) => i * WINDOW));
    // 16 faults for 256 pages, all of them mapped at the end: each fault mapped exactly 16.
    for (let a = start; a < start + MiB; a += PAGE) expect(pte(th, a) & PTE_PRESENT).toBe(PTE_PRESENT);
    expect(r.elapsedNs).toBeGreaterThan(15 * 100_000);
    expect(r.elapsedNs).toBeLessThan(15 * 100_000 + 1_000_000);
  });

  test('the storage latency shows in the elapsed time: the same read on a 5 ms disk', () => {
    const fast = runMm(fileSource('r file "/data/f"', 'touch f read'));
    const slow = runMm(fileSource('r file "/data/f"', 'touch f read'), { machine: 'x86-2s8c' });
    expect(total(slow, EV.PGMAJFAULT)).toBe(15);
    const io = getMachine('x86-2s8c').ioLatencyNs;
    expect(io).toBe(5_000_000);
    expect(slow.elapsedNs).toBeGreaterThan(15 * io);
    expect(slow.elapsedNs - fast.elapsedNs).toBeGreaterThan(15 * (io - 100_000) - 500_000);
    // The I/O waits are sleeps, not CPU time.
    expect(slow.sysNs + slow.userNs).toBeLessThan(2_000_000);
  });

  test('the page cache outlives the mapping: a second mapping of the file faults minor only', () => {
    const once = runMm(fileSource('r file "/data/f"', 'touch f read', 'munmap f'));
    const { r } = inspect(fileSource('r file "/data/f"', 'touch f read', 'munmap f', 'g = mmap 1M r file "/data/f"', 'touch g read'));
    expect(total(r, EV.PGMAJFAULT)).toBe(15);
    expect(total(r, EV.PAGE_FAULTS) - total(once, EV.PAGE_FAULTS)).toBe(PAGES / WINDOW);
    expect(total(r, EV.MINOR_FAULTS) - total(once, EV.MINOR_FAULTS)).toBe(PAGES / WINDOW);
    // No data page allocated the second time (page tables only).
    expect(faults(r).alloc - faults(once).alloc).toBeLessThanOrEqual(3);
  });

  test('random reads: every fault that needed I/O is major, the others minor', () => {
    const { r, file } = inspect(fileSource('r file "/data/f"', 'touch f read random 64'));
    expect(total(r, EV.PGMAJFAULT)).toBe(total(r, EV.MAJOR_FAULTS));
    expect(total(r, EV.PAGE_FAULTS)).toBe(total(r, EV.MAJOR_FAULTS) + total(r, EV.MINOR_FAULTS));
    expect(total(r, EV.PGMAJFAULT)).toBeGreaterThan(0);
    // Each major fault read at most one 32-page window.
    expect(file('/data/f').pages.size).toBeLessThanOrEqual(32 * total(r, EV.PGMAJFAULT));
  });
});

describe('tmpfs files and shared anonymous memory (shmem)', () => {
  test('tmpfs never takes a major fault: a missing page is allocated zeroed', () => {
    const { r, file } = inspect(fileSource('r file "/tmp/f"', 'touch f read'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(PAGES);
    expect(total(r, EV.MINOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(0);
    expect(file('/tmp/f').pages.size).toBe(PAGES);
  });

  test('tmpfs pages stay cached: a second mapping is served by fault-around, 16 pages per fault', () => {
    const r = runMm(fileSource('r file "/dev/shm/f"', 'touch f read', 'munmap f', 'g = mmap 1M r file "/dev/shm/f"', 'touch g read'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(PAGES + PAGES / WINDOW);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
  });

  test('tmpfs writes, shared or private, never take a major fault either', () => {
    for (const m of ['rw shared', 'rw private']) {
      const r = runMm(fileSource(`${m} file "/tmp/f"`, 'touch f read', 'touch f write'));
      expect(total(r, EV.PGMAJFAULT), m).toBe(0);
    }
  });
});

describe('private file mappings: copy-on-write', () => {
  test('a read then a write: the write copies the cache page into an anonymous page; the cache page stays', () => {
    const readOnly = inspect(fileSource('rw private file "/data/f"', 'touch f read'));
    const { r, th, file } = inspect(fileSource('rw private file "/data/f"', 'touch f read', 'touch f write'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    // One write-protect fault per page, each a copy.
    expect(total(r, EV.PAGE_FAULTS) - total(readOnly.r, EV.PAGE_FAULTS), msg).toBe(PAGES);
    expect(faults(r).alloc - faults(readOnly.r).alloc).toBe(PAGES);
    const f = file('/data/f');
    expect(f.pages.size).toBe(PAGES);
    const start = fileStart(th);
    for (let i = 0; i < PAGES; i++) {
      const a = start + i * PAGE;
      const cached = f.pages.get(i)!;
      expect(pfnAt(th, a)).not.toBe(cached);
      expect(pte(th, a) & PTE_WRITE).toBe(PTE_WRITE);
      expect(th.k.pages.flags[pfnAt(th, a)]! & PG_ANON).toBe(PG_ANON);
      // The cache page is the one the read mapped, untouched: not anonymous, not dirty.
      expect(cached).toBe(pfnAt(readOnly.th, a));
      expect(th.k.pages.flags[cached]! & (PG_ANON | PG_DIRTY)).toBe(0);
    }
    expect(f.dirty).toBe(0);
  });

  test('a first write copies at once (do_cow_fault): the page cache is filled, and not dirtied', () => {
    const { r, th, file } = inspect(fileSource('rw private file "/tmp/f"', 'touch f write'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(PAGES);
    // A shmem page for the cache and an anonymous copy for each fault.
    expect(faults(r).alloc).toBe(2 * PAGES + 3); // + pud, pmd and PTE table
    const f = file('/tmp/f');
    const start = fileStart(th);
    for (let i = 0; i < PAGES; i++) {
      expect(pfnAt(th, start + i * PAGE)).not.toBe(f.pages.get(i));
      expect(th.k.pages.flags[f.pages.get(i)!]! & PG_DIRTY).toBe(0);
    }
  });
});

describe('shared file mappings: writes dirty the page cache', () => {
  test('tmpfs: each write fault dirties its page and retries (pgfault 2 per page, counted major)', () => {
    const { r, th, file } = inspect(fileSource('rw shared file "/tmp/f"', 'touch f write'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(PAGES);
    expect(total(r, EV.PGFAULT)).toBe(2 * PAGES);
    // A retried fault is accounted major (mm_account_fault: FAULT_FLAG_TRIED), with no I/O.
    expect(total(r, EV.MAJOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.MINOR_FAULTS)).toBe(0);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
    const f = file('/tmp/f');
    const start = fileStart(th);
    for (let i = 0; i < PAGES; i++) {
      const a = start + i * PAGE;
      expect(pfnAt(th, a)).toBe(f.pages.get(i)); // the cache page itself is mapped
      expect(pte(th, a) & (PTE_WRITE | PTE_DIRTY)).toBe(PTE_WRITE | PTE_DIRTY);
      expect(th.k.pages.flags[f.pages.get(i)!]! & PG_DIRTY).toBe(PG_DIRTY);
    }
    // shmem is not dirty-accounted.
    expect(f.dirty).toBe(0);
  });

  test('with fault_completed the dirtying faults complete: pgfault 1 per page, minor', () => {
    const r = runMm(fileSource('rw shared file "/tmp/f"', 'touch f write'), { faultCompleted: true });
    expect(total(r, EV.PAGE_FAULTS)).toBe(PAGES);
    expect(total(r, EV.PGFAULT)).toBe(PAGES);
    expect(total(r, EV.MINOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.MAJOR_FAULTS)).toBe(0);
  });

  test('a disk file read then written: write-protect faults (page_mkwrite), each retried; dirty pages accounted', () => {
    const readOnly = runMm(fileSource('rw shared file "/data/f"', 'touch f read'));
    const { r, th, file } = inspect(fileSource('rw shared file "/data/f"', 'touch f read', 'touch f write'));
    const writes = total(r, EV.PAGE_FAULTS) - total(readOnly, EV.PAGE_FAULTS);
    expect(writes).toBe(PAGES);
    expect(total(r, EV.PGFAULT) - total(readOnly, EV.PGFAULT)).toBe(2 * PAGES);
    expect(total(r, EV.MAJOR_FAULTS) - total(readOnly, EV.MAJOR_FAULTS)).toBe(PAGES);
    expect(total(r, EV.PGMAJFAULT)).toBe(total(readOnly, EV.PGMAJFAULT));
    // No page copied: the writes went to the cache pages.
    expect(faults(r).alloc).toBe(faults(readOnly).alloc);
    expect(file('/data/f').dirty).toBe(PAGES);
    expect(vmaAt(th, fileStart(th))!.file!.name).toBe('/data/f');
  });

  test('the same with fault_completed: one pass per write fault', () => {
    const readOnly = runMm(fileSource('rw shared file "/data/f"', 'touch f read'), { faultCompleted: true });
    const r = runMm(fileSource('rw shared file "/data/f"', 'touch f read', 'touch f write'), { faultCompleted: true });
    expect(total(r, EV.PGFAULT) - total(readOnly, EV.PGFAULT)).toBe(PAGES);
    expect(total(r, EV.MINOR_FAULTS) - total(readOnly, EV.MINOR_FAULTS)).toBe(PAGES);
  });

  test('shared anonymous memory is shmem: the same dirtying retry', () => {
    const r = runMm(proc('s = mmap 1M rw shared anon', 'touch s write'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(PAGES);
    expect(total(r, EV.PGFAULT)).toBe(2 * PAGES);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
  });

  test('a second write pass takes no fault (the PTEs are writable and dirty)', () => {
    const once = runMm(fileSource('rw shared file "/tmp/f"', 'touch f write'));
    const twice = runMm(fileSource('rw shared file "/tmp/f"', 'touch f write', 'touch f write'));
    expect(total(twice, EV.PAGE_FAULTS)).toBe(total(once, EV.PAGE_FAULTS));
  });
});
