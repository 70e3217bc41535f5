import { SYNC, type Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import { lookupPteTable } from './pgtable.js';
import { splitHugePmd } from './huge_memory.js';
import { flushTlbRange } from './tlb.js';
import { traceSysEnterMprotect } from './syscall-trace.js';
import { EINVAL, ENOMEM, PTE_WRITE, VM_ACCESS_FLAGS, VM_WRITE } from './types.js';
import { canMerge, mergeNext, mmapWriteLock, mmapWriteUnlock, pageAlign, splitVma, syscallEnter, syscallExit } from './mmap.js';

/** mprotect(2) (mm/mprotect.c): split the VMAs at the range's ends, change their flags, write-protect PTEs, merge. */

/** mprotect(2). Returns 0 or -errno. */
export function* sysMprotect(th: Thread, addr: number, length: number, prot: number): Code<number> {
  th.kfn = 'do_mprotect_pkey';
  traceSysEnterMprotect(th, addr, length, prot);
  yield* syscallEnter(th);
  const t = th.t;
  const mm = th.mm;
  const len = pageAlign(th, length);
  const end = addr + len;
  if (addr % th.k.pageSize !== 0) {
    syscallExit(th);
    return -EINVAL;
  }
  yield* mmapWriteLock(th);
  // The whole range must be mapped.
  let cursor = addr;
  for (const v of mm.vmas.range(addr, end)) {
    if (v.start > cursor) break;
    cursor = v.end;
  }
  if (cursor < end) {
    yield* mmapWriteUnlock(th);
    syscallExit(th);
    return -ENOMEM;
  }
  let first = mm.vmas.find(addr)!;
  if (first.start < addr) first = yield* splitVma(th, first, addr);
  const last = mm.vmas.find(end - 1)!;
  if (last.end > end) yield* splitVma(th, last, end);
  let changed = 0;
  const touched = mm.vmas.range(addr, end);
  for (const v of touched) {
    const newflags = (v.flags & ~VM_ACCESS_FLAGS) | prot;
    if (newflags === v.flags) continue;
    yield* th.k.spf.vmaWriteBegin(th, v);
    v.flags = newflags;
    if (t.mustSync()) yield SYNC;
    v.line.writeBy(t);
    // change_protection(): write-protect PTEs when write permission goes away.
    if ((prot & VM_WRITE) === 0) changed += yield* changeProtection(th, v.start, v.end);
    yield* th.k.spf.vmaWriteEnd(th, v);
  }
  if (changed > 0) yield* flushTlbRange(th, changed);
  // vma_merge() of the changed VMAs with their neighbours.
  for (const v of touched) {
    if (!v.attached) continue;
    const p = mm.vmas.prev(v);
    if (p !== null && canMerge(p, v)) {
      yield* mergeNext(th, p, v);
      const n = mm.vmas.next(p);
      if (n !== null && canMerge(p, n)) yield* mergeNext(th, p, n);
      continue;
    }
    const n = mm.vmas.next(v);
    if (n !== null && canMerge(v, n)) yield* mergeNext(th, v, n);
  }
  yield* mmapWriteUnlock(th);
  syscallExit(th);
  return 0;
}

function* changeProtection(th: Thread, start: number, end: number): Code<number> {
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  const span = geo.pteTableSpan;
  let changed = 0;
  for (let base = start - (start % span); base < end; base += span) {
    const pt = lookupPteTable(th.k.geo, th.mm.pgd, base);
    if (pt === null || pt.used === 0) continue;
    if (pt.huge && (start > base || end < base + span)) yield* splitHugePmd(th, pt);
    yield* pt.ptl.lock(t);
    const hi = Math.min(end, base + span);
    for (let a = Math.max(start, base); a < hi; a += k.pageSize) {
      const i = geo.index(geo.levels - 1, a);
      const pte = pt.ptes[i];
      if ((pte & PTE_WRITE) === 0) continue;
      pt.ptes[i] = pte & ~PTE_WRITE;
      changed++;
      t.cost(k.costs.changePteNs);
    }
    yield* pt.ptl.unlock(t);
  }
  return changed;
}
