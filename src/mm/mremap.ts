import type { Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { Vma } from './vma.js';
import { splitHugePmd } from './huge_memory.js';
import { flushTlbRange } from './tlb.js';
import { pteAllocMm } from './pgalloc.js';
import { anonVmaClone } from './rmap.js';
import { EINVAL, ENOMEM } from './types.js';
import { mmapWriteLock, mmapWriteUnlock, pageAlign, syscallEnter, syscallExit, treeWrite, vmaLink, doMunmap, MMAP_MIN_ADDR } from './mmap.js';

/** mremap(2) (mm/mremap.c): shrink, grow in place, or move a whole VMA and its page-table entries. */

/**
 * mremap(2) with MREMAP_MAYMOVE of the whole VMA at `addr`: shrink by unmapping the tail, grow
 * in place when the next VMA leaves room, else move: a new VMA elsewhere, the page tables'
 * entries moved over (move_page_tables), the old VMA removed without freeing its pages.
 * Returns the (possibly new) address, or -errno.
 */
export function* sysMremap(th: Thread, addr: number, oldLength: number, newLength: number): Code<number> {
  th.kfn = 'do_mremap';
  yield* syscallEnter(th);
  const t = th.t;
  const k = th.k;
  const mm = th.mm;
  const oldLen = pageAlign(th, oldLength);
  const newLen = pageAlign(th, newLength);
  yield* mmapWriteLock(th);
  const done = function* (r: number): Code<number> {
    yield* mmapWriteUnlock(th);
    syscallExit(th);
    return r;
  };
  const vma = mm.vmas.find(addr);
  if (vma === null || vma.start > addr || addr + oldLen > vma.end || newLen <= 0) return yield* done(-EINVAL);
  if (newLen <= oldLen) {
    if (newLen < oldLen) yield* doMunmap(th, addr + newLen, addr + oldLen);
    return yield* done(addr);
  }
  const next = mm.vmas.next(vma);
  if (addr + oldLen === vma.end && (next === null || next.start >= addr + newLen) && addr + newLen <= mm.mmapBase) {
    // vma_adjust(): grow in place.
    yield* k.spf.vmaWriteBegin(th, vma);
    vma.end = addr + newLen;
    yield* treeWrite(th, vma);
    yield* k.spf.vmaWriteEnd(th, vma);
    return yield* done(addr);
  }
  // move_vma(): copy_vma() to a new place, move_page_tables(), then unmap the old range.
  const to = mm.vmas.unmappedAreaTopdown(newLen, MMAP_MIN_ADDR, mm.mmapBase);
  if (to < 0) return yield* done(-ENOMEM);
  const nv = new Vma(k.vmaId(), to, to + newLen, vma.flags, vma.file === null ? to / k.pageSize : vma.pgoff, vma.file, k.line('vma'));
  anonVmaClone(nv, vma);
  t.cost(k.costs.vmaAllocNs);
  yield* vmaLink(th, nv);
  const geo = k.geo;
  let moved = 0;
  yield* k.spf.vmaWriteBegin(th, vma);
  for (let a = addr; a < addr + oldLen; a += k.pageSize) {
    const src = lookupPteTable(th.k.geo, mm.pgd, a);
    if (src === null) continue;
    const i = geo.index(geo.levels - 1, a);
    const pte = src.ptes[i];
    if (pte === 0) continue;
    if (src.huge) yield* splitHugePmd(th, src);
    const dst = yield* pteAllocMm(th, mm, to + (a - addr));
    if (dst === null) break;
    yield* src.ptl.lock(t);
    src.ptes[i] = 0;
    src.used--;
    yield* src.ptl.unlock(t);
    yield* dst.ptl.lock(t);
    dst.ptes[geo.index(geo.levels - 1, to + (a - addr))] = pte;
    dst.used++;
    yield* dst.ptl.unlock(t);
    t.cost(k.costs.changePteNs);
    moved++;
  }
  if (moved > 0) yield* flushTlbRange(th, moved);
  yield* k.spf.vmaWriteEnd(th, vma);
  // The old range now maps nothing: unmapping it frees only page tables.
  yield* doMunmap(th, addr, addr + oldLen);
  return yield* done(to);
}
