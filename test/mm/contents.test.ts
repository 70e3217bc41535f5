/**
 * Page contents (src/mm/contents.ts) and the lost-write example of docs/invariants.md
 * (fixtures/workloads/lost-write.spf): two threads write-fault on one zero-page-mapped page
 * nearly together. The real wp_page_copy() rechecks the PTE under its lock (pte_same) and backs
 * off; the test-only mutant 'wp-copy-no-recheck' installs its stale copy over the other thread's
 * written page, and an `expect` of the workload catches the lost write.
 */
import { describe, expect, test } from 'vitest';
import { ViolationError } from '../../src/check/violation.js';
import { PageContents } from '../../src/mm/contents.js';
import type { Thread } from '../../src/mm/kernel.js';
import { runWorkload } from '../../src/sim/run.js';
import { prepareRun, runOptionsOf } from '../../src/sim/setup.js';

const LOST_WRITE = 'fixtures/workloads/lost-write.spf';

function lostWrite(params: readonly string[], mutant: boolean, check = true): ViolationError | null {
  const p = prepareRun(LOST_WRITE, params, { cpus: '2', check });
  try {
    runWorkload({ ...runOptionsOf(p), ...(mutant ? { mutant: 'wp-copy-no-recheck' as const } : {}) });
    return null;
  } catch (e) {
    if (e instanceof ViolationError) return e;
    throw e;
  }
}

describe('the lost-write example', () => {
  test('the real wp_page_copy keeps both writes: the expects pass', () => {
    expect(lostWrite([], false)).toBeNull();
  });

  test('without the pte_same recheck, a COW copy racing a write loses it, and an expect catches it', () => {
    const v = lostWrite([], true);
    expect(v).not.toBeNull();
    expect(v!.violation).toMatchObject({ invariant: 'read-sees-last-write', fn: 'wp_page_copy' });
    // The first thread's word (offset 0) is gone: the second thread's copy, made before the
    // first thread wrote, replaced the page it had written.
    expect(v!.violation.detail).toMatch(/^a read of the word at 0x[0-9a-f]+000 saw 0, expected 1 \(pfn \d+, filled by wp_page_copy at \d+ ns\)$/);
  });

  test('the expect catches it without --check too, and the race needs the two faults to overlap', () => {
    expect(lostWrite([], true, false)?.violation.invariant).toBe('read-sees-last-write');
    // 3 us apart, the second fault starts after the first copy is installed: nothing to lose.
    expect(lostWrite(['delay=3us'], true)).toBeNull();
  });

  test('the copy left mapped by no PTE is caught at the end when no expect looks', () => {
    // With the workload's expects taken out, nothing reads the page: the race still leaves the
    // first copy counted as mapped (mapcount 1) by no PTE, so exit_mmap never frees it, and the
    // exit scan finds a page held by nothing.
    const p = prepareRun(LOST_WRITE, [], { cpus: '2', check: true });
    let err: unknown = null;
    try {
      runWorkload({ ...runOptionsOf(p), mutant: 'wp-copy-no-recheck', workload: { ...p.workload, processes: p.workload.processes.map((d) => ({ ...d, body: d.body.map((s) => (s.k === 'threads' ? { ...s, body: s.body.filter((b) => b.k !== 'expect') } : s)) })) } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ViolationError);
    expect((err as ViolationError).violation).toMatchObject({ invariant: 'pgalloc-pgfree-balance', fn: 'exit' });
    expect((err as ViolationError).violation.detail).toMatch(/\(refcount 1, mapcount 1\) is held by nothing$/);
  });
});

describe('PageContents', () => {
  const th = { t: { clock: 5 }, comm: 'w', tid: 1 } as unknown as Thread;

  test('words by page, zero when never written, copied and moved through swap slots', () => {
    const c = new PageContents();
    expect(c.load(3, 0)).toBe(0);
    c.store(3, 1, 42);
    expect(c.load(3, 1)).toBe(42);
    c.copy(th, 3, 4, 'wp_page_copy');
    c.store(3, 1, 43);
    expect(c.load(4, 1)).toBe(42);
    c.writeSlot(3, 9);
    c.free(3);
    expect(c.load(3, 1)).toBe(0);
    c.readSlot(th, 9, 5);
    expect(c.load(5, 1)).toBe(43);
    c.clear(th, 5, 'do_anonymous_page');
    expect(c.load(5, 1)).toBe(0);
  });

  test('a mismatch names the function that filled the page', () => {
    const c = new PageContents();
    c.copy(th, 1, 2, 'do_cow_fault');
    expect(() => c.mismatch(th, 0x1008, 2, 7, 0)).toThrow('invariant violated: read-sees-last-write by w/1 in do_cow_fault at 0x1008 (5 ns): a read of the word at 0x1008 saw 0, expected 7 (pfn 2, filled by do_cow_fault at 5 ns)');
  });
});
