/**
 * Stacks that grow (expand_stack() in src/mm/access.ts, `stack` mappings) and mremap(2)
 * (sysMremap in src/mm/mremap.ts): growth below the start, the stack guard gap, and mremap's
 * grow-in-place, move and shrink.
 *
 * The DSL only touches inside a named region, so an address below a mapping is reached through
 * a region that was mapped there and unmapped again (its name keeps the range).
 */
import { describe, expect, test } from 'vitest';
import { EV } from '../../src/events/catalog.js';
import { PTE_PRESENT, PTE_WRITE, SIGSEGV, VM_GROWSDOWN } from '../../src/mm/types.js';
import { faults, KiB, mainThread, MiB, MM_EVENTS, PAGE, pfnAt, proc, pte, RecordingSink, runMm, total, totals, vmaAt } from './helpers.js';

function inspect(source: string) {
  const sink = new RecordingSink();
  const r = runMm(source, { sinks: [sink] });
  return { r, sink, th: mainThread(sink) };
}

/**
 * A 64 KiB stack at the top; below it a 1536 KiB hole (the unmapped region `g`), and below
 * that a 64 KiB mapping `v` (the next VMA down). The stack guard gap is 256 pages (1 MiB): the
 * stack may grow down to g + 1M, not below.
 */
function stackLayout(vProt = 'rw', ...then: string[]): string {
  return proc('s = mmap 64K rw stack', 'g = mmap 1536K', `v = mmap 64K ${vProt}`, 'munmap g', ...then);
}

const G = 1536 * KiB;

/** The stack VMA (the highest one) and the VMA below it. */
function stackAndBelow(th: ReturnType<typeof mainThread>) {
  const all = th.mm.vmas.all();
  return { stack: all[all.length - 1]!, below: all[all.length - 2]! };
}

describe('stack mappings grow down', () => {
  test('the layout: the stack sits 1536 KiB above the next VMA down', () => {
    const { th } = inspect(stackLayout());
    const { stack, below } = stackAndBelow(th);
    expect(stack.flags & VM_GROWSDOWN).toBe(VM_GROWSDOWN);
    expect(stack.end - stack.start).toBe(64 * KiB);
    expect(stack.start - below.end).toBe(G);
  });

  test('a touch just below the start grows the stack by one page (one minor fault)', () => {
    const { r, th, sink } = inspect(stackLayout('rw', `touch g write offset ${G - PAGE} length 4K`, 'count ok'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    expect(total(r, EV.PAGE_FAULTS)).toBe(1);
    expect(total(r, EV.MINOR_FAULTS)).toBe(1);
    const { stack, below } = stackAndBelow(th);
    const addr = sink.faults[0]!.addr;
    expect(stack.start).toBe(addr);
    expect(stack.end - stack.start).toBe(64 * KiB + PAGE);
    expect(stack.start - below.end).toBe(G - PAGE);
    expect(vmaAt(th, addr)).toBe(stack);
    expect(pte(th, addr) & (PTE_PRESENT | PTE_WRITE)).toBe(PTE_PRESENT | PTE_WRITE);
    expect(th.mm.vmas.all()).toHaveLength(2);
  });

  test('touching down a range page by page keeps growing it: one fault per page', () => {
    const { r, th } = inspect(stackLayout('rw', 'touch g write offset 1M length 512K', 'count ok'));
    expect(r.signals).toEqual([]);
    expect(total(r, EV.PAGE_FAULTS)).toBe(128);
    const { stack, below } = stackAndBelow(th);
    expect(stack.end - stack.start).toBe(64 * KiB + 512 * KiB);
    expect(stack.start - below.end).toBe(MiB);
  });

  test('a touch exactly the guard gap above the next VMA down still grows the stack', () => {
    const { r, th } = inspect(stackLayout('rw', 'touch g write offset 1M length 4K', 'count ok'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
    const { stack, below } = stackAndBelow(th);
    expect(stack.start - below.end).toBe(MiB);
    expect(stack.end - stack.start).toBe(64 * KiB + 512 * KiB);
  });

  test.each([
    ['one page inside the guard gap', 1024 * KiB - PAGE],
    ['far below, right above the next VMA', 0],
    ['in the middle of the gap', 512 * KiB],
  ])('a touch %s is SIGSEGV and the stack does not move', (_what, off) => {
    const { r, th, sink } = inspect(stackLayout('rw', `touch g write offset ${off} length 4K`, 'count ok'));
    expect(r.signals).toHaveLength(1);
    expect(r.signals[0]!.signal).toBe(SIGSEGV);
    expect(r.counters.get('ok')).toBeUndefined();
    // The fault never reached handle_mm_fault.
    expect(total(r, EV.PAGE_FAULTS)).toBe(1);
    expect(total(r, EV.PGFAULT)).toBe(0);
    const { stack } = stackAndBelow(th);
    expect(stack.end - stack.start).toBe(64 * KiB);
    expect(sink.faults[0]!.addr).toBeLessThan(stack.start);
  });

  test('a mapping without `stack` does not grow: a touch just below it is SIGSEGV', () => {
    const r = runMm(proc('s = mmap 64K rw', 'g = mmap 1536K', 'v = mmap 64K r', 'munmap g', `touch g write offset ${G - PAGE} length 4K`, 'count ok'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(r.counters.get('ok')).toBeUndefined();
  });

  test('a read just below a stack grows it too (the zero page is mapped)', () => {
    const { r, th, sink } = inspect(stackLayout('rw', `touch g read offset ${G - 2 * PAGE} length 8K`, 'count ok'));
    expect(r.signals).toEqual([]);
    expect(total(r, EV.PAGE_FAULTS)).toBe(2);
    expect(stackAndBelow(th).stack.start).toBe(sink.faults[0]!.addr);
    expect(pfnAt(th, sink.faults[0]!.addr)).toBe(0);
  });

  test('a grown stack is freed at exit', () => {
    const r = runMm(stackLayout('rw', 'touch s write', 'touch g write offset 1M'), { keep: false });
    expect(r.signals).toEqual([]);
    expect(faults(r).free).toBe(faults(r).alloc);
  });

  // Regression test for a fixed model bug; it was: expandStack() (src/mm/access.ts) enforces the guard gap against any VMA below.
  // expand_downwards() only enforces it against an accessible VMA that is not itself a stack
  // (4.17: `prev && !(prev->vm_flags & VM_GROWSDOWN) && (prev->vm_flags &
  // (VM_WRITE|VM_READ|VM_EXEC))`; later vma_is_accessible(prev)): a PROT_NONE mapping below
  // (a guard region of its own) does not stop the stack.
  test('the guard gap is not enforced against a PROT_NONE mapping below', () => {
    const r = runMm(stackLayout('none', 'touch g write offset 512K length 4K', 'count ok'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('ok')).toBe(1);
  });

  // Regression test for a fixed model bug (a missing limit); it was: acct_stack_growth() refuses to grow a VM_GROWSDOWN VMA beyond
  // RLIMIT_STACK (8 MiB by default); expandStack() has no such check, so with nothing below, a
  // touch 16 MiB under a 64 KiB stack grows it to 16 MiB + 64 KiB instead of SIGSEGV.
  test('a stack does not grow beyond RLIMIT_STACK (8 MiB)', () => {
    const r = runMm(proc('s = mmap 64K rw stack', 'g = mmap 16M', 'munmap g', 'touch g write offset 0 length 4K', 'count ok'));
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
  });
});

describe('mremap', () => {
  test('grows in place when the range above is free: same start, old pages kept, new pages fault', () => {
    const ref = inspect(proc('a = mmap 1M', 'b = mmap 1M', 'touch b write'));
    const { r, th, sink } = inspect(proc('a = mmap 1M', 'b = mmap 1M', 'touch b write', 'munmap a', 'mremap b 2M', 'touch b write count w'));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('w')).toBe(512);
    const start = sink.faults[0]!.addr;
    const v = th.mm.vmas.all();
    expect(v).toHaveLength(1);
    expect(v[0]!.start).toBe(start);
    expect(v[0]!.end - v[0]!.start).toBe(2 * MiB);
    // The first pass faulted 256 pages; after the growth only the new upper half faults.
    expect(total(r, EV.PAGE_FAULTS)).toBe(512);
    expect(sink.faults.slice(256).every((f) => f.addr >= start + MiB)).toBe(true);
    for (let a = start; a < start + MiB; a += PAGE) expect(pfnAt(th, a)).toBe(pfnAt(ref.th, a));
  });

  test('moves when the next VMA is in the way: the pages keep their frames, no allocation, no faults on re-touch', () => {
    const ref = inspect(proc('a = mmap 64K r', 'b = mmap 1M', 'touch b write'));
    const { r, th, sink } = inspect(proc('a = mmap 64K r', 'b = mmap 1M', 'touch b write', 'mremap b 2M', 'touch b write length 1M count w'));
    const msg = JSON.stringify(totals(r, MM_EVENTS));
    expect(r.signals).toEqual([]);
    expect(r.counters.get('w')).toBe(256);
    const oldStart = sink.faults[0]!.addr;
    const moved = th.mm.vmas.all().find((x) => x.end - x.start === 2 * MiB)!;
    expect(moved.start).not.toBe(oldStart);
    // Nothing is left at the old address.
    expect(vmaAt(th, oldStart)).toBeNull();
    expect(pte(th, oldStart)).toBe(0);
    // The moved pages: same frames in the same order, still writable; no fault to re-touch them.
    expect(total(r, EV.PAGE_FAULTS), msg).toBe(256);
    for (let i = 0; i < 256; i++) {
      expect(pfnAt(th, moved.start + i * PAGE)).toBe(pfnAt(ref.th, oldStart + i * PAGE));
      expect(pte(th, moved.start + i * PAGE) & PTE_WRITE).toBe(PTE_WRITE);
    }
    // Only a page table for the new place was allocated; no data page was copied or freed.
    expect(faults(r).alloc - faults(ref.r).alloc, msg).toBeLessThanOrEqual(3);
    expect(faults(r).free).toBeLessThanOrEqual(3);
    expect(th.mm.rss).toBe(256);
  });

  test('after a move the new upper part faults like fresh memory', () => {
    const r = runMm(proc('a = mmap 64K r', 'b = mmap 1M', 'touch b write', 'mremap b 2M', 'touch b write'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(512);
  });

  test('swap entries move with the page tables: the moved pages are swap-cache hits', () => {
    const r = runMm(proc('a = mmap 64K r', 'b = mmap 1M', 'touch b write', 'madvise b pageout', 'mremap b 2M', 'touch b write length 1M'));
    expect(total(r, EV.PSWPOUT)).toBe(256);
    expect(total(r, EV.MINOR_FAULTS)).toBe(512);
    expect(total(r, EV.PGMAJFAULT)).toBe(0);
  });

  test('shrinking unmaps the tail: its pages are freed and touching it is SIGSEGV', () => {
    // x and b are the same range: x is mapped and unmapped first, b lands in the same place.
    const { r, th, sink } = inspect(proc('x = mmap 1M', 'munmap x', 'b = mmap 1M', 'touch b write', 'mremap b 512K', 'touch b write count w', 'touch x write offset 512K length 4K', 'count bad'));
    expect(r.counters.get('w')).toBe(128);
    expect(r.counters.get('bad')).toBeUndefined();
    expect(r.signals.map((s) => s.signal)).toEqual([SIGSEGV]);
    expect(faults(r).free).toBe(128);
    const v = th.mm.vmas.all();
    expect(v).toHaveLength(1);
    expect(v[0]!.end - v[0]!.start).toBe(512 * KiB);
    // The SIGSEGV was at the first page of the old tail.
    const last = sink.faults[sink.faults.length - 1]!;
    expect(last.addr).toBe(v[0]!.end);
    expect(total(r, EV.PAGE_FAULTS)).toBe(256 + 1);
  });

  test('mremap to the same size changes nothing', () => {
    const { r, th, sink } = inspect(proc('b = mmap 1M', 'touch b write', 'mremap b 1M', 'touch b write'));
    expect(total(r, EV.PAGE_FAULTS)).toBe(256);
    expect(th.mm.vmas.all()[0]!.start).toBe(sink.faults[0]!.addr);
  });

  test('everything is freed at exit after moves and shrinks', () => {
    const r = runMm(proc('a = mmap 64K r', 'b = mmap 1M', 'touch b write', 'mremap b 2M', 'touch b write', 'mremap b 768K', 'touch b read'), { keep: false });
    expect(r.signals).toEqual([]);
    expect(faults(r).free, JSON.stringify(totals(r, MM_EVENTS))).toBe(faults(r).alloc);
  });
});
