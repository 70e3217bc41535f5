import type { Engine, Task } from '../engine/engine.js';
import { SpinLock } from '../engine/locks.js';
import { AheadViolation } from '../engine/ahead.js';
import type { ArchProfile } from '../config/arch.js';

/**
 * Multi-level page tables shaped by the arch profile (x86-64: pgd/pud/pmd/pte, 9 bits each over
 * 4 KiB pages). Upper levels hold child tables; the last level holds PTEs, one Int32 each
 * (pfn << PTE_SHIFT | bits, 0 = pte_none). Every PTE table has its own lock (split PTE locks,
 * USE_SPLIT_PTE_PTLOCKS), living in the struct page of the table page.
 */

export class PteTable {
  readonly ptes: Int32Array;
  /** Entries that are not pte_none. */
  used = 0;
  /** The page frame holding this table. */
  pfn = -1;
  /**
   * A PMD-mapped transparent huge page: the model keeps its translations as a full table of
   * consecutive PTEs, so user accesses find them, and this flag makes it one PMD entry for
   * faults (one per huge page), zaps, splits and speculative walks (which refuse huge PMDs).
   */
  huge = false;
  /** The huge zero page (a read fault's PMD mapping): every entry is the zero page, read-only. */
  hugeZero = false;
  /** When the table's page was freed, or -1 (set only under the invariant checks: the poison). */
  freedAt = -1;
  readonly ptl: SpinLock;
  /**
   * The first task whose walk reached this table, and whether another's has since: only a table
   * one task has walked to has its lock taken ahead of the order (ahead.ts), as one that others
   * use is the kind where taking it ahead would be found out of order and the run made again.
   */
  private walker: Task | null = null;
  shared = false;
  /** When each entry was last set under a lock taken ahead of the order (0: never), made at the first. */
  private aheadAt: Float64Array | null = null;
  constructor(eng: Engine, entries: number, readonly base: number) {
    this.ptes = new Int32Array(entries);
    this.ptl = new SpinLock(eng, 'ptl');
  }

  /**
   * do_anonymous_page()'s PTE lock taken ahead of the order (engine/ahead.ts) for entry `idx`, if
   * lock-ahead may: only on a table no other task has walked to. The entry notes when.
   */
  takeAhead(t: Task, idx: number): boolean {
    if (this.shared || !this.ptl.lockAhead(t)) return false;
    (this.aheadAt ??= new Float64Array(this.ptes.length))[idx] = this.ptl.aheadUntil;
    return true;
  }

  /**
   * A walk reaching entry `idx` of this table: lock-ahead's check (engine/ahead.ts). Whoever reads
   * or writes an entry, with the table's lock (SpinLock checks that) or without (the MMU, a
   * speculative walk), walks here first in the same run of its task, and must be due no earlier
   * than work taken ahead on that entry by another task. Every walk to a PTE table calls it:
   * lookupPteTable(), pteTableOf()'s remembered table, pte_alloc()'s.
   */
  /** When entry `idx` was last set under a lock taken ahead (0: never). */
  aheadTime(idx: number): number {
    return this.aheadAt === null ? 0 : this.aheadAt[idx];
  }

  reached(idx: number): void {
    const l = this.ptl;
    const at = this.aheadAt;
    if (at !== null && at[idx] > 0) {
      const e = l.eng;
      const c = e.current as Task | null;
      if (c !== l.aheadTask && (c === null ? e.now : c.clock) < at[idx]) aheadEntryOutOfOrder(this, idx, c === null ? e.now : c.clock);
    }
    if (!this.shared) {
      const c = l.eng.current as Task | null;
      if (this.walker === null) this.walker = c;
      else if (c !== this.walker) this.shared = true;
    }
  }
}

/** PteTable.reached()'s throw, kept out of the check (which every walk inlines). */
function aheadEntryOutOfOrder(pt: PteTable, idx: number, at: number): never {
  throw new AheadViolation(`PTE ${idx} of the table at 0x${pt.base.toString(16)}, set ahead at ${pt.aheadTime(idx)} ns, walked to at ${at} ns`);
}

export class PtDir {
  readonly entries: (PtDir | PteTable | null)[];
  used = 0;
  /** The page frame holding this table. */
  pfn = -1;
  /** When the table's page was freed, or -1 (set only under the invariant checks: the poison). */
  freedAt = -1;
  constructor(entries: number) {
    this.entries = new Array<PtDir | PteTable | null>(entries).fill(null);
  }
}

/** Index arithmetic of one arch's page tables. */
export class PtGeometry {
  readonly levels: number;
  readonly pageSize: number;
  /** Bytes mapped by one entry at each level (top to bottom). */
  readonly span: number[];
  readonly entries: number[];
  /** Bytes mapped by one whole PTE table (= one PMD entry). */
  readonly pteTableSpan: number;

  constructor(arch: ArchProfile) {
    this.levels = arch.levelBits.length;
    this.pageSize = 2 ** arch.pageShift;
    this.entries = arch.levelBits.map((b) => 2 ** b);
    this.span = [];
    let s = this.pageSize;
    for (let i = this.levels - 1; i >= 0; i--) {
      this.span[i] = s;
      s *= this.entries[i];
    }
    this.pteTableSpan = this.span[this.levels - 2];
    this.invSpan = this.span.map((x) => 1 / x);
    this.invEntries = this.entries.map((x) => 1 / x);
  }

  /** 1 / span and 1 / entries: powers of two, so a product by them is exact (no division, no fmod on the walk). */
  private readonly invSpan: number[];
  private readonly invEntries: number[];

  /** The entry of `level` that maps addr: floor(addr / span) mod entries. */
  index(level: number, addr: number): number {
    const x = Math.floor(addr * this.invSpan[level]);
    return x - Math.floor(x * this.invEntries[level]) * this.entries[level];
  }

  /** The first address mapped by the PTE table that maps addr. */
  tableBase(addr: number): number {
    return Math.floor(addr * this.invSpan[this.levels - 2]) * this.pteTableSpan;
  }
}

/** Walk from the pgd down to the PMD table that maps addr, without allocating (null if a level is missing). */
function walkToPmd(geo: PtGeometry, pgd: PtDir, addr: number): PtDir | null {
  let dir: PtDir = pgd;
  const last = geo.levels - 2;
  for (let lvl = 0; lvl < last; lvl++) {
    const next = dir.entries[geo.index(lvl, addr)];
    if (next === null) return null;
    dir = next as PtDir;
  }
  return dir;
}

/** The PMD table that maps addr and the entry's index in it (null if an upper level is missing). */
export function pmdSlot(geo: PtGeometry, pgd: PtDir, addr: number): { dir: PtDir; i: number } | null {
  const dir = walkToPmd(geo, pgd, addr);
  return dir === null ? null : { dir, i: geo.index(geo.levels - 2, addr) };
}

/** Find the PTE table that maps addr without allocating, as the MMU walks (null if a level is missing). */
export function lookupPteTable(geo: PtGeometry, pgd: PtDir, addr: number): PteTable | null {
  const dir = walkToPmd(geo, pgd, addr);
  if (dir === null) return null;
  const pt = dir.entries[geo.index(geo.levels - 2, addr)] as PteTable | null;
  pt?.reached(geo.index(geo.levels - 1, addr));
  return pt;
}
