import type { Code } from '../engine/engine.js';
import type { Thread } from './kernel.js';
import { findGetPage, setPageDirty, type File } from './filemap.js';
import { putPage } from './page.js';
import { pageAddNewAnonRmap, pageAddRmap, vmfAnonPrepare } from './rmap.js';
import { addMmCounterFast, addMmCounterFastSync } from './rss.js';
import { balanceDirtyPagesRatelimited } from './page-writeback.js';
import { pteMapLock, pteUnlock, type Vmf } from './vmf.js';
import type { Vma } from './vma.js';
import {
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_WRITE, PTE_DIRTY, PTE_PRESENT, PTE_SHIFT, PTE_WRITE,
  VM_FAULT_COMPLETED, VM_FAULT_MAJOR, VM_FAULT_OOM, VM_FAULT_RETRY, VM_FAULT_SIGBUS, VM_SHARED, VM_WRITE,
} from './types.js';

/**
 * do_fault() of mm/memory.c: a missing PTE in a file-backed VMA (read, private write = copy on
 * write, shared write), with fault-around, __do_fault's I/O that drops the mmap lock, and
 * fault_dirty_shared_page().
 */

/** fault_around_bytes: read faults map up to 64 KiB of cached pages around the fault. */
const FAULT_AROUND_BYTES = 64 * 1024;

/** The page index of `addr` in the VMA's file. */
function fileIndex(th: Thread, vma: Vma, addr: number): number {
  return vma.pgoff + Math.floor((addr - vma.start) / th.k.pageSize);
}

/** do_fault(): a missing PTE in a file-backed VMA. */
export function* doFault(th: Thread, vmf: Vmf): Code<number> {
  th.kfn = 'do_fault';
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
  if (!write) return yield* doReadFault(th, vmf);
  if ((vmf.vma.flags & VM_SHARED) === 0) return yield* doCowFault(th, vmf);
  return yield* doSharedFault(th, vmf);
}

/**
 * __do_fault(): get the file page (filemap_fault / shmem_fault). A read from storage drops the
 * mmap lock around the I/O when the fault may retry, and then answers VM_FAULT_RETRY.
 */
function* doFileFault(th: Thread, vmf: Vmf): Code<{ fault: number; pfn: number }> {
  const file = vmf.vma.file!;
  const index = fileIndex(th, vmf.vma, vmf.addr);
  if (index >= file.sizePages) return { fault: VM_FAULT_SIGBUS, pfn: -1 };
  let dropped = false;
  const io = function* (ns: number): Code {
    if (vmf.flags & FAULT_FLAG_ALLOW_RETRY) {
      // lock_page_or_retry() / maybe_unlock_mmap_for_io(): wait for the I/O without the lock.
      yield* th.mm.mmapLock.upRead(th.t);
      dropped = true;
    }
    yield* th.k.eng.sleep(th.t, ns, `I/O on ${file.name}`);
  };
  const r = yield* findGetPage(th, file, index, io);
  if (r.pfn < 0) return { fault: VM_FAULT_OOM, pfn: -1 };
  if (dropped) {
    yield* putPage(th, r.pfn);
    return { fault: VM_FAULT_RETRY | VM_FAULT_MAJOR, pfn: -1 };
  }
  return { fault: r.major ? VM_FAULT_MAJOR : 0, pfn: r.pfn };
}

/** finish_fault() / alloc_set_pte(): install the page under the PTE lock if the PTE is still none. */
function* finishFault(th: Thread, vmf: Vmf, pfn: number, bits: number, anon: boolean): Code<boolean> {
  const t = th.t;
  const k = th.k;
  if (!(yield* pteMapLock(th, vmf))) return false;
  if (vmf.pt.ptes[vmf.idx] !== 0) {
    yield* pteUnlock(th, vmf);
    return false;
  }
  if (anon) pageAddNewAnonRmap(th, pfn);
  else {
    pageAddRmap(k, pfn); // page_add_file_rmap()
    t.cost(k.costs.anonRmapNs / 2);
  }
  vmf.pt.ptes[vmf.idx] = (pfn << PTE_SHIFT) | PTE_PRESENT | bits;
  vmf.pt.used++;
  yield* addMmCounterFastSync(th, 1);
  t.cost(k.costs.pteSetNs);
  yield* pteUnlock(th, vmf);
  return true;
}

/** PTE bits a file page gets on a read fault: writable only where no dirty tracking is needed. */
function readBits(vma: Vma): number {
  const file = vma.file!;
  return vma.flags & VM_SHARED && vma.flags & VM_WRITE && file.shmem ? PTE_WRITE : 0;
}

/** do_read_fault(): map cached pages around the fault first (do_fault_around), then the page itself. */
function* doReadFault(th: Thread, vmf: Vmf): Code<number> {
  const k = th.k;
  const { vma, pt } = vmf;
  const file = vma.file!;
  const around = Math.floor(FAULT_AROUND_BYTES / k.pageSize);
  if (around > 1) {
    // do_fault_around() -> filemap_map_pages(): cached pages in the aligned window, this VMA and
    // this PTE table, mapped under one PTE lock without faults of their own.
    const span = around * k.pageSize;
    const lo = Math.max(vma.start, vmf.addr - (vmf.addr % span), pt.base);
    const hi = Math.min(vma.end, lo + span, pt.base + k.geo.pteTableSpan);
    if (!(yield* pteMapLock(th, vmf))) return VM_FAULT_RETRY;
    for (let a = lo; a < hi; a += k.pageSize) {
      const i = k.geo.index(k.geo.levels - 1, a);
      if (pt.ptes[i] !== 0) continue;
      const pfn = file.pages.get(fileIndex(th, vma, a));
      if (pfn === undefined) continue;
      k.pages.refcount[pfn]++; // get_page()
      pageAddRmap(k, pfn); // page_add_file_rmap()
      pt.ptes[i] = (pfn << PTE_SHIFT) | PTE_PRESENT | readBits(vma);
      pt.used++;
      addMmCounterFast(th, 1);
      th.t.cost(k.costs.pteSetNs + k.costs.anonRmapNs / 2);
    }
    yield* pteUnlock(th, vmf);
    if (pt.ptes[vmf.idx] !== 0) return 0;
  }
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) return r.fault;
  if (!(yield* finishFault(th, vmf, r.pfn, readBits(vma), false))) yield* putPage(th, r.pfn);
  return r.fault;
}

/** do_cow_fault(): a write to a private file mapping: copy the file page into a new anon page. */
function* doCowFault(th: Thread, vmf: Vmf): Code<number> {
  const k = th.k;
  const prepared = yield* vmfAnonPrepare(th, vmf.vma, vmf.flags);
  if (prepared !== 0) return prepared;
  const cow = yield* k.alloc.allocPage(th);
  if (cow < 0) return VM_FAULT_OOM;
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) {
    yield* putPage(th, cow);
    return r.fault;
  }
  th.t.cost(k.eng.jitter(k.pageSize / k.costs.copyBytesPerNs));
  k.contents?.copy(th, r.pfn, cow, 'do_cow_fault');
  yield* putPage(th, r.pfn);
  if (yield* finishFault(th, vmf, cow, PTE_WRITE | PTE_DIRTY, true)) {
    yield* k.lru.add(th, cow);
  } else {
    yield* putPage(th, cow);
  }
  return r.fault;
}

/** do_shared_fault(): a write to a shared file mapping: map the page writable and dirty it. */
function* doSharedFault(th: Thread, vmf: Vmf): Code<number> {
  const r = yield* doFileFault(th, vmf);
  if (r.pfn < 0) return r.fault;
  const file = vmf.vma.file!;
  if (!(yield* finishFault(th, vmf, r.pfn, PTE_WRITE | PTE_DIRTY, false))) {
    yield* putPage(th, r.pfn);
    return r.fault;
  }
  return r.fault | (yield* faultDirtySharedPage(th, vmf, file, r.pfn));
}

/**
 * fault_dirty_shared_page(): dirty the page; if it was clean (or the fs has page_mkwrite),
 * drop the mmap lock and balance dirty pages. Then the fault must tell the arch code the lock is
 * gone: VM_FAULT_RETRY (a second pass that finds the PTE done), or, with Peter Xu's 2022
 * change, VM_FAULT_COMPLETED.
 */
export function* faultDirtySharedPage(th: Thread, vmf: Vmf, file: File, pfn: number): Code<number> {
  const dirtied = setPageDirty(th, file, pfn);
  const pageMkwrite = !file.shmem;
  if (!(dirtied || pageMkwrite)) return 0;
  if (vmf.spec !== null || (vmf.flags & FAULT_FLAG_ALLOW_RETRY) === 0) {
    yield* balanceDirtyPagesRatelimited(th, file);
    return 0;
  }
  yield* th.mm.mmapLock.upRead(th.t);
  yield* balanceDirtyPagesRatelimited(th, file);
  return th.k.opts.faultCompleted ? VM_FAULT_COMPLETED : VM_FAULT_RETRY;
}
