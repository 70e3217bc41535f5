import type { Engine } from '../engine/engine.js';
import { SpinLock } from '../engine/locks.js';
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
  constructor(eng: Engine, entries: number, readonly base: number) {
    this.ptes = new Int32Array(entries);
    this.ptl = new SpinLock(eng, 'ptl');
  }
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
  return dir === null ? null : (dir.entries[geo.index(geo.levels - 2, addr)] as PteTable | null);
}
