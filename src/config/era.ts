import { ConfigError } from '../errors.js';

/**
 * Kernel eras: the config keys whose right value depends on which kernel release a run stands
 * for, and the release each one changes at. `--config kernel=4.17` sets every one of them to what
 * 4.17 did (kconfig.ts), so a comparison with a published run names its kernel once.
 *
 * Only facts of mainline releases belong here (a change every kernel from that release on has,
 * with no Kconfig choice of the distribution's), never a design choice: the page-fault designs
 * and their presets stay in the design registry (src/mm/spf).
 */

/** One change of one era key: the release it first shipped in, and the value before and after. */
export interface EraChange {
  readonly key: string;
  /** The first mainline release with `after` (major.minor, as kernelRelease() reads it). */
  readonly at: string;
  readonly before: string;
  readonly after: string;
  /** What the kernel does differently from that release on. */
  readonly what: string;
  /** The commit(s) and how the release was established. */
  readonly source: string;
}

/**
 * Every era change, oldest first. A key that changes twice has two rows, the second's `before`
 * being the first's `after` (checked at load).
 */
export const ERA_CHANGES: readonly EraChange[] = [
  {
    key: 'CONFIG_RWSEM_GENERIC_SPINLOCK',
    at: '2.6.34',
    before: 'y',
    after: 'n',
    what: 'x86-64 rw_semaphores use the atomic count of lib/rwsem.c (xadd) instead of lib/rwsem-spinlock.c, where every down_read() and up_read() takes the spinlock sem->wait_lock',
    // bafaecd11df1 "x86-64: support native xadd rwsem implementation", with 1838ef1d782f
    // "x86-64, rwsem: 64-bit xadd rwsem implementation" (Linus Torvalds): "None of those are in
    // 2.6.33 - they were merged afterwards. But they are in 2.6.34-rc1" (Linus on linux-mm,
    // 2010-03-23, about page faults spinning on mmap_sem; "On one of the random page-fault
    // benchmarks the rwsem fix was something like a 400% performance improvement"). x86-32 had
    // the xadd rwsem long before; x86-64 is what the x86 machines here run.
    source: 'bafaecd11df1 "x86-64: support native xadd rwsem implementation" (Linus Torvalds), v2.6.34-rc1',
  },
  {
    key: 'rwsem_writer_steal',
    at: '3.9',
    before: 'n',
    after: 'y',
    what: 'rwsem_wake() wakes a writer at the head of the queue without granting it the lock: it takes the lock when it runs, and a writer that comes first takes it instead (lock stealing)',
    // ce6711f3d196 "rwsem: Implement writer lock-stealing for better scalability" (Alex Shi,
    // 2013-02, tip for the 3.9 merge window): try_get_writer_sem() in lib/rwsem.c. Michel
    // Lespinasse's series merged for 3.10 extended it to the fast path ("which added write lock
    // stealing on the rwsem slow path"). Before, __rwsem_do_wake() granted the lock to the writer
    // it woke ("strict, serialized, FIFO sequential write-ownership", the changelog says).
    source: 'ce6711f3d196 "rwsem: Implement writer lock-stealing for better scalability" (Alex Shi), v3.9; fast path v3.10 (Michel Lespinasse)',
  },
  {
    key: 'vmacache',
    at: '3.15',
    before: 'mm',
    after: 'task',
    what: "find_vma() first tries a per-thread cache of 4 VMAs instead of the one mm->mmap_cache every thread reads and writes",
    // 615d6e8756c8 "mm: per-thread vma caching" (Davidlohr Bueso, 2014-04, merge window of 3.15;
    // a blackfin report calls the crash it caused new "after updated to Linux 3.15").
    source: '615d6e8756c8 "mm: per-thread vma caching" (Davidlohr Bueso), v3.15',
  },
  {
    key: 'CONFIG_RWSEM_SPIN_ON_OWNER',
    at: '3.16',
    before: 'n',
    after: 'y',
    what: 'an rwsem writer that finds the lock held by a running writer spins on it instead of sleeping',
    // 4fc828e24cd9 "locking/rwsem: Support optimistic spinning" (Davidlohr Bueso and Tim Chen),
    // which also added the Kconfig symbol; in v3.16.
    source: '4fc828e24cd9 "locking/rwsem: Support optimistic spinning" (Davidlohr Bueso, Tim Chen), v3.16',
  },
  {
    key: 'spinlock',
    at: '4.2',
    before: 'ticket',
    after: 'queued',
    what: 'x86 spinlocks are queued (qspinlock: only the waiter at the head of an MCS queue watches the lock word) instead of ticket locks every waiter spins on',
    // d73a33973f16 "locking/qspinlock, x86: Enable x86-64 to use queued spinlocks" (Waiman Long),
    // merged with the generic qspinlock (a33fda35e3a7) for v4.2; x86 had ticket spinlocks since
    // 314cdbefd1 (Nick Piggin, 2.6.25). arm64 changed later, in v4.19 (c11090474d70 "arm64:
    // locking: Replace ticket lock implementation with qspinlock", Will Deacon).
    source: 'd73a33973f16 "locking/qspinlock, x86: Enable x86-64 to use queued spinlocks" (Waiman Long), v4.2 (arm64: c11090474d70, v4.19)',
  },
  {
    key: 'lazy_tlb',
    at: '4.20',
    before: 'ipi',
    after: 'skip',
    what: 'x86 TLB-flush IPIs no longer go to CPUs idling in lazy TLB mode on the mm',
    // Rik van Riel's "x86/mm/tlb: Make lazy TLB mode lazier" series first went in during the 4.19
    // merge window and was reverted in the same window ("x86/mm/tlb: Revert the recent lazy TLB
    // patches", Peter Zijlstra, 2018-08-22: "for this merge window only"), so 4.19 shipped
    // without it; the series came back through tip x86/mm as 145f573b89a6 and its siblings, in
    // v4.20 (native_flush_tlb_others() skipping CPUs for which tlb_is_not_lazy() is false).
    source: '145f573b89a6 "x86/mm/tlb: Make lazy TLB mode lazier" (Rik van Riel), v4.20 (reverted before v4.19-rc1)',
  },
  {
    key: 'munmap_downgrade',
    at: '4.20',
    before: 'n',
    after: 'y',
    what: 'munmap(2) downgrades the mmap lock to read once the VMAs are out of the tree, and zaps the pages and frees the page tables under the read lock',
    // dd2283f2605e "mm: mmap: zap pages with read mmap_sem in munmap" (Yang Shi), merged through
    // akpm's tree for v4.20: __do_munmap(..., downgrade) and __vm_munmap(), which up_read()s when
    // do_munmap returns 1.
    source: 'dd2283f2605e "mm: mmap: zap pages with read mmap_sem in munmap" (Yang Shi), v4.20',
  },
  {
    key: 'rwsem_reader_wake',
    at: '5.3',
    before: 'head',
    after: 'all',
    what: 'a release that wakes readers wakes every queued reader, past the queued writers, up to MAX_READERS_WAKEUP (256), not only those at the head',
    // d3681e269fff "locking/rwsem: Wake up almost all readers in wait queue" (Waiman Long), in
    // Ingo Molnar's "locking changes for v5.3" pull (rwsem scalability improvements, phase #2).
    source: 'd3681e269fff "locking/rwsem: Wake up almost all readers in wait queue" (Waiman Long), v5.3',
  },
  {
    key: 'rwsem_reader_optimistic',
    at: '5.3',
    before: 'none',
    after: 'spin',
    what: 'a reader in the slow path spins on a running writer owner, and takes a lock no writer and no hand-off holds, ahead of the waiters (until a writer that timed out on readers marks the lock non-spinnable)',
    // cf69482d62d9 "locking/rwsem: Enable readers spinning on writer" and 5cfd92e12e13
    // "locking/rwsem: Adaptive disabling of reader optimistic spinning" (Waiman Long), v5.3 pull.
    source: 'cf69482d62d9 "locking/rwsem: Enable readers spinning on writer", 5cfd92e12e13 "Adaptive disabling of reader optimistic spinning" (Waiman Long), v5.3',
  },
  {
    key: 'rwsem_spin_on_readers',
    at: '5.3',
    before: 'n',
    after: 'y',
    what: 'a writer also spins on a reader-owned lock, for (10 + readers/2) us and 25 us at most, then marks it non-spinnable and sleeps',
    // 7d43f1ce9dd0 "locking/rwsem: Enable time-based spinning on reader-owned rwsem" (Waiman
    // Long), v5.3 pull; rwsem_rspin_threshold().
    source: '7d43f1ce9dd0 "locking/rwsem: Enable time-based spinning on reader-owned rwsem" (Waiman Long), v5.3',
  },
  {
    key: 'rwsem_handoff',
    at: '5.3',
    before: 'n',
    after: 'y',
    what: 'a waiter at the head of the queue for RWSEM_WAIT_TIMEOUT (4 ms) that finds the lock stolen sets RWSEM_FLAG_HANDOFF: nobody steals it before that waiter has had it',
    // 4f23dbc1e657 "locking/rwsem: Implement lock handoff to prevent lock starvation" (Waiman
    // Long), v5.3 pull.
    source: '4f23dbc1e657 "locking/rwsem: Implement lock handoff to prevent lock starvation" (Waiman Long), v5.3',
  },
  {
    key: 'rwsem_reader_optimistic',
    at: '5.11',
    before: 'spin',
    after: 'steal',
    what: 'readers no longer spin; a reader in the slow path takes the lock only when no writer, no hand-off and no other reader holds it',
    // 617f3ef95177 "locking/rwsem: Remove reader optimistic spinning", 1a728dff855a "Enable reader
    // optimistic lock stealing" and 2f06f702925b "Prevent potential lock starvation" (Waiman
    // Long), in the "locking/core for v5.11-rc1" pull (tglx, 2020-12-14).
    source: '617f3ef95177 "locking/rwsem: Remove reader optimistic spinning", 1a728dff855a "Enable reader optimistic lock stealing" (Waiman Long), v5.11',
  },
  {
    key: 'fault_completed',
    at: '6.0',
    before: 'n',
    after: 'y',
    what: 'a shared file write fault that dropped the mmap lock to throttle dirtying returns VM_FAULT_COMPLETED instead of retrying',
    // d92725256b4f "mm: avoid unnecessary page fault retires on shared memory types" (Peter Xu),
    // pushed to torvalds/linux master on 2022-08-05 with the mm-stable merge, after 5.19's
    // release (2022-07-31): the 6.0 merge window.
    source: 'd92725256b4f "mm: avoid unnecessary page fault retires on shared memory types" (Peter Xu), v6.0',
  },
  {
    key: 'vmacache',
    at: '6.1',
    before: 'task',
    after: 'none',
    what: 'the maple tree replaces the rbtree, and find_vma() walks it without any cache',
    // 7964cf8caa4d "mm: remove vmacache" (Liam R. Howlett), in the maple tree series merged for
    // v6.1.
    source: '7964cf8caa4d "mm: remove vmacache" (Liam R. Howlett), v6.1 (maple tree)',
  },
  {
    key: 'thp_anon_align',
    at: '6.7',
    before: 'none',
    after: 'any',
    what: 'an anonymous mmap() of at least PMD size gets a PMD-aligned address (thp_get_unmapped_area()), so that it can be backed by huge pages from its first byte',
    // efa7df3e3bb5 "mm: align larger anonymous mappings on THP boundaries" (Rik van Riel). Its
    // first version, f35b5d7d676e, went into 6.1-rc1 and was reverted in 6.1-rc8 (0ba09b173387,
    // Linus Torvalds, after mmap1 regressions), so 6.1 shipped without it; it came back in 6.7
    // (the reports of its side effects name linux-6.7.y).
    source: 'efa7df3e3bb5 "mm: align larger anonymous mappings on THP boundaries" (Rik van Riel), v6.7 (its first version f35b5d7d676e was reverted in v6.1-rc8)',
  },
  {
    key: 'vma_lock_anon_vma',
    at: '6.10',
    before: 'inval',
    after: 'trylock',
    what: "a per-VMA-lock fault in an anonymous VMA without an anon_vma no longer gives up in lock_vma_under_rcu(): it goes on under the VMA lock, and vmf_anon_prepare() takes the mmap lock with a trylock to attach one (VM_FAULT_RETRY only if the trylock fails)",
    // Matthew Wilcox's series "Improve anon_vma scalability for anon VMAs": "mm: delay the check
    // for a NULL anon_vma" and "mm: optimise vmf_anon_prepare() for VMAs without an anon_vma"
    // (posted 2024-04-26), in Andrew Morton's "MM updates for 6.10-rc1" pull (2024-05-17).
    source: '"mm: delay the check for a NULL anon_vma" and "mm: optimise vmf_anon_prepare() for VMAs without an anon_vma" (Matthew Wilcox), v6.10 (MM updates for 6.10-rc1)',
  },
  {
    key: 'thp_anon_align',
    at: '6.12',
    before: 'any',
    after: 'pmd',
    what: 'only an anonymous mmap() whose length is a multiple of the PMD size is PMD-aligned; other lengths are placed as before 6.7, next to their neighbours',
    // d4148aeab412 "mm, mmap: limit THP alignment of anonymous mappings to PMD-aligned sizes"
    // (Vlastimil Babka): __get_unmapped_area() aligns only when IS_ALIGNED(len, PMD_SIZE). In the
    // mm-hotfixes merged for 6.12-rc6 (2024-10-31).
    source: 'd4148aeab412 "mm, mmap: limit THP alignment of anonymous mappings to PMD-aligned sizes" (Vlastimil Babka), v6.12-rc6',
  },
  {
    key: 'vma_lock',
    at: '6.15',
    before: 'rwsem',
    after: 'refcount',
    what: "the per-VMA lock becomes a reference count, vma->vm_refcnt: a VMA writer no longer spins on the faults in the VMA as an rw_semaphore writer does, it sleeps on the mm's rcuwait until they are gone, and the last of them wakes it",
    // Suren Baghdasaryan's series "reimplement per-vma lock as a refcount" ("mm: replace vm_lock
    // and detached flag with a reference count": __vma_enter_locked() adds VMA_LOCK_OFFSET and
    // rcuwait_wait_event()s on mm->vma_writer_wait; vma_end_read() rcuwait_wake_up()s it), in
    // Andrew Morton's MM updates for 6.15-rc1.
    source: '"mm: replace vm_lock and detached flag with a reference count" (Suren Baghdasaryan), v6.15 (MM updates for 6.15-rc1)',
  },
];

/** A release as numbers: [major, minor], or [2, 6, n] for 2.6.n (where the third number is the release). */
export type KernelRelease = readonly number[];

const VERSION = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+.~_].*)?$/;

/**
 * The release a kernel version string names, as `uname -r` or a cover letter writes it:
 * '4.17' and '4.17-rc4-mm1' are 4.17, '6.18.44-fc' and '6.8.0-45-generic' are 6.18 and 6.8
 * (stable and distribution suffixes do not change the era), '2.6.33' is 2.6.33 (before 3.0 the
 * third number was the release). An -rc counts as its release: the merge window is over by rc1.
 * Undefined when `text` is not a version.
 */
export function kernelRelease(text: string): KernelRelease | undefined {
  const m = VERSION.exec(text);
  if (m === null) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major === 2 && minor === 6 && m[3] !== undefined) return [2, 6, Number(m[3])];
  return [major, minor];
}

/** Compare two releases (missing trailing numbers count as 0). */
export function compareReleases(a: KernelRelease, b: KernelRelease): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The release of a version string, or a ConfigError that says what a version looks like. */
export function parseKernelVersion(text: string): KernelRelease {
  const r = kernelRelease(text);
  if (r === undefined) {
    throw new ConfigError(`'${text}' is not a kernel version (major.minor, with anything after it: 4.17, 2.6.33, 6.8.0-45-generic)`);
  }
  return r;
}

/** The era keys, in the order of their first change. */
export const ERA_KEYS: readonly string[] = [...new Set(ERA_CHANGES.map((c) => c.key))];

// The table must be in release order and each key's changes must chain.
{
  const last = new Map<string, EraChange>();
  let prev: EraChange | undefined;
  for (const c of ERA_CHANGES) {
    const at = kernelRelease(c.at);
    if (at === undefined) throw new Error(`era table: ${c.key} changes at '${c.at}', not a version`);
    if (prev !== undefined && compareReleases(kernelRelease(prev.at)!, at) > 0) throw new Error(`era table: ${c.key} at ${c.at} comes after ${prev.key} at ${prev.at}`);
    const before = last.get(c.key);
    if (before !== undefined && before.after !== c.before) {
      throw new Error(`era table: ${c.key} is ${before.after} from ${before.at}, but its change at ${c.at} starts from ${c.before}`);
    }
    last.set(c.key, c);
    prev = c;
  }
}

/**
 * Every era key's value in the kernel `version` names (see kernelRelease()): in ERA_KEYS order.
 * A ConfigError if `version` is not a version.
 */
export function eraSettings(version: string): Record<string, string> {
  const release = parseKernelVersion(version);
  const out: Record<string, string> = {};
  for (const c of ERA_CHANGES) {
    if (out[c.key] === undefined) out[c.key] = c.before;
    if (compareReleases(release, kernelRelease(c.at)!) >= 0) out[c.key] = c.after;
  }
  return out;
}
