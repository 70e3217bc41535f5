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
    key: 'rwsem_reader_spin',
    at: '5.3',
    before: 'n',
    after: 'y',
    what: 'an rwsem writer that finds the lock owned by readers spins on it too, for at most (10 + readers/2) us (rwsem_rspin_threshold()), before it marks the lock non-spinnable and sleeps',
    // "locking/rwsem: Enable time-based spinning on reader-owned rwsem" (Waiman Long), in the
    // rwsem rework merged through tip locking/core for v5.3 (version from context, not a tag lookup).
    source: '"locking/rwsem: Enable time-based spinning on reader-owned rwsem" (Waiman Long), v5.3 rwsem rework',
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
