import { SYNC, type Code } from '../engine/engine.js';
import type { MmStruct, Thread } from './kernel.js';
import { putPage } from './page.js';
import { PtDir, PteTable } from './pgtable.js';

/**
 * Page-table pages: allocating them (pte_alloc_one, __pte_alloc/__pmd_alloc and the walks that
 * populate missing levels, include/asm-generic/pgalloc.h and mm/memory.c), freeing them
 * (pte_free, free_pgd_range) and counting them (mm->pgtables_bytes, mm_inc_nr_ptes/pmds).
 */

/** A page table of any level, as its parent entry holds it. */
export type PgTable = PtDir | PteTable;

/**
 * pte_alloc_one() / pmd_alloc_one(): a zeroed page for a table. The pfn, or -1 when memory is
 * exhausted. The caller counts it (pgtableAccount) once the table is hooked into an mm.
 */
export function* pgtableAllocOne(th: Thread): Code<number> {
  const k = th.k;
  const pfn = yield* k.alloc.allocPage(th);
  if (pfn < 0) return -1;
  th.t.cost(k.costs.pgtableAllocNs);
  return pfn;
}

/** mm_inc_nr_ptes() / mm_dec_nr_ptes() (and the pmd/pud variants): mm->pgtables_bytes. */
export function pgtableAccount(th: Thread, mm: MmStruct, pages: number): void {
  mm.pgtablesBytes += pages * th.k.pageSize;
}

/** pte_free() / pmd_free(): give a table's page back (it holds the one reference). */
export function* pgtableFree(th: Thread, pfn: number): Code {
  if (pfn < 0) return;
  yield* putPage(th, pfn);
}

/**
 * __pte_alloc() / __pmd_alloc() / __pud_alloc(): if entry i of dir is empty, allocate and clear
 * a table page, then populate the entry under page_table_lock unless another thread beat us to
 * it (then free ours). Returns the entry's table, or null when memory is exhausted.
 */
function* pgtablePopulate(th: Thread, dir: PtDir, i: number, make: () => PgTable): Code<PgTable | null> {
  const existing = dir.entries[i];
  if (existing !== null) return existing;
  const t = th.t;
  const mm = th.mm;
  const pfn = yield* pgtableAllocOne(th);
  if (pfn < 0) return null;
  const child = make();
  yield* mm.pageTableLock.lock(t);
  let next = dir.entries[i];
  if (next === null) {
    dir.entries[i] = child;
    dir.used++;
    child.pfn = pfn;
    pgtableAccount(th, mm, 1);
    next = child;
  }
  yield* mm.pageTableLock.unlock(t);
  if (next !== child) yield* pgtableFree(th, pfn);
  return next;
}

/** pgd_offset / p4d_alloc / pud_alloc down to the PMD table: the PMD table and the entry's index. */
export function* pmdAlloc(th: Thread, addr: number): Code<{ dir: PtDir; i: number } | null> {
  const t = th.t;
  const k = th.k;
  const geo = k.geo;
  if (t.mustSync()) yield SYNC;
  let dir: PtDir = th.mm.pgd;
  const pmdLevel = geo.levels - 2;
  for (let lvl = 0; lvl < pmdLevel; lvl++) {
    t.cost(k.costs.pgtableLevelNs);
    const next = yield* pgtablePopulate(th, dir, geo.index(lvl, addr), () => new PtDir(geo.entries[lvl + 1]));
    if (next === null) return null;
    dir = next as PtDir;
  }
  return { dir, i: geo.index(pmdLevel, addr) };
}

/** pmd_alloc() then pte_alloc(): walk, populating missing levels; the PTE table, or null on OOM. */
export function* pteAlloc(th: Thread, addr: number): Code<PteTable | null> {
  const pmd = yield* pmdAlloc(th, addr);
  if (pmd === null) return null;
  const k = th.k;
  const geo = k.geo;
  th.t.cost(k.costs.pgtableLevelNs);
  const made = yield* pgtablePopulate(th, pmd.dir, pmd.i, () => new PteTable(k.eng, geo.entries[geo.levels - 1], addr - (addr % geo.pteTableSpan)));
  return made as PteTable | null;
}

/**
 * The page-table allocation of copy_page_range() (fork, into the child's mm nobody else can
 * reach yet) and move_page_tables() (mremap, mmap lock held for writing): walk `mm`'s tables to
 * addr's PTE table, allocating missing levels without page_table_lock (no other walker can race
 * with these two callers in the model).
 */
export function* pteAllocMm(th: Thread, mm: MmStruct, addr: number): Code<PteTable | null> {
  const k = th.k;
  const geo = k.geo;
  let dir: PtDir = mm.pgd;
  const last = geo.levels - 1;
  for (let lvl = 0; lvl < last; lvl++) {
    const i = geo.index(lvl, addr);
    let next = dir.entries[i];
    if (next === null) {
      const pfn = yield* pgtableAllocOne(th);
      if (pfn < 0) return null;
      next = lvl + 1 === last ? new PteTable(k.eng, geo.entries[last], addr - (addr % geo.pteTableSpan)) : new PtDir(geo.entries[lvl + 1]);
      next.pfn = pfn;
      dir.entries[i] = next;
      dir.used++;
      pgtableAccount(th, mm, 1);
    }
    dir = next as PtDir;
  }
  return dir as unknown as PteTable;
}

/**
 * free_pgd_range(): unhook the page tables that map only [start, end) within [floor, ceiling)
 * and return them for freeing after the TLB flush (pgtablesFree).
 */
export function freePgtables(th: Thread, mm: MmStruct, dir: PtDir, level: number, dirBase: number, start: number, end: number, floor: number, ceiling: number): PgTable[] {
  const geo = th.k.geo;
  const span = geo.span[level];
  const out: PgTable[] = [];
  const first = Math.floor(Math.max(start, dirBase) / span) * span;
  for (let base = first; base < end && base < dirBase + span * geo.entries[level]; base += span) {
    const i = geo.index(level, base);
    const child = dir.entries[i];
    if (child === null) continue;
    if (child instanceof PtDir) out.push(...freePgtables(th, mm, child, level + 1, base, start, end, floor, ceiling));
    if (base >= floor && base + span <= ceiling && child.used === 0) {
      dir.entries[i] = null;
      dir.used--;
      out.push(child);
      mm.pgtableGen++;
    }
  }
  return out;
}

/** The page-table part of tlb_finish_mmu(): free the tables free_pgd_range() unhooked from mm. */
export function* pgtablesFree(th: Thread, mm: MmStruct, tables: readonly PgTable[]): Code {
  for (const tb of tables) {
    th.k.dbg?.pgtableFreed(tb, th.t.clock);
    if (tb.pfn < 0) continue;
    pgtableAccount(th, mm, -1);
    yield* pgtableFree(th, tb.pfn);
  }
}
