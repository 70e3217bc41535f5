import type { Task } from '../engine/engine.js';
import { ViolationError, type Violation } from '../check/violation.js';
import { EV } from '../events/catalog.js';
import type { CountingSink } from '../trace/sink.js';
import type { Kernel, MmStruct, Thread } from './kernel.js';
import { PtDir, type PteTable } from './pgtable.js';
import type { Vma } from './vma.js';
import { PTE_PRESENT, PTE_SHIFT, PTE_SWAP, ZERO_PFN } from './types.js';

/**
 * The model's run-time invariant checks (`--check`; always on under `spfperf check`), after the
 * kernel's own debugging aids: CONFIG_DEBUG_VM's validate_mm() (mm/mmap.c: the VMA tree ordered
 * and non-overlapping), bad_page() (mm/page_alloc.c: a page freed while mapped or referenced),
 * check_mm() (kernel/fork.c: "Bad rss-counter state"), page_table_check (mm/page_table_check.c:
 * every PTE maps a page whose counts agree), KASAN's poisoning of freed objects (a VMA or a page
 * table used after it was freed), lockdep's debug_check_no_locks_held() (a task exits holding a
 * lock) and the hung-task detector (a task that will never run again). docs/invariants.md lists
 * them with the names violations carry.
 *
 * Two kinds of check:
 * - per step, on what the step touched: a page as it is allocated or freed, the PTE a fault has
 *   just handled, a VMA or PTE table as a fault handler uses it, the locks of a task as it exits;
 * - scans of the whole state: between engine items every `scanEvery` items (by default the
 *   interval grows with the state, so that a scan costs at most about 1/SCAN_RATIO of the run),
 *   and at the end of the run, where the counts must agree exactly (mid-run, a fault between its
 *   allocation and its PTE holds a page no PTE maps yet, so the scan checks only what holds at
 *   every yield: each PTE maps a live page whose mapcount is at least the PTEs that map it).
 *
 * A broken invariant throws ViolationError: the run stops there.
 */

/**
 * How much cheaper than the run a whole-state scan is kept by default: the next scan comes
 * SCAN_RATIO engine items per unit of work (PTEs, VMAs, pages) the last one did. Not a kernel
 * figure: a checker setting (it changes when a broken state is found, never a count).
 */
const SCAN_RATIO = 4;
/** The fewest engine items between two default scans. */
const MIN_SCAN_ITEMS = 1000;

/** Page state as the checker tracks it: handed out by the allocator, or not. */
const PAGE_FREE = 0;
const PAGE_LIVE = 1;

/**
 * A fault step uses its vm_fault's VMA and PTE table: with the checks on, neither may have been
 * freed (and the step is marked as `fn`'s, for the reports of later checks).
 */
export function vmfUse(th: Thread, vma: Vma, pt: PteTable | null, addr: number, fn: string): void {
  th.kfn = fn;
  const d = th.k.dbg;
  if (d === null) return;
  d.vmaUse(th, vma, addr, fn);
  if (pt !== null) d.pgtableUse(th, pt, addr, fn);
}

export interface DebugVmOptions {
  /** Scan the whole state every N engine items (1: after every step); default: amortised. */
  readonly scanEvery?: number;
}

export class DebugVm {
  /** Per pfn: PAGE_LIVE while the allocator has handed it out (pfn 0, the zero page, always). */
  private state = new Uint8Array(1024);
  private itemsToScan = MIN_SCAN_ITEMS;
  private readonly fixedEvery: number | null;
  /** Scans done (for tests and docs). */
  scans = 0;

  constructor(
    private readonly k: Kernel,
    private readonly counting: CountingSink | null,
    o: DebugVmOptions = {},
  ) {
    this.state[ZERO_PFN] = PAGE_LIVE;
    this.fixedEvery = o.scanEvery !== undefined && o.scanEvery > 0 ? o.scanEvery : null;
    if (this.fixedEvery !== null) this.itemsToScan = this.fixedEvery;
  }

  // --- reporting --------------------------------------------------------------------------------

  /** Stop the run: `invariant` broke at `addr` in the step of `th` (or of the last task to run). */
  fail(invariant: string, th: Thread | null, fn: string, addr: number | null, detail: string): never {
    const who = th ?? this.lastThread();
    const v: Violation = {
      invariant,
      task: who !== null ? `${who.comm}/${who.tid}` : '',
      fn: fn !== '' ? fn : who?.kfn ?? '',
      addr,
      // A step's own clock; for a scan, the time of the engine item it follows.
      timeNs: th !== null ? th.t.clock : this.k.eng.now,
      detail,
    };
    throw new ViolationError(v);
  }

  /** The thread of the task that ran last (whose step a scan follows). */
  private lastThread(): Thread | null {
    const t = this.k.eng.current;
    return t !== null ? ((t.ctx as Thread | null) ?? null) : null;
  }

  // --- pages: per step ---------------------------------------------------------------------------

  private grow(pfn: number): void {
    if (pfn < this.state.length) return;
    let n = this.state.length;
    while (n <= pfn) n *= 2;
    const s = new Uint8Array(n);
    s.set(this.state);
    this.state = s;
  }

  /** The allocator hands out `pfn` (post_alloc_hook). */
  pageAlloc(th: Thread, pfn: number): void {
    this.grow(pfn);
    if (this.state[pfn] === PAGE_LIVE) this.fail('page-allocated-once', th, '', null, `pfn ${pfn} handed out by the allocator while still in use`);
    this.state[pfn] = PAGE_LIVE;
  }

  /** free_pages_prepare() -> bad_page(): a page goes back to the allocator. */
  pageFree(th: Thread, pfn: number): void {
    const p = this.k.pages;
    if (pfn === ZERO_PFN || pfn >= this.state.length || this.state[pfn] !== PAGE_LIVE) {
      this.fail('page-freed-once', th, '', null, `pfn ${pfn} freed while it is already free`);
    }
    if (p.mapcount[pfn] !== 0) this.fail('page-freed-unmapped', th, '', null, `pfn ${pfn} freed with mapcount ${p.mapcount[pfn]} (bad_page: nonzero mapcount)`);
    if (p.refcount[pfn] !== 0) this.fail('page-freed-unreferenced', th, '', null, `pfn ${pfn} freed with refcount ${p.refcount[pfn]} (bad_page: nonzero _refcount)`);
    this.state[pfn] = PAGE_FREE;
  }

  /** Is `pfn` a page the allocator has handed out? */
  isLive(pfn: number): boolean {
    return pfn < this.state.length && this.state[pfn] === PAGE_LIVE;
  }

  /**
   * After a fault at `addr` completed: the PTE there, if present, maps a live page whose mapcount
   * and refcount count it (page_table_check_pte_set()).
   */
  faultDone(th: Thread, addr: number, pt: PteTable | null): void {
    if (pt === null) return;
    this.pgtableUse(th, pt, addr, '');
    const pte = pt.ptes[this.k.geo.index(this.k.geo.levels - 1, addr)];
    if ((pte & PTE_PRESENT) === 0) return;
    this.checkMapped(th, pte >>> PTE_SHIFT, addr, 1, '');
  }

  /** A present PTE maps `pfn`, and `n` PTEs were seen mapping it. */
  private checkMapped(th: Thread | null, pfn: number, addr: number, n: number, fn: string): void {
    if (pfn === ZERO_PFN) return;
    const p = this.k.pages;
    const bad =
      !this.isLive(pfn) ? `present PTE maps pfn ${pfn}, which is free`
      : p.mapcount[pfn] < n ? `pfn ${pfn} is mapped by ${n} PTE(s) but its mapcount is ${p.mapcount[pfn]}`
      : p.refcount[pfn] < p.mapcount[pfn] ? `pfn ${pfn} has refcount ${p.refcount[pfn]} below its mapcount ${p.mapcount[pfn]}`
      : null;
    // A scan passes addr -1: the address is looked up only for the report.
    if (bad !== null) this.fail('pte-maps-live-page', th, fn, addr >= 0 ? addr : this.addrOf(pfn), bad);
  }

  // --- the VMA tree: per step -------------------------------------------------------------------

  /** vma_link() put `v` in the tree: it must lie between its neighbours (validate_mm, locally). */
  vmaLinked(th: Thread, mm: MmStruct, v: Vma): void {
    const prev = mm.vmas.prev(v);
    const next = mm.vmas.next(v);
    const bad = !(v.start < v.end) ? 'is empty or inverted' : prev !== null && prev.end > v.start ? `overlaps ${prev.toString()}` : next !== null && v.end > next.start ? `overlaps ${next.toString()}` : null;
    if (bad !== null) this.fail('vma-tree-ordered', th, '', v.start, `VMA ${v.toString()} of pid ${mm.owner.pid} linked into the tree ${bad}`);
  }

  /**
   * A fault at its commit point (PTE lock held, about to set the PTE) uses the VMA that maps its
   * address now: linked in its mm's tree, covering the address. The mmap lock, the VMA lock or
   * the design's sequence count (vm_sequence, mmap_seq) is what makes it so; a fault that
   * commits through a VMA split, merged away or unmapped since it looked sets a PTE with
   * protections and an anon_vma that are no longer the address's.
   */
  vmaCurrent(th: Thread, vma: Vma, addr: number, fn: string): void {
    const now = th.mm.vmas.find(addr);
    if (now === vma && vma.attached) return;
    const bad = now === null || now.start > addr ? 'no VMA maps it any more' : `VMA ${now.toString()} maps it now`;
    this.fail('fault-vma-current', th, fn, addr, `the fault commits through VMA ${vma.toString()}${vma.attached ? '' : ' (detached)'}, but ${bad}`);
  }

  // --- use after free ----------------------------------------------------------------------------

  /** A VMA is freed for good (remove_vma's vm_area_free, or its RCU/SRCU callback): poison it. */
  vmaFreed(vma: Vma, time: number): void {
    if (vma.freedAt >= 0) this.fail('vma-freed-once', null, 'vm_area_free', vma.start, `VMA ${vma.toString()} freed twice (at ${Math.round(vma.freedAt)} and ${Math.round(time)} ns)`);
    vma.freedAt = time;
  }

  /** A fault handler uses `vma`: it must not have been freed (KASAN's use-after-free). */
  vmaUse(th: Thread, vma: Vma, addr: number, fn: string): void {
    if (vma.freedAt >= 0) this.fail('vma-use-after-free', th, fn, addr, `VMA ${vma.toString()} used after it was freed at ${Math.round(vma.freedAt)} ns`);
  }

  /** A page table is freed (pte_free / free_pgd_range): poison it. */
  pgtableFreed(tb: PteTable | PtDir, time: number): void {
    tb.freedAt = time;
  }

  /** A fault uses PTE table `pt` (its lock, its entries): it must not have been freed. */
  pgtableUse(th: Thread, pt: PteTable, addr: number, fn: string): void {
    if (pt.freedAt >= 0) this.fail('pgtable-use-after-free', th, fn, addr, `PTE table for ${pt.base.toString(16)} used after it was freed at ${Math.round(pt.freedAt)} ns`);
  }

  // --- locks at exit -----------------------------------------------------------------------------

  /** debug_check_no_locks_held() at do_exit(): the task holds no lock and no RCU read side. */
  taskExit(t: Task): void {
    const th = (t.ctx as Thread | null) ?? null;
    if (this.k.rcu.inReader(t)) this.fail('lock-released-at-exit', th, 'do_exit', null, `${t.comm}/${t.tid} exits inside an RCU read-side section`);
    for (const l of this.k.eng.locks?.alive() ?? []) {
      if (l.exclusiveHolder() === t) this.fail('lock-released-at-exit', th, 'do_exit', null, `${t.comm}/${t.tid} exits holding ${l.name}`);
    }
  }

  // --- scans --------------------------------------------------------------------------------------

  /** Called by the engine between items: scan when the interval is over. */
  readonly audit = (): void => {
    if (--this.itemsToScan > 0) return;
    const work = this.scan(false);
    this.itemsToScan = this.fixedEvery ?? Math.max(MIN_SCAN_ITEMS, SCAN_RATIO * work);
  };

  /**
   * Scan the whole state; `final` at the end of a run, when every task has exited and every
   * count must agree exactly. Returns the work done (entries and frames looked at).
   */
  scan(final: boolean): number {
    this.scans++;
    const k = this.k;
    const hw = k.pages.highWater;
    // PTEs mapping each frame (typed, so that a scan allocates little and visits in order).
    const mapped = new Int32Array(hw);
    const swapRefs = new Map<number, number>();
    const tables: number[] = [];
    let work = hw;
    for (const p of k.processes) {
      const mm = p.mm;
      work += this.validateMm(mm, final);
      work += this.scanTables(mm, mm.pgd, 0, 0, mapped, swapRefs, tables);
    }
    for (let pfn = 1; pfn < hw; pfn++) if (mapped[pfn] > 0) this.checkMapped(null, pfn, -1, mapped[pfn], 'page_table_check');
    for (const [slot, n] of swapRefs) {
      const refs = k.swap.refs.get(slot) ?? 0;
      if (refs < n) this.fail('swap-entry-has-slot', null, 'page_table_check', this.addrOfSwap(slot), `swap slot ${slot} is referred to by ${n} swap PTE(s) but holds ${refs} reference(s)`);
    }
    for (const [slot, pfn] of k.swap.cache) {
      if (!this.isLive(pfn)) this.fail('page-held-is-live', null, 'page_table_check', null, `swap cache slot ${slot} holds pfn ${pfn}, which is free`);
    }
    for (const f of [...k.files.values(), ...k.anonShmem]) {
      work += f.pages.size;
      for (const [index, pfn] of f.pages) {
        if (!this.isLive(pfn)) this.fail('page-held-is-live', null, 'page_table_check', null, `page cache of ${f.name} index ${index} holds pfn ${pfn}, which is free`);
      }
    }
    this.checkAllocBalance(final, mapped, tables);
    if (final) this.finalChecks(mapped, swapRefs);
    return work;
  }

  /** The first user address found mapping `pfn` (present) or `slot` (swap), for a report; null if none. */
  private addrOf(pfn: number): number | null {
    return this.findPte((pte) => (pte & PTE_PRESENT) !== 0 && pte >>> PTE_SHIFT === pfn);
  }

  private addrOfSwap(slot: number): number | null {
    return this.findPte((pte) => (pte & PTE_PRESENT) === 0 && (pte & PTE_SWAP) !== 0 && pte >>> PTE_SHIFT === slot);
  }

  private findPte(match: (pte: number) => boolean): number | null {
    const geo = this.k.geo;
    const walk = (dir: PtDir, level: number, base: number): number | null => {
      for (let i = 0; i < dir.entries.length; i++) {
        const c = dir.entries[i];
        if (c === null) continue;
        const cbase = base + i * geo.span[level];
        if (c instanceof PtDir) {
          const a = walk(c, level + 1, cbase);
          if (a !== null) return a;
          continue;
        }
        const j = c.ptes.findIndex((pte) => match(pte));
        if (j >= 0) return cbase + j * geo.pageSize;
      }
      return null;
    };
    for (const p of this.k.processes) {
      const a = walk(p.mm.pgd, 0, 0);
      if (a !== null) return a;
    }
    return null;
  }

  /**
   * validate_mm(): VMAs in address order, each non-empty and page aligned, none overlapping the
   * next, each marked attached. Mid-run, an mm whose mmap lock is write-held is skipped (its
   * writer may be between the steps of a merge or a split).
   */
  private validateMm(mm: MmStruct, final: boolean): number {
    if (!final && mm.mmapLock.writer !== null) return 0;
    const ps = this.k.pageSize;
    let prev: Vma | null = null;
    const all = mm.vmas.all();
    for (const v of all) {
      const bad =
        !(v.start < v.end) ? 'is empty or inverted'
        : v.start % ps !== 0 || v.end % ps !== 0 ? 'is not page aligned'
        : prev !== null && v.start < prev.end ? `overlaps ${prev.toString()}`
        : !v.attached ? 'is in the tree but marked detached'
        : v.freedAt >= 0 ? `is in the tree but was freed at ${Math.round(v.freedAt)} ns`
        : null;
      if (bad !== null) this.fail('vma-tree-ordered', null, 'validate_mm', v.start, `VMA ${v.toString()} of pid ${mm.owner.pid} ${bad}`);
      prev = v;
    }
    return all.length;
  }

  /** Walk a page-table level: count the PTEs that map each pfn and refer to each swap slot. */
  private scanTables(mm: MmStruct, dir: PtDir, level: number, base: number, mapped: Int32Array, swapRefs: Map<number, number>, tables: number[]): number {
    const geo = this.k.geo;
    let work = 0;
    for (let i = 0; i < dir.entries.length; i++) {
      const child = dir.entries[i];
      if (child === null) continue;
      const cbase = base + i * geo.span[level];
      if (child.freedAt >= 0) this.fail('pgtable-use-after-free', null, 'page_table_check', cbase, `a page table of pid ${mm.owner.pid} still hooked at level ${level + 1} was freed at ${Math.round(child.freedAt)} ns`);
      if (child.pfn >= 0) tables.push(child.pfn);
      if (child instanceof PtDir) {
        work += this.scanTables(mm, child, level + 1, cbase, mapped, swapRefs, tables);
        continue;
      }
      let used = 0;
      const ptes = child.ptes;
      for (let j = 0; j < ptes.length; j++) {
        const pte = ptes[j];
        if (pte === 0) continue;
        used++;
        if (pte & PTE_PRESENT) {
          const pfn = pte >>> PTE_SHIFT;
          if (pfn === ZERO_PFN) continue;
          if (pfn >= mapped.length) this.fail('pte-maps-live-page', null, 'page_table_check', cbase + j * geo.pageSize, `present PTE maps pfn ${pfn}, a frame never handed out`);
          mapped[pfn]++;
        } else if (pte & PTE_SWAP) {
          const slot = pte >>> PTE_SHIFT;
          swapRefs.set(slot, (swapRefs.get(slot) ?? 0) + 1);
        }
      }
      work += ptes.length;
      if (!child.huge && child.used !== used && child.ptl.exclusiveHolder() === null) {
        this.fail('pgtable-used-count', null, 'page_table_check', cbase, `PTE table for ${cbase.toString(16)} of pid ${mm.owner.pid} counts ${child.used} entries in use, holds ${used}`);
      }
    }
    return work;
  }

  /**
   * pgalloc - pgfree (the vmstat counts) equals the pages the allocator has handed out, and at
   * the end of the run the pages something still holds: PTEs, page tables, the swap cache, the
   * page cache.
   */
  private checkAllocBalance(final: boolean, mapped: Int32Array, tables: number[]): void {
    const k = this.k;
    const inUse = k.alloc.inUse;
    if (this.counting !== null) {
      const net = this.counting.total(EV.PGALLOC) - this.counting.total(EV.PGFREE);
      if (net !== inUse) this.fail('pgalloc-pgfree-balance', null, '', null, `pgalloc - pgfree is ${net} but the allocator has ${inUse} page(s) out`);
    }
    if (!final) return;
    const held = new Uint8Array(mapped.length);
    for (let pfn = 1; pfn < mapped.length; pfn++) if (mapped[pfn] > 0) held[pfn] = 1;
    for (const pfn of tables) held[pfn] = 1;
    for (const pfn of k.swap.cache.values()) held[pfn] = 1;
    for (const f of [...k.files.values(), ...k.anonShmem]) for (const pfn of f.pages.values()) held[pfn] = 1;
    let nheld = 0;
    let leaked = -1;
    for (let pfn = 1; pfn < held.length; pfn++) {
      nheld += held[pfn];
      if (leaked < 0 && held[pfn] === 0 && this.isLive(pfn)) leaked = pfn;
    }
    if (nheld !== inUse) {
      const which = leaked >= 0 ? `: pfn ${leaked} (refcount ${k.pages.refcount[leaked]}, mapcount ${k.pages.mapcount[leaked]}) is held by nothing` : '';
      this.fail('pgalloc-pgfree-balance', null, 'exit', null, `pgalloc - pgfree is ${inUse} at the end of the run but ${nheld} page(s) are still held${which}`);
    }
  }

  /** The exact agreements of a quiescent state (every task has exited). */
  private finalChecks(mapped: Int32Array, swapRefs: Map<number, number>): void {
    const k = this.k;
    const p = k.pages;
    for (let pfn = 1; pfn < this.state.length; pfn++) {
      if (this.state[pfn] !== PAGE_LIVE) continue;
      const n = pfn < mapped.length ? mapped[pfn] : 0;
      if (p.mapcount[pfn] !== n) this.fail('mapcount-counts-ptes', null, 'exit', this.addrOf(pfn), `pfn ${pfn} has mapcount ${p.mapcount[pfn]} but ${n} PTE(s) map it`);
    }
    for (const [slot, refs] of k.swap.refs) {
      const n = swapRefs.get(slot) ?? 0;
      if (refs !== n) this.fail('swap-entry-has-slot', null, 'exit', null, `swap slot ${slot} holds ${refs} reference(s) but ${n} swap PTE(s) refer to it`);
    }
    for (const pr of k.processes) {
      const mm = pr.mm;
      if (mm.users === 0 && mm.vmas.size === 0 && mm.rss !== 0) this.fail('rss-counter-state', null, 'check_mm', null, `mm of pid ${pr.pid} torn down with an RSS of ${mm.rss} page(s) (Bad rss-counter state)`);
    }
    for (const l of k.eng.locks?.alive() ?? []) {
      const readers = l.readers ?? 0;
      const holder = l.exclusiveHolder();
      if (holder !== null || readers > 0) this.fail('lock-released-at-exit', null, 'exit', null, `${l.name} still held at the end of the run (${holder !== null ? `by ${holder.comm}/${holder.tid}` : `${readers} reader(s)`})`);
    }
  }
}
