import type { Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import { flushTlbRange } from './tlb.js';
import { madvisePopulate, mmapReadLock, mmapReadUnlock } from './gup.js';
import { MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_POPULATE_READ, MADV_POPULATE_WRITE, traceSysEnterMadvise } from './syscall-trace.js';
import { EINVAL, VM_HUGEPAGE, VM_NOHUGEPAGE } from './types.js';
import { mmapWriteLock, mmapWriteUnlock, pageAlign, splitVma, syscallEnter, syscallExit, tlbFinishMmu, zapRange } from './mmap.js';

/** madvise(2) (mm/madvise.c): MADV_DONTNEED, MADV_(NO)HUGEPAGE, MADV_POPULATE_(READ|WRITE); MADV_PAGEOUT is in swap.ts. */

/** do_madvise()'s first check, for every advice: the start must be page aligned (else -EINVAL). */
export function madviseStartInvalid(th: Thread, addr: number): boolean {
  return addr % th.k.pageSize !== 0;
}

/**
 * The opening of every madvise(2) here: the kernel function named, the sys_enter_madvise
 * tracepoint, the syscall's entry, then do_madvise()'s start check. False: the start is not
 * aligned and the syscall has returned (-EINVAL).
 */
function* madviseEnter(th: Thread, kfn: string, addr: number, length: number, advice: number): Code<boolean> {
  th.kfn = kfn;
  traceSysEnterMadvise(th, addr, length, advice);
  yield* syscallEnter(th);
  if (!madviseStartInvalid(th, addr)) return true;
  syscallExit(th);
  return false;
}

/**
 * madvise(MADV_DONTNEED): under the mmap lock for reading, zap the range's pages (the VMAs
 * stay); the next touch faults again. Returns 0 or -errno.
 */
export function* sysMadviseDontneed(th: Thread, addr: number, length: number): Code<number> {
  if (!(yield* madviseEnter(th, 'madvise_dontneed_single_vma', addr, length, MADV_DONTNEED))) return -EINVAL;
  const t = th.t;
  const mm = th.mm;
  const end = addr + pageAlign(th, length);
  if (!mm.mmapLock.downReadFast(t)) yield* mm.mmapLock.downRead(t);
  let zapped = 0;
  for (const v of mm.vmas.range(addr, end)) {
    const lo = Math.max(addr, v.start);
    const hi = Math.min(end, v.end);
    yield* th.k.spf.unmapBegin(th, v);
    zapped += yield* zapRange(th, lo, hi);
    yield* th.k.spf.unmapEnd(th, v);
  }
  if (zapped > 0) yield* flushTlbRange(th, zapped);
  yield* tlbFinishMmu(th, []);
  if (!mm.mmapLock.upReadFast(t)) yield* mm.mmapLock.upRead(t);
  syscallExit(th);
  return 0;
}

/** madvise(MADV_HUGEPAGE / MADV_NOHUGEPAGE): set or clear VM_HUGEPAGE on the range (mmap write lock). */
export function* sysMadviseHuge(th: Thread, addr: number, length: number, huge: boolean): Code<number> {
  if (!(yield* madviseEnter(th, 'hugepage_madvise', addr, length, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))) return -EINVAL;
  const mm = th.mm;
  const end = addr + pageAlign(th, length);
  yield* mmapWriteLock(th);
  let first = mm.vmas.find(addr);
  if (first !== null && first.start < addr && first.end > addr) first = yield* splitVma(th, first, addr);
  const last = mm.vmas.find(end - 1);
  if (last !== null && last.start < end && last.end > end) yield* splitVma(th, last, end);
  for (const v of mm.vmas.range(addr, end)) {
    yield* th.k.spf.vmaWriteBegin(th, v);
    v.flags = huge ? (v.flags | VM_HUGEPAGE) & ~VM_NOHUGEPAGE : (v.flags | VM_NOHUGEPAGE) & ~VM_HUGEPAGE;
    yield* th.k.spf.vmaWriteEnd(th, v);
  }
  yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

/**
 * madvise(MADV_POPULATE_READ / MADV_POPULATE_WRITE) (5.14+): under the mmap lock for reading
 * (madvise_need_mmap_write() is false for them), fault the range in (gup.ts madvisePopulate()).
 * Returns 0 or -errno (ENOMEM for a hole, EINVAL for a mapping that refuses the access).
 */
export function* sysMadvisePopulate(th: Thread, addr: number, length: number, write: boolean): Code<number> {
  if (!(yield* madviseEnter(th, 'madvise_populate', addr, length, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ))) return -EINVAL;
  const end = addr + pageAlign(th, length);
  yield* mmapReadLock(th);
  const r = yield* madvisePopulate(th, addr, end, write);
  yield* mmapReadUnlock(th);
  syscallExit(th);
  return r;
}
