/**
 * The workload's `write` and `expect` statements (src/sim/values.ts) on the page contents the
 * model keeps (src/mm/contents.ts): what a read sees after writes, forks, COW, swap and mremap,
 * and what a wrong read or a bad offset does.
 */
import { describe, expect, test } from 'vitest';
import { ViolationError } from '../../src/check/violation.js';
import { SimulationError } from '../../src/errors.js';
import { EV } from '../../src/events/catalog.js';
import type { Kernel } from '../../src/mm/kernel.js';
import { runWorkload, type RunResult } from '../../src/sim/run.js';
import { usesValues, wordAddr } from '../../src/sim/values.js';
import { parseWorkload } from '../../src/workload/parser.js';
import { inlineOptions } from './helpers.js';

const proc = (...body: string[]): string => `process {\n${body.map((l) => `  ${l}\n`).join('')}}\n`;

function run(src: string, ncpus = 1, hook?: (k: Kernel) => void): RunResult {
  return runWorkload({ ...inlineOptions(src, { ncpus }), keepAddressSpaces: false, ...(hook ? { testHook: hook } : {}) });
}

function violation(src: string, ncpus = 1): ViolationError {
  try {
    run(src, ncpus);
  } catch (e) {
    if (e instanceof ViolationError) return e;
    throw e;
  }
  throw new Error('expected a violation');
}

describe('write and expect', () => {
  test('a page never written reads 0, through the zero page or a new page', () => {
    expect(() => run(proc('c = mmap 8K', 'expect c 0', 'write c 1 offset 4096', 'expect c 0 offset 4088', 'expect c 1 offset 4096'))).not.toThrow();
  });

  test('a wrong read stops the run with read-sees-last-write, naming the word, the page and who filled it', () => {
    const v = violation(proc('c = mmap 8K', 'write c 3 offset 16', 'expect c 4 offset 16'));
    expect(v.violation).toMatchObject({ invariant: 'read-sees-last-write', task: 'inline/1000', fn: 'do_anonymous_page' });
    expect(v.violation.detail).toMatch(/^a read of the word at 0x[0-9a-f]+010 saw 3, expected 4 \(pfn \d+, filled by do_anonymous_page at \d+ ns\)$/);
    expect(v.message).toMatch(/^invariant violated: read-sees-last-write by inline\/1000 in do_anonymous_page at 0x[0-9a-f]+010 \(\d+ ns\): /);
  });

  test('expect works without --check: it is the workload\'s own assertion', () => {
    const src = proc('c = mmap 4K', 'write c 3', 'expect c 4');
    expect(() => runWorkload({ ...inlineOptions(src), checkInvariants: false })).toThrow(ViolationError);
  });

  test('a fork shares the words, and each side\'s write after it is its own (COW copies them)', () => {
    expect(() =>
      run(
        proc(
          'c = mmap 8K',
          'write c 5',
          'write c 6 offset 4096',
          'fork {',
          '  expect c 5',
          '  write c 7',
          '  expect c 7',
          '  expect c 6 offset 4096',
          '}',
          'expect c 5',
          'write c 8 offset 4096',
          'expect c 8 offset 4096',
        ),
      ),
    ).not.toThrow();
  });

  test('pageout writes the words to swap and a swap-in reads them back (a major fault)', () => {
    const r = run(proc('c = mmap 64K', 'write c 9 offset 4096', 'write c 10 offset 65528', 'madvise c pageout', 'sleep 1ms', 'madvise c pageout', 'expect c 9 offset 4096', 'expect c 10 offset 65528'));
    expect(r.counts.total(EV.PSWPOUT)).toBeGreaterThan(0);
    expect(r.counts.total(EV.PSWPIN)).toBe(2);
  });

  test('mremap moves the words with the pages', () => {
    expect(() => run(proc('c = mmap 8K', 'write c 11 offset 4096', 'd = mmap 8K', 'mremap c 1M', 'expect c 11 offset 4096'))).not.toThrow();
  });

  test('a private file mapping\'s COW copies the file page (do_cow_fault), a shared one writes the page cache', () => {
    expect(() =>
      run(proc('f = mmap 8K rw shared file "/tmp/v.dat"', 'write f 12', 'p = mmap 8K rw private file "/tmp/v.dat"', 'expect p 12', 'write p 13', 'expect p 13', 'expect f 12')),
    ).not.toThrow();
  });

  test('khugepaged\'s collapse copies the words into the huge page', () => {
    // PTE tables first (small pages), then the advice: khugepaged collapses the ranges.
    const src = proc('c = mmap 4M', 'touch c write stride 64K', 'write c 14 offset 2M + 8', 'madvise c hugepage', 'sleep 20ms', 'expect c 14 offset 2M + 8');
    let k!: Kernel;
    const r = runWorkload({ ...inlineOptions(src), keepAddressSpaces: false, thp: 'madvise', khugepaged: { sleepMs: 1, pages: 4096 }, testHook: (kk) => (k = kk) });
    expect(r.counts.total(EV.THP_COLLAPSE_ALLOC)).toBeGreaterThan(0);
    expect(k.contents).not.toBeNull();
  });

  test('memory grows with the words written, not with the memory mapped', () => {
    let k!: Kernel;
    run(proc('c = mmap 64M', 'touch c write', 'write c 1 offset 8'), 1, (kk) => (k = kk));
    // Only the one page written holds words (the 16384 touched pages none).
    expect((k.contents as unknown as { pages: Map<number, unknown> }).pages.size).toBeLessThanOrEqual(1);
  });

  test('a word outside the region, or not at a multiple of 8, is a run-time error at the statement', () => {
    expect(() => run(proc('c = mmap 4K', 'write c 1 offset 4092'))).toThrow(SimulationError);
    expect(() => run(proc('c = mmap 4K', 'write c 1 offset 4092'))).toThrow(/inline\.spf:3:3: offset 4092 puts the word outside the region \(4096 bytes\)/);
    expect(() => run(proc('c = mmap 4K', 'expect c 0 offset 4'))).toThrow(/inline\.spf:3:3: offset 4 is not a multiple of the word size \(8 bytes\)/);
    expect(wordAddr(0x1000, 4096, 4088)).toBe(0x1ff8);
  });

  test('a write to a read-only mapping is a SIGSEGV, as a touch is', () => {
    const r = run(proc('c = mmap 4K r', 'write c 1'));
    expect(r.signals).toHaveLength(1);
  });

  test('only workloads that write or expect keep page contents', () => {
    expect(usesValues(parseWorkload(proc('c = mmap 4K', 'touch c write'), 'a.spf'))).toBe(false);
    expect(usesValues(parseWorkload(proc('c = mmap 4K', 'threads 2 {', '  if $tid == 1 { expect c 0 }', '}'), 'a.spf'))).toBe(true);
  });
});
