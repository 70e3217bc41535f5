/**
 * MAP_POPULATE and MADV_POPULATE_(READ|WRITE) (src/mm/gup.ts): the pages are faulted in by the
 * kernel, under the mmap read lock, and counted as a GUP fault is counted (mm_account_fault()
 * with no regs): vmstat pgfault and the task's min_flt, no perf page-faults event and no
 * exceptions:page_fault_user sample. A touch afterwards takes no fault.
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { PTE_PRESENT, PTE_WRITE } from '../../src/mm/types.js';
import { SimulationError } from '../../src/errors.js';
import { faults, mainThread, pte, RecordingSink, runMm } from './helpers.js';

const PAGES = 64;

/** One process: `setup` maps (and maybe populates) region c of 64 pages; then a touch of every page. */
function populated(setup: string, touch: 'read' | 'write', design?: string) {
  const sink = new RecordingSink();
  const r = runMm(`process {\n  ${setup}\n  count before 1\n  touch c ${touch} count touches\n}\n`, { sinks: [sink], ...(design !== undefined ? { design } : {}) });
  return { r, sink, th: mainThread(sink), f: faults(r) };
}

describe('mmap ... populate', () => {
  test('faults every page in at mmap time: pgfault and min_flt count them, page-faults does not; the touch takes none', () => {
    const { r, sink, th, f } = populated(`c = mmap ${PAGES * 4}K populate`, 'write');
    expect(f.pf).toBe(0);
    expect(f.minor).toBe(0);
    expect(sink.faults).toEqual([]);
    expect(f.pgfault).toBe(PAGES);
    expect(th.minFlt).toBe(PAGES);
    expect(r.counters.get('touches')).toBe(PAGES);
    // Private and writable: populated with write faults (copy-on-write broken now), PTEs writable.
    expect(f.alloc).toBeGreaterThanOrEqual(PAGES);
  });

  test('the same mapping without populate faults at touch time instead', () => {
    const { th, f } = populated(`c = mmap ${PAGES * 4}K`, 'write');
    expect(f.pf).toBe(PAGES);
    expect(f.pgfault).toBe(PAGES);
    expect(th.minFlt).toBe(PAGES);
  });

  test('a read-only private mapping is populated with read faults (the zero page); a read touch takes none', () => {
    const { r, th, f } = populated(`c = mmap ${PAGES * 4}K r populate`, 'read');
    expect(f.pf).toBe(0);
    expect(f.pgfault).toBe(PAGES);
    expect(r.counters.get('touches')).toBe(PAGES);
    const e = pte(th, th.mm.vmas.find(0)!.start);
    expect(e & PTE_PRESENT).not.toBe(0);
    expect(e & PTE_WRITE).toBe(0);
  });

  test('a PROT_NONE mapping is skipped (check_vma_flags refuses it; the error is ignored)', () => {
    const r = runMm(`process {\n  c = mmap ${PAGES * 4}K none populate\n}\n`);
    expect(faults(r).pgfault).toBe(0);
  });

  test('a file on disk: read faults with fault-around and read-ahead, fewer faults than pages, major ones', () => {
    const { r, th, f } = populated(`c = mmap ${PAGES * 4}K r shared file "/data/populate" populate`, 'read');
    expect(f.pf).toBe(0);
    expect(f.pgfault).toBeGreaterThan(0);
    expect(f.pgfault).toBeLessThan(PAGES);
    // Reads from storage: vmstat pgmajfault, but no perf major-faults. The fault that waits for
    // the read drops the mmap lock (VM_FAULT_RETRY, not accounted); __mm_populate() takes it
    // again and faults afresh, without FAULT_FLAG_TRIED: the task counts that one as minor.
    expect(f.major).toBe(0);
    expect(r.counts.total(EV.PGMAJFAULT)).toBeGreaterThan(0);
    expect(th.minFlt + th.majFlt).toBeGreaterThan(0);
    expect(th.minFlt + th.majFlt).toBeLessThan(f.pgfault);
  });

  test.each(['base', 'per-vma-lock', 'dufour-v11', 'lespinasse', 'kamezawa'])('under %s the counts are the same (the fault is the classic one, under the mmap lock)', (design) => {
    const { f } = populated(`c = mmap ${PAGES * 4}K populate`, 'write', design);
    expect(f.pf).toBe(0);
    expect(f.pgfault).toBe(PAGES);
  });

  test('the pgfault counts are the same events as a touch\'s, on the populating task', () => {
    const { r } = populated(`c = mmap ${PAGES * 4}K populate`, 'write');
    expect(r.counts.total(EV.PGFAULT)).toBe(PAGES);
    expect(r.counts.total(EV.PAGE_FAULT_USER)).toBe(0);
  });
});

describe('madvise ... populate_write / populate_read', () => {
  test('populate_write faults the range in as writes; a write touch then takes none', () => {
    const { th, f } = populated(`c = mmap ${PAGES * 4}K\n  madvise c populate_write`, 'write');
    expect(f.pf).toBe(0);
    expect(f.pgfault).toBe(PAGES);
    expect(th.minFlt).toBe(PAGES);
  });

  test('populate_read maps the zero page: a write touch then takes a (copy-on-write) fault per page', () => {
    const { f } = populated(`c = mmap ${PAGES * 4}K\n  madvise c populate_read`, 'write');
    expect(f.pf).toBe(PAGES);
    expect(f.pgfault).toBe(2 * PAGES);
  });

  test('part of a region: only that part', () => {
    const { f } = populated(`c = mmap ${PAGES * 4}K\n  madvise c populate_write offset 16K length 32K`, 'write');
    expect(f.pgfault).toBe(PAGES);
    expect(f.pf).toBe(PAGES - 8);
  });

  test.each([false, true])('a shared file on disk (fault_completed=%s): the lock the fault drops is taken again', (faultCompleted) => {
    // fault_dirty_shared_page() drops the mmap lock (VM_FAULT_RETRY, or VM_FAULT_COMPLETED with
    // fault_completed): the populate takes it again and goes on; the touch then takes no fault.
    const sink = new RecordingSink();
    const r = runMm(`process {\n  c = mmap ${PAGES * 4}K rw shared file "/data/pw"\n  madvise c populate_write\n  touch c write count touches\n}\n`, { faultCompleted, sinks: [sink] });
    // Released as often as taken: no reader left, none released twice.
    expect(mainThread(sink).mm.mmapLock.readers).toBe(0);
    expect(faults(r).pf).toBe(0);
    expect(faults(r).pgfault).toBeGreaterThan(0);
    expect(r.counters.get('touches')).toBe(PAGES);
  });

  test('populate_write of a read-only mapping fails with EINVAL (a run-time error at the statement)', () => {
    expect(() => runMm(`process {\n  c = mmap 64K r\n  madvise c populate_write\n}\n`)).toThrow(SimulationError);
    expect(() => runMm(`process {\n  c = mmap 64K r\n  madvise c populate_write\n}\n`)).toThrow(/inline\.spf:3:3: madvise failed: EINVAL/);
  });
});
