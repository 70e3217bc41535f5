import { SYNC, type Code } from '../engine/engine.js';
import { SpinLock } from '../engine/locks.js';
import { EV } from '../events/catalog.js';
import type { Kernel, Thread } from './kernel.js';
import { PG_DIRTY } from './page.js';

/**
 * Files and their page cache (struct address_space with its i_pages xarray under xa_lock).
 *
 * Two kinds of file: a disk file (ext4-like: a page not in the cache is read from the machine's
 * storage, with mmap read-around) and a tmpfs/shmem file (a missing page is allocated zeroed;
 * no I/O, no dirty accounting). Files under /dev/shm/ or /tmp/ are tmpfs, as on distributions
 * that mount /tmp as tmpfs; shared anonymous mappings are shmem files of their own.
 */
export class File {
  /** page index -> pfn of the cached page. */
  readonly pages = new Map<number, number>();
  /** mapping->i_pages xa_lock. */
  readonly lock: SpinLock;
  /** Pages dirtied and not yet written back (NR_FILE_DIRTY share of this file). */
  dirty = 0;

  constructor(
    k: Kernel,
    readonly id: number,
    readonly name: string,
    /** tmpfs/shmem: no backing store, no dirty accounting (BDI_CAP_NO_ACCT_DIRTY). */
    readonly shmem: boolean,
    /** Size in pages. */
    public sizePages: number,
  ) {
    this.lock = new SpinLock(k.eng, `i_pages(${name})`);
  }

  toString(): string {
    return this.name;
  }
}

/** Is a path on tmpfs? */
export function isTmpfsPath(path: string): boolean {
  return path.startsWith('/dev/shm/') || path.startsWith('/tmp/');
}

/** Read-around window of a mmap read miss: ra_pages (128 KiB) worth of pages. */
function readAroundPages(pageSize: number): number {
  return Math.max(1, Math.floor((128 * 1024) / pageSize));
}

/**
 * Find or bring in the page at `index` of `file` (filemap_fault() / shmem_fault()).
 * Returns the pfn with an extra reference for the caller, and whether it needed I/O.
 * A disk read sleeps for the machine's I/O latency; the caller decides whether the mmap lock is
 * dropped around it (it is, for a fault that may retry).
 */
export function* findGetPage(th: Thread, file: File, index: number, io: (readNs: number) => Code): Code<{ pfn: number; major: boolean }> {
  const t = th.t;
  const k = th.k;
  if (t.mustSync()) yield SYNC;
  // find_get_page(): an RCU lookup of the xarray, then get_page_unless_zero on the struct page.
  t.cost(k.costs.vmaLookupLevelNs * 2);
  const hit = file.pages.get(index);
  if (hit !== undefined) {
    k.pages.refcount[hit]++;
    return { pfn: hit, major: false };
  }
  if (file.shmem) {
    // shmem_getpage_gfp(): allocate a zeroed page and add it to the page cache.
    const pfn = yield* k.alloc.allocPage(th);
    if (pfn < 0) return { pfn: -1, major: false };
    t.cost(k.eng.jitter(k.pageSize / k.costs.clearBytesPerNs));
    k.contents?.clear(th, pfn, 'shmem_get_folio');
    // Another task may have added the page meanwhile: then use its page and free ours.
    const cached = yield* addToPageCache(th, file, index, pfn);
    k.pages.refcount[cached]++; // the cache holds one reference, the caller another
    return { pfn: cached, major: false };
  }
  // A read miss: count it major (filemap_fault), read the read-around window from storage.
  k.em.count(EV.PGMAJFAULT, th);
  const window = readAroundPages(k.pageSize);
  const first = Math.max(0, index - Math.floor(window / 2));
  const last = Math.min(file.sizePages, first + window);
  for (let i = first; i < last; i++) {
    if (file.pages.has(i)) continue;
    const pfn = yield* k.alloc.allocPage(th);
    if (pfn < 0) break;
    yield* addToPageCache(th, file, i, pfn);
  }
  // The page is in the cache now, added by this read or by another task's racing one; either
  // way its I/O has to complete before it can be mapped.
  const mine = file.pages.get(index);
  if (mine === undefined) return { pfn: -1, major: true };
  yield* io(th.k.ioLatencyNs);
  k.pages.refcount[mine]++;
  return { pfn: mine, major: true };
}

/**
 * add_to_page_cache_lru(): insert under xa_lock; the cache holds the page's first reference.
 * If another task inserted a page at `index` first (-EEXIST), `pfn` is freed and theirs is
 * returned.
 */
function* addToPageCache(th: Thread, file: File, index: number, pfn: number): Code<number> {
  const k = th.k;
  yield* file.lock.lock(th.t);
  const there = file.pages.get(index);
  if (there === undefined) file.pages.set(index, pfn);
  th.t.cost(k.costs.vmaLookupLevelNs * 3);
  yield* file.lock.unlock(th.t);
  if (there !== undefined) {
    k.pages.refcount[pfn] = 0;
    yield* k.alloc.freePage(th, pfn);
    return there;
  }
  yield* k.lru.add(th, pfn);
  return pfn;
}

/** set_page_dirty(): true if the page was clean (the caller then balances dirty pages). */
export function setPageDirty(th: Thread, file: File, pfn: number): boolean {
  const flags = th.k.pages.flags;
  if (flags[pfn] & PG_DIRTY) return false;
  flags[pfn] |= PG_DIRTY;
  if (!file.shmem) {
    file.dirty++;
    th.k.writeback.dirty++;
  }
  return true;
}
