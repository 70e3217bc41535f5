/**
 * KAMEZAWA Hiroyuki's 2009 RFC (src/mm/spf/kamezawa.ts): the lost wake-up Minchan Kim found,
 * provoked by the shipped `kamezawa-race` workload, and the review fix.
 */
import { describe, expect, test } from 'vitest';
import { SimulationError } from '../../../src/errors.js';
import { ViolationError } from '../../../src/check/violation.js';
import { EV } from '../../../src/events/catalog.js';
import { MiB, pagefaultEvents, proc, runDesign, runShippedDesign, total, W, workerTotal } from './helpers.js';

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the run to throw');
}

const WAIT = /^ {2}(kamezawa-race\/\d+) \(blocked\) waiting on vma->wait_queue of VMA ([0-9a-f]+)-([0-9a-f]+) in invalidate_vma_before_free\(\)$/m;

describe('kamezawa: the lost wake-up', () => {
  test('kamezawa-race (4 threads, 4 CPUs) never finishes: the unmapper sleeps on the VMA wait queue for good', () => {
    const e = thrown(() => runShippedDesign('kamezawa-race', 'kamezawa', ['threads=4'], 4));
    expect(e).toBeInstanceOf(SimulationError);
    const m = WAIT.exec(e.message);
    expect(m, e.message).not.toBeNull();
    const [, task, start, end] = m!;
    // The root of the hang is named first, and it is that task. The suite runs with the
    // invariant checks on, so the hang is the violation no-task-waits-forever, headed by one line.
    const who = task.replace('/', '\\/');
    expect(e.message).toMatch(new RegExp(`^invariant violated: no-task-waits-forever by ${who} in invalidate_vma_before_free \\(\\d+ ns\\): workload 'kamezawa-race' cannot finish: task ${who} will never run again \\(waiting on vma->wait_queue of VMA ${start}-${end} in invalidate_vma_before_free\\(\\)\\)\n`));
    expect(e).toBeInstanceOf(ViolationError);
    expect((e as ViolationError).violation).toMatchObject({ invariant: 'no-task-waits-forever', task, fn: 'invalidate_vma_before_free', addr: null });
    // The VMA is the upper part of the 64 MiB mapping, from offset 2M (the merge removes it).
    expect(parseInt(end, 16) - parseInt(start, 16)).toBe(62 * MiB);
    // The merger holds mmap_sem for writing: faults that fell back wait behind it.
    expect(e.message).toMatch(/waiting on mmap_lock\(\d+\) \(read\)/);
  });

  test('kamezawa-fixed (vma_put wakes at 0) completes the same workload, with speculative faults', () => {
    const r = runShippedDesign('kamezawa-race', 'kamezawa-fixed', ['threads=4'], 4);
    expect(r.counters.get('merges')).toBe(200);
    expect(total(r, EV.SPF)).toBeGreaterThan(0);
    expect(r.signals).toEqual([]);
    expect(pagefaultEvents(r)).toBe(0);
  });

  test('without an unmapper racing the faults, the unfixed design completes too', () => {
    for (const d of ['kamezawa', 'kamezawa-fixed'] as const) {
      const r = runDesign(d, W.noWriter(), { ncpus: 4 });
      // Every worker fault is handled without mmap_sem (the RFC runs the ordinary handler,
      // page-table allocation included, on the pinned VMA).
      expect(total(r, EV.SPF)).toBe(workerTotal(r, EV.PAGE_FAULTS));
    }
  });
});

describe('kamezawa: file faults with I/O (no mmap lock to drop)', () => {
  // The speculative path runs handle_mm_fault() on the pinned VMA without mmap_sem, so it
  // clears FAULT_FLAG_ALLOW_RETRY: a file read that needs I/O waits for it instead of dropping
  // an mmap lock it never took (which once left the rwsem's reader count at -1 and the next
  // mmap_write_lock() waiting forever).
  const src = proc('f = mmap 1M r file "/data/spf-test"', 'threads 1 {', '  touch f read length 4K', '  x = mmap 64K', '}');

  test.each(['kamezawa', 'kamezawa-fixed'] as const)('%s: a file read fault with I/O leaves the mmap lock usable', (d) => {
    const r = runDesign(d, src, { ncpus: 2 });
    expect(r.signals).toEqual([]);
  });

  test('the reproduction itself is sound: it completes on the classic kernel and the other designs', () => {
    for (const d of ['base', 'dufour-v11', 'lespinasse', 'per-vma-lock'] as const) {
      const r = runDesign(d, src, { ncpus: 2 });
      expect(r.signals).toEqual([]);
      expect(total(r, EV.MAJOR_FAULTS)).toBe(1);
    }
  });
});
