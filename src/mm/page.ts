import type { Code, Engine, Task } from '../engine/engine.js';
import { SpinLock } from '../engine/locks.js';
import { SpinSection } from '../engine/spin-section.js';
import type { ArchCosts } from '../config/arch.js';
import type { Thread } from './kernel.js';
import { EV } from '../events/catalog.js';
import type { DebugVm } from './debug_vm.js';
import type { PageContents } from './contents.js';
import { PfnList } from './pfn-list.js';
import { objectSlots } from '../engine/object-list.js';

export { PfnList } from './pfn-list.js';

/**
 * struct page for every page frame, the buddy allocator's zone free list with its per-CPU page
 * lists (pcp), and the LRU with its per-CPU pagevecs. Pages are typed-array slots indexed by pfn,
 * grown on demand up to the machine's memory size.
 */

/** Page flags (a few of enum pageflags). */
export const PG_ANON = 0x1;
const PG_LRU = 0x2;
export const PG_DIRTY = 0x8;

export class PageDb {
  refcount = new Int32Array(1024);
  mapcount = new Int32Array(1024);
  flags = new Uint8Array(1024);
  /** Frames handed out so far (pfn 0 is the zero page). */
  highWater = 1;

  constructor(readonly maxPages: number) {
    this.refcount[0] = 1;
  }

  /** A frame never used before, or -1 when memory is exhausted. */
  fresh(): number {
    if (this.highWater >= this.maxPages) return -1;
    const pfn = this.highWater++;
    if (pfn >= this.refcount.length) {
      const n = this.refcount.length * 2;
      const r = new Int32Array(n);
      r.set(this.refcount);
      this.refcount = r;
      const m = new Int32Array(n);
      m.set(this.mapcount);
      this.mapcount = m;
      const f = new Uint8Array(n);
      f.set(this.flags);
      this.flags = f;
    }
    return pfn;
  }
}

/** struct per_cpu_pages */
class Pcp {
  readonly pages = new PfnList();
}

/**
 * The zone with its free list under zone->lock, fronted by per-CPU lists: a CPU takes pages
 * from its own list and refills or drains it `batch` pages at a time under zone->lock
 * (rmqueue_bulk / free_pcppages_bulk).
 */
/** One NUMA node's zone: its free list under zone->lock. */
interface Zone {
  readonly lock: SpinLock;
  readonly free: PfnList;
}

export class PageAllocator {
  /** Each NUMA node's zone (a node is a socket here). */
  private readonly zones: Zone[];
  private readonly pcps: Pcp[];
  private readonly nodeOf: Int32Array;
  /** Each CPU's rmqueue_bulk() section (refillSection()), made when first used. */
  private readonly refills: (SpinSection | undefined)[];
  /** pcp->batch and pcp->high (zone_batchsize() for a large zone: 31; high = 6 * batch). */
  readonly batch = 31;
  readonly high = 186;
  allocated = 0;
  /** The invariant checks (--check): told of every page handed out and given back. */
  dbg: DebugVm | null = null;
  /** The page contents, when the run keeps them: a freed page loses its words. */
  contents: PageContents | null = null;

  constructor(
    eng: Engine,
    readonly db: PageDb,
    private readonly costs: ArchCosts,
  ) {
    const nodes = eng.topo.sockets;
    this.nodeOf = eng.topo.socketOf;
    this.zones = Array.from({ length: nodes }, (_, n) => ({ lock: new SpinLock(eng, nodes > 1 ? `zone->lock(node${n})` : 'zone->lock'), free: new PfnList(1024) }));
    this.pcps = Array.from({ length: eng.ncpus }, () => new Pcp());
    this.refills = objectSlots(eng.ncpus);
  }

  /** The zone that serves a CPU: its node's (pages are allocated node-local). */
  private zoneFor(cpu: number): Zone {
    return this.zones[this.nodeOf[cpu]];
  }

  /** zone->lock of each node, node 0 first. */
  get zoneLocks(): SpinLock[] {
    return this.zones.map((z) => z.lock);
  }

  /**
   * A frame from this node's free list, else a frame never used, else (memory nearly full) one
   * from another node's list, as the zonelist fallback would; -1 when there is none.
   */
  private take1(free: PfnList): number {
    const pfn = free.pop();
    if (pfn >= 0) return pfn;
    const fresh = this.db.fresh();
    if (fresh >= 0) return fresh;
    for (const z of this.zones) if (z.free.length > 0) return z.free.pop();
    return -1;
  }

  /** The zone lock of node 0 (the only one on a one-socket machine). */
  get zoneLock(): SpinLock {
    return this.zones[0].lock;
  }

  /** Pages in use (allocated and not freed). */
  get inUse(): number {
    return this.allocated;
  }

  /**
   * An order-N allocation from the buddy lists under zone->lock (a THP): `n` frames with
   * refcount 1 each (the model does not need them contiguous), or null when memory is short.
   */
  *allocHuge(th: Thread, n: number): Code<number[] | null> {
    const t = th.t;
    const { lock: zl, free } = this.zoneFor(t.cpu);
    yield* zl.lock(t);
    const out: number[] = [];
    while (out.length < n) {
      const pfn = this.take1(free);
      if (pfn < 0) break;
      out.push(pfn);
    }
    // __rmqueue_smallest at order 9 + prep_compound_page (a struct page write per subpage).
    // Four buddy-list operations for the split, and a struct page write per subpage (~2 ns).
    t.cost(4 * this.costs.pageAllocNs + n * 2);
    if (out.length < n) {
      for (const pfn of out) free.push(pfn);
      yield* zl.unlock(t);
      return null;
    }
    yield* zl.unlock(t);
    for (const pfn of out) {
      this.dbg?.pageAlloc(th, pfn);
      this.db.refcount[pfn] = 1;
      this.db.mapcount[pfn] = 1;
      this.db.flags[pfn] = PG_ANON;
    }
    this.allocated += n;
    th.k.em.count(EV.PGALLOC, th, n);
    return out;
  }

  /**
   * put_page() of a huge page allocated and never mapped (a racing fault or collapse won): its
   * one reference per frame goes (allocHuge() counted the mapping to come), then freeHuge().
   */
  *putUnmappedHuge(th: Thread, pfns: readonly number[]): Code {
    for (const pfn of pfns) {
      this.db.refcount[pfn] = 0;
      this.db.mapcount[pfn] = 0;
    }
    yield* this.freeHuge(th, pfns);
  }

  /** Free the frames of a huge page straight to the buddy lists. */
  *freeHuge(th: Thread, pfns: readonly number[]): Code {
    const t = th.t;
    const { lock: zl, free } = this.zoneFor(t.cpu);
    if (this.dbg !== null) for (const pfn of pfns) this.dbg.pageFree(th, pfn);
    if (this.contents !== null) for (const pfn of pfns) this.contents.free(pfn);
    yield* zl.lock(t);
    for (const pfn of pfns) {
      this.db.flags[pfn] = 0;
      free.push(pfn);
    }
    t.cost(4 * this.costs.pageFreeNs);
    yield* zl.unlock(t);
    this.allocated -= pfns.length;
    th.k.em.count(EV.PGFREE, th, pfns.length);
  }

  /** The per-CPU fast path of allocPage(): a page, or -2 when the list must be refilled first. */
  allocPageFast(th: Thread): number {
    const pcp = this.pcps[th.t.cpu];
    if (pcp.pages.length === 0) return -2;
    return this.take(th, pcp);
  }

  private take(th: Thread, pcp: Pcp): number {
    const pfn = pcp.pages.pop();
    this.dbg?.pageAlloc(th, pfn);
    th.t.cost(this.costs.pageAllocNs);
    this.db.refcount[pfn] = 1;
    this.db.mapcount[pfn] = 0;
    this.db.flags[pfn] = 0;
    this.allocated++;
    th.k.em.count(EV.PGALLOC, th);
    return pfn;
  }

  /** __alloc_pages(): a page with refcount 1, or -1 when memory is exhausted. */
  *allocPage(th: Thread): Code<number> {
    const t = th.t;
    if (this.pcps[t.cpu].pages.length === 0) {
      // rmqueue_bulk(): refill the per-CPU list from the zone under zone->lock (here, not by a
      // call of refillPcp(): the race checker's step log names the generator a step is in).
      const zl = this.zoneFor(t.cpu).lock;
      yield* zl.lock(t);
      this.refillLocked(t);
      yield* zl.unlock(t);
    }
    return this.allocAfterRefill(th);
  }

  /** allocPageFast() after a refill: -1 (memory exhausted) when the list is still empty. */
  allocAfterRefill(th: Thread): number {
    const pfn = this.allocPageFast(th);
    return pfn === -2 ? -1 : pfn;
  }

  /** rmqueue_bulk()'s work under zone->lock: up to `batch` frames onto this CPU's list. */
  refillLocked(t: Task): number {
    const free = this.zoneFor(t.cpu).free;
    const pcp = this.pcps[t.cpu];
    let n = 0;
    while (n < this.batch) {
      const pfn = this.take1(free);
      if (pfn < 0) break;
      pcp.pages.push(pfn);
      n++;
    }
    t.cost(n * this.costs.zoneBatchPerPageNs);
    return n;
  }

  /**
   * rmqueue_bulk() for a caller that found this CPU's list empty (allocPageFast() said -2), then
   * allocAfterRefill(): this CPU's section, ready, for a frame to take its steps where the engine
   * runs calls; null elsewhere, and the caller calls the generator refillPcp(), whose name a lock
   * wait's stack shows.
   */
  refillSection(th: Thread): SpinSection | null {
    const t = th.t;
    if (!t.eng.calls) return null;
    return (this.refills[t.cpu] ??= new SpinSection((u) => this.refillLocked(u))).begin(this.zoneFor(t.cpu).lock);
  }

  /** refillSection()'s generator. */
  *refillPcp(th: Thread): Code<number> {
    const t = th.t;
    const zl = this.zoneFor(t.cpu).lock;
    yield* zl.lock(t);
    const n = this.refillLocked(t);
    yield* zl.unlock(t);
    return n;
  }

  /**
   * free_unref_page(): back to this CPU's list. Returns true when the list has grown past
   * pcp->high and drainPcp() must run.
   */
  freePageFast(th: Thread, pfn: number): boolean {
    this.dbg?.pageFree(th, pfn);
    this.contents?.free(pfn);
    const pcp = this.pcps[th.t.cpu];
    pcp.pages.push(pfn);
    this.db.flags[pfn] = 0;
    this.allocated--;
    th.t.cost(this.costs.pageFreeNs);
    th.k.em.count(EV.PGFREE, th);
    return pcp.pages.length > this.high;
  }

  /**
   * free_unref_page() of pages[from], pages[from + 1], ... until one leaves this CPU's list past
   * pcp->high: returns that page's index (drainPcp() must run before the next), or pages.length.
   * release_pages()'s loop as a plain function, so that the caller's generator holds no hot loop
   * (V8 compiled the loop on the stack before its first drain and deopted at every drain).
   */
  freePagesUntilDrain(th: Thread, pages: PfnList, from: number): number {
    for (let i = from; i < pages.length; i++) if (this.freePageFast(th, pages.at(i))) return i;
    return pages.length;
  }

  /**
   * free_unref_page() with the drain of a batch to the zone when the list is too long: for a
   * page whose last reference is gone (callers drop references with putPage()).
   */
  *freePage(th: Thread, pfn: number): Code {
    if (this.freePageFast(th, pfn)) yield* this.drainPcp(th);
  }

  /** free_pcppages_bulk(): move a batch from this CPU's list to the zone under zone->lock. */
  *drainPcp(th: Thread): Code {
    const t = th.t;
    const { lock: zl, free } = this.zoneFor(t.cpu);
    const pcp = this.pcps[t.cpu];
    // The lock's fast paths first: no generator made when they need no sync and it is free.
    if (!zl.lockFast(t)) yield* zl.lock(t);
    pcp.pages.moveFirst(this.batch, free);
    t.cost(this.batch * this.costs.zoneBatchPerPageNs);
    if (!zl.unlockFast(t)) yield* zl.unlock(t);
  }
}

/**
 * The LRU lists of each node under its lruvec->lru_lock. New pages go through a per-CPU pagevec of
 * PAGEVEC_SIZE (15) and are added in one locked batch (__pagevec_lru_add); pages released by
 * munmap are taken off in batches, relocking every SWAP_CLUSTER_MAX (32) pages (release_pages).
 */
export class Lru {
  /** Each node's lru lock (pgdat->lru_lock; lruvec->lru_lock from 5.11). */
  readonly locks: SpinLock[];
  private readonly nodeOf: Int32Array;
  private readonly pvec: Int32Array;
  /** Each CPU's __pagevec_lru_add() section (drainSection()), made when first used. */
  private readonly drains: (SpinSection | undefined)[];
  static readonly PAGEVEC_SIZE = 15;
  static readonly SWAP_CLUSTER_MAX = 32;

  constructor(
    eng: Engine,
    private readonly db: PageDb,
    private readonly costs: ArchCosts,
  ) {
    const nodes = eng.topo.sockets;
    this.nodeOf = eng.topo.socketOf;
    this.locks = Array.from({ length: nodes }, (_, n) => new SpinLock(eng, nodes > 1 ? `lruvec->lru_lock(node${n})` : 'lruvec->lru_lock'));
    this.pvec = new Int32Array(eng.ncpus);
    this.drains = objectSlots(eng.ncpus);
  }

  /** Node 0's lock (the only one on a one-socket machine). */
  get lock(): SpinLock {
    return this.locks[0];
  }

  /** The lru lock of a CPU's node: the pages it adds or releases were allocated there. */
  private lockFor(cpu: number): SpinLock {
    return this.locks[this.nodeOf[cpu]];
  }

  /** lru_cache_add(): true when the pagevec is full and drain() must run. */
  addFast(th: Thread, pfn: number): boolean {
    this.db.flags[pfn] |= PG_LRU;
    return ++this.pvec[th.t.cpu] >= Lru.PAGEVEC_SIZE;
  }

  /** lru_cache_add() with the drain of a full pagevec. */
  *add(th: Thread, pfn: number): Code {
    if (this.addFast(th, pfn)) yield* this.drain(th);
  }

  /**
   * __pagevec_lru_add() for a frame to take its steps (as PageAllocator.refillSection()): this
   * CPU's section, ready, where the engine runs calls; null elsewhere (the caller calls drain()).
   */
  drainSection(th: Thread): SpinSection | null {
    const t = th.t;
    if (!t.eng.calls) return null;
    return (this.drains[t.cpu] ??= new SpinSection((u) => this.drainLocked(u))).begin(this.lockFor(t.cpu));
  }

  /** __pagevec_lru_add()'s work under the lru lock (the pages' list moves): this CPU's pagevec emptied. */
  drainLocked(t: Task): number {
    t.cost(Lru.PAGEVEC_SIZE * this.costs.lruPerPageNs);
    this.pvec[t.cpu] = 0;
    return 0;
  }

  /** __pagevec_lru_add(): move this CPU's pagevec onto the LRU under the lru lock. */
  *drain(th: Thread): Code {
    const t = th.t;
    // The pages were allocated on this CPU's node: its lruvec.
    const lock = this.lockFor(t.cpu);
    yield* lock.lock(t);
    this.drainLocked(t);
    yield* lock.unlock(t);
  }

  /** The LRU part of release_pages(): take `n` pages off the LRU. */
  *remove(th: Thread, n: number): Code {
    const t = th.t;
    for (let done = 0; done < n; done += Lru.SWAP_CLUSTER_MAX) {
      const m = Math.min(Lru.SWAP_CLUSTER_MAX, n - done);
      // release_pages() relocks per node; the model takes the pages as this CPU's node's.
      const lock = this.lockFor(t.cpu);
      if (!lock.lockFast(t)) yield* lock.lock(t); // as drainPcp()
      t.cost(m * this.costs.lruPerPageNs);
      if (!lock.unlockFast(t)) yield* lock.unlock(t);
    }
  }
}

/**
 * put_page(): drop one reference to a page; the last one frees it (__put_page -> free_unref_page).
 * The one way pages are given back, for pages off the LRU (pages on it go through release_pages:
 * Lru.remove then the allocator, as tlb_finish_mmu does).
 */
export function* putPage(th: Thread, pfn: number): Code {
  const k = th.k;
  if (--k.pages.refcount[pfn] === 0) yield* k.alloc.freePage(th, pfn);
}

/**
 * put_page() of a page on the LRU: the last reference takes it off the LRU under the lru lock
 * (__page_cache_release) before freeing it. Batches of such pages go through release_pages
 * (Lru.remove for the batch, then the allocator), as tlb_finish_mmu does.
 */
export function* putLruPage(th: Thread, pfn: number): Code {
  const k = th.k;
  if (--k.pages.refcount[pfn] !== 0) return;
  yield* k.lru.remove(th, 1);
  yield* k.alloc.freePage(th, pfn);
}
