import { SYNC, type Code } from '../engine/engine.js';
import type { Kernel, Thread } from './kernel.js';
import { PG_ANON } from './page.js';
import type { Vma } from './vma.js';
import { FAULT_FLAG_VMA_LOCK, VM_FAULT_RETRY } from './types.js';

/**
 * The reverse map (mm/rmap.c): a VMA's anon_vma, attached on its first anonymous fault and shared
 * with the VMAs split, copied or forked from it; and a page's mapcount, the number of PTEs that
 * map it.
 */

/** struct anon_vma: the reverse-map root shared by the anonymous pages of a VMA (and its merges). */
export class AnonVma {
  constructor(readonly id: number) {}
}

/**
 * anon_vma_prepare(): attach an anon_vma to the VMA on its first anonymous fault, under the mmap
 * lock (read) and page_table_lock, as the page-fault design requires (anonVmaAttach).
 */
export function* anonVmaPrepare(th: Thread, vma: Vma): Code {
  if (vma.anonVma !== null) return;
  const t = th.t;
  t.cost(th.k.costs.vmaAllocNs);
  yield* th.mm.pageTableLock.lock(t);
  if (vma.anonVma === null) {
    const av = th.k.newAnonVma();
    yield* th.k.spf.anonVmaAttach(th, vma, () => {
      vma.anonVma = av;
    });
    if (t.mustSync()) yield SYNC;
    vma.line.writeBy(t);
  }
  yield* th.mm.pageTableLock.unlock(t);
}

/**
 * vmf_anon_prepare() (mm/memory.c, 6.10+): attach an anon_vma to the VMA before its first
 * anonymous page. __anon_vma_prepare() needs the mmap lock (it looks at the neighbouring VMAs);
 * a fault holding only the VMA lock takes it with a trylock for the while, and answers
 * VM_FAULT_RETRY (back to the mmap-lock path) only if the trylock fails. Under the mmap lock,
 * plain anon_vma_prepare().
 */
export function* vmfAnonPrepare(th: Thread, vma: Vma, flags: number): Code<number> {
  if (vma.anonVma !== null) return 0;
  if ((flags & FAULT_FLAG_VMA_LOCK) === 0) {
    yield* anonVmaPrepare(th, vma);
    return 0;
  }
  const lock = th.mm.mmapLock;
  if (!(yield* lock.downReadTrylock(th.t))) return VM_FAULT_RETRY;
  yield* anonVmaPrepare(th, vma);
  if (!lock.upReadFast(th.t)) yield* lock.upRead(th.t);
  return 0;
}

/**
 * anon_vma_clone() / anon_vma_fork(): `to` (a VMA split off, copied by mremap, or the child's
 * copy at fork) shares `from`'s anon_vma (the model keeps no chains: one anon_vma per family).
 */
export function anonVmaClone(to: Vma, from: Vma): void {
  to.anonVma = from.anonVma;
}

/** is_mergeable_anon_vma(): two VMAs may merge unless both have anon_vmas and they differ. */
export function anonVmaMergeable(a: Vma, b: Vma): boolean {
  return a.anonVma === null || b.anonVma === null || a.anonVma === b.anonVma;
}

/** vma_merge()'s anon_vma: the merged VMA keeps one if either had one (anon_vma_merge). */
export function anonVmaMerge(into: Vma, from: Vma): void {
  if (into.anonVma === null) into.anonVma = from.anonVma;
}

/** page_add_new_anon_rmap(): a new anonymous page gets its first mapping. */
export function pageAddNewAnonRmap(th: Thread, pfn: number): void {
  const k = th.k;
  k.pages.mapcount[pfn] = 1;
  k.pages.flags[pfn] |= PG_ANON;
  th.t.cost(k.costs.anonRmapNs);
}

/** page_add_file_rmap() / page_add_anon_rmap() / page_dup_rmap(): one more PTE maps the page (the caller charges it). */
export function pageAddRmap(k: Kernel, pfn: number): void {
  k.pages.mapcount[pfn]++;
}

/** page_remove_rmap(): one PTE fewer maps the page. */
export function pageRemoveRmap(k: Kernel, pfn: number): void {
  k.pages.mapcount[pfn]--;
}
