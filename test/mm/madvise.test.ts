/**
 * madvise(2) (src/mm/madvise.ts, and MADV_PAGEOUT in src/mm/swap.ts): do_madvise() refuses a
 * start that is not page aligned with EINVAL, for every advice, before it touches a VMA (found
 * by the fuzz tests: MADV_HUGEPAGE at an unaligned offset split a VMA at a byte address); the
 * length is rounded up to pages.
 */
import { describe, expect, test } from 'vitest';
import { proc } from './helpers.js';
import { runInline } from '../sim/helpers.js';

describe('madvise: the start must be page aligned', () => {
  test.each(['dontneed', 'hugepage', 'nohugepage', 'pageout'])('%s at a start 2 bytes into a page: EINVAL, nothing changed', (advice) => {
    expect(() => runInline(proc('a = mmap 64K', 'touch a write', `madvise a ${advice} offset 2 length 8K`))).toThrow(/madvise failed: EINVAL/);
  });

  test.each(['dontneed', 'hugepage', 'nohugepage', 'pageout'])('%s at an aligned start with a length in bytes: the length is rounded up', (advice) => {
    const r = runInline(proc('a = mmap 64K', 'touch a write', `madvise a ${advice} offset 4K length 5`));
    expect(r.signals).toEqual([]);
  });
});
