import type { LineLatencies } from '../engine/topology.js';
import { ConfigError } from '../errors.js';

/**
 * Architecture profiles: page size, page-table shape, how TLBs are shot down, and the cost of
 * every kernel step the model charges. One table per arch; every number says where it comes
 * from. No workload or validation case is named here: costs are properties of the hardware and
 * of the kernel code, not of a benchmark.
 */

/** How remote TLB entries are invalidated. */
export type TlbModel =
  /** x86: flush_tlb_mm_range() sends IPIs to the CPUs in mm_cpumask and waits for them. */
  | 'ipi'
  /** arm64 (TLBI ...IS + DSB ISH), powerpc radix (tlbie): broadcast in hardware, no IPI. */
  | 'broadcast';

export interface ArchCosts {
  /** Exception entry up to the C handler (entry code, swapgs, PTI CR3 switch, pt_regs save). */
  readonly trapEntryNs: number;
  /** Return from exception to user mode (IRET path, PTI CR3 switch). */
  readonly trapExitNs: number;
  /** A syscall's entry + exit. */
  readonly syscallNs: number;
  /** One level of the VMA tree walked by find_vma() (a pointer chase that hits L2). */
  readonly vmaLookupLevelNs: number;
  /** One level of a software page-table walk (pgd/p4d/pud/pmd offset + READ_ONCE). */
  readonly pgtableLevelNs: number;
  /** __alloc_pages() fast path: take a page off the per-CPU list. */
  readonly pageAllocNs: number;
  /** Give a page back to the per-CPU list (free_unref_page). */
  readonly pageFreeNs: number;
  /** Per page moved between the zone free lists and a per-CPU list under zone->lock. */
  readonly zoneBatchPerPageNs: number;
  /** clear_page() bandwidth in bytes per ns (rep stosb into cache). */
  readonly clearBytesPerNs: number;
  /** copy_page() bandwidth in bytes per ns (COW copies). */
  readonly copyBytesPerNs: number;
  /** Allocate and zero one page-table page (pte_alloc_one / pmd_alloc_one). */
  readonly pgtableAllocNs: number;
  /** Build and store a PTE (mk_pte + set_pte_at + update_mmu_cache). */
  readonly pteSetNs: number;
  /** Per present PTE torn down by zap_pte_range (ptep_get_and_clear_full, rmap, counters). */
  readonly zapPteNs: number;
  /** Per PTE rewritten by change_protection (mprotect). */
  readonly changePteNs: number;
  /** rmap + memcg bookkeeping of a new anonymous page (page_add_new_anon_rmap + charge). */
  readonly anonRmapNs: number;
  /** Per page added to or removed from an LRU list under the lruvec lock. */
  readonly lruPerPageNs: number;
  /** Allocate, fill and free a vm_area_struct and its bookkeeping (mmap/munmap/split/merge). */
  readonly vmaAllocNs: number;
  /** get_unmapped_area(): gap search, per VMA tree level. */
  readonly unmappedAreaLevelNs: number;
  /** Invalidate one page of the local TLB (invlpg / tlbiel / tlbi vale1). */
  readonly tlbFlushOneNs: number;
  /** Flush the whole local TLB for an mm (CR3 write and refill). */
  readonly tlbFlushAllNs: number;
  /** Above this many pages a ranged flush becomes a full flush (tlb_single_page_flush_ceiling). */
  readonly tlbFlushCeiling: number;
  /** Send a TLB-shootdown IPI and wait for the slowest acknowledgement (ipi model). */
  readonly ipiRoundTripNs: number;
  /** Time the IPI handler steals from the target CPU. */
  readonly ipiHandlerNs: number;
  /** A broadcast invalidation and its completion barrier (broadcast model). */
  readonly tlbBroadcastNs: number;
  /** A user-mode store or load to a page that is mapped (TLB refill included on a first touch). */
  readonly userAccessNs: number;
  /** clone() of a thread. */
  readonly cloneNs: number;
  /** Context switch: __schedule() + switch_to(). */
  readonly contextSwitchNs: number;
  /** try_to_wake_up() until the woken task runs on an idle CPU. */
  readonly wakeupNs: number;
  /** The waker's cost of one remote try_to_wake_up() (rq lock, enqueue, reschedule IPI). */
  readonly ttwuNs: number;
  /** RCU grace period: every CPU passes a quiescent state (a few jiffies). */
  readonly rcuGracePeriodNs: number;
  /** hash_page(): insert a translation into the hashed page table (hash MMU only). */
  readonly hashPageNs: number;
  /** Invalidate one hashed page table entry at unmap (flush_hash_page + tlbie). */
  readonly hashFlushNs: number;
}

export interface ArchProfile {
  /** The --arch name. */
  readonly name: 'x86' | 'powerpc' | 'arm64';
  /** The profile's own name (powerpc has a radix and a hash variant). */
  readonly profile: string;
  readonly description: string;
  /**
   * How the MMU finds translations: a hardware walk of the Linux page tables (x86, arm64,
   * powerpc radix), or a hashed page table filled by hash_page() on a miss (powerpc hash: the
   * first access to a page after its Linux PTE is set takes a hash fault, which is not a page
   * fault and takes no mmap lock).
   */
  readonly mmu: 'walk' | 'hash';
  /** log2 of the base page size. */
  readonly pageShift: number;
  /**
   * Index bits per page-table level, top (pgd) to bottom (pte). A PMD entry (a THP) maps
   * 2^(pageShift + last level's bits) bytes.
   */
  readonly levelBits: readonly number[];
  /** Names of the levels, top to bottom, for messages. */
  readonly levelNames: readonly string[];
  readonly tlb: TlbModel;
  /**
   * Broadcast invalidations are serialised machine-wide (powerpc tlbie: one at a time in the
   * fabric; arm64 DVM messages): modelled as one shared line every broadcast flush writes.
   */
  readonly tlbBroadcastSerialised: boolean;
  /** Default cache-line latencies when a machine preset does not give its own. */
  readonly lineLatencies: LineLatencies;
  readonly costs: ArchCosts;
}

/**
 * x86-64, 4 KiB pages, 4-level paging (Documentation/x86/x86_64/mm.rst), TLB shootdown by IPI
 * (arch/x86/mm/tlb.c). Costs are for a ~2.5 GHz Skylake-class core.
 */
export const x86: ArchProfile = {
  name: 'x86',
  profile: 'x86',
  description: 'x86-64, 4 KiB pages, 4-level page tables, TLB shootdown by IPI',
  mmu: 'walk',
  pageShift: 12,
  levelBits: [9, 9, 9, 9],
  levelNames: ['pgd', 'pud', 'pmd', 'pte'],
  tlb: 'ipi',
  tlbBroadcastSerialised: false,
  lineLatencies: {
    // Intel 64 and IA-32 Optimization Reference Manual, Skylake-SP: L1 hit 4-5 cycles (~2 ns),
    // core-to-core transfer on one die ~70 ns (mesh; ~40 ns on client ring parts),
    // cross-socket (UPI) ~130-140 ns, local DRAM ~90 ns (Intel MLC measurements).
    local: 2,
    smt: 8,
    socket: 70,
    remote: 135,
    memory: 90,
  },
  costs: {
    // Exception entry/exit with PTI (CR3 switches): ~400 cycles total; the split follows the
    // entry path doing more work (pt_regs, error code, cr2 read). (PTI overhead figures from
    // the 2018 Meltdown mitigation reports: +~150-250 cycles per kernel entry.)
    trapEntryNs: 110,
    trapExitNs: 70,
    // Bare syscall round trip with PTI, ~250 cycles (lmbench lat_syscall null on Skylake).
    syscallNs: 100,
    // rb-tree / maple-tree node pointer chase hitting L2 (~14 cycles) plus compare.
    vmaLookupLevelNs: 6,
    // One READ_ONCE of a page-table entry in L1/L2 plus index arithmetic.
    pgtableLevelNs: 3,
    // Mel Gorman's page allocator microbenchmarks (pcp fast path alloc ~150-200 cycles).
    pageAllocNs: 70,
    pageFreeNs: 50,
    // rmqueue_bulk()/free_pcppages_bulk(): list manipulation per page under zone->lock.
    zoneBatchPerPageNs: 12,
    // clear_page_erms (rep stosb) ~ 16 B/cycle into L2 at ~2.5 GHz is ~40 B/ns; a fresh page
    // misses to memory on write-allocate, so ~20 B/ns is what a faulting loop sees.
    clearBytesPerNs: 20,
    // copy_page: read + write stream, about half the clear bandwidth.
    copyBytesPerNs: 10,
    // Page-table page: allocation + clear_page + ctor (pgtable_pte_page_ctor, ptlock init).
    pgtableAllocNs: 350,
    // mk_pte + set_pte_at + update_mmu_cache (a no-op on x86).
    pteSetNs: 8,
    // zap_pte_range per present PTE: get_and_clear, page_remove_rmap, rss accounting, tlb batch.
    zapPteNs: 25,
    // change_pte_range per PTE.
    changePteNs: 8,
    // page_add_new_anon_rmap + mem_cgroup charge (memcg charge ~60-100 cycles uncontended).
    anonRmapNs: 40,
    // __pagevec_lru_add_fn / release_pages per page under the lruvec lock.
    lruPerPageNs: 15,
    // kmem_cache_alloc/free of vm_area_struct + vma_link bookkeeping.
    vmaAllocNs: 150,
    // unmapped_area_topdown() per augmented-tree level.
    unmappedAreaLevelNs: 8,
    // arch/x86/mm/tlb.c: "each single flush is about 100 ns".
    tlbFlushOneNs: 100,
    // CR3 reload without PCID and refill of the working set's hot entries.
    tlbFlushAllNs: 300,
    // arch/x86/mm/tlb.c tlb_single_page_flush_ceiling = 33.
    tlbFlushCeiling: 33,
    // smp_call_function_many() with wait: send + remote entry + ack, ~1.5 us bare metal.
    ipiRoundTripNs: 1500,
    // Interrupt entry + flush_tlb_func + exit on the target.
    ipiHandlerNs: 600,
    tlbBroadcastNs: 0,
    // A store to a mapped page: TLB miss + 4-level hardware walk hitting cache, ~25 cycles.
    userAccessNs: 10,
    // clone(CLONE_VM|CLONE_THREAD...) + wake_up_new_task, ~15 us.
    cloneNs: 15000,
    // lmbench lat_ctx 2p/0K on Skylake: ~1.5 us.
    contextSwitchNs: 1500,
    // Wake-up IPI + exit from the shallowest idle state + schedule, ~3 us.
    wakeupNs: 3000,
    // try_to_wake_up() of a task on another CPU: remote rq->lock (a line transfer or two),
    // enqueue_task and the reschedule IPI write, ~1500 cycles (perf bench sched pipe -T vs
    // same-CPU pipe: ~0.5-1 us more per round trip).
    ttwuNs: 600,
    // HZ=250: a grace period needs every CPU to pass a tick or a context switch, ~2-3 jiffies.
    rcuGracePeriodNs: 10_000_000,
    hashPageNs: 0,
    hashFlushNs: 0,
  },
};

/**
 * arm64, 4 KiB granule, 48-bit VA with 4 levels (Documentation/arm64/memory.rst), THP = 2 MiB
 * PMD; TLB invalidation broadcast in hardware (TLBI ...IS + DSB ISH, no IPI), page tables freed
 * through RCU (MMU_GATHER_RCU_TABLE_FREE). Costs for a Cortex-A75-class core at ~2.5 GHz.
 */
export const arm64: ArchProfile = {
  name: 'arm64',
  profile: 'arm64',
  description: 'arm64, 4 KiB granule, 4-level page tables, broadcast TLBI',
  mmu: 'walk',
  pageShift: 12,
  levelBits: [9, 9, 9, 9],
  levelNames: ['pgd', 'pud', 'pmd', 'pte'],
  tlb: 'broadcast',
  tlbBroadcastSerialised: true,
  lineLatencies: {
    // Arm Cortex-A75 TRM / DynamIQ: L1 4 cycles; core-to-core through the shared L3 ~30-50 ns;
    // cross-cluster/cross-die ~100 ns; DRAM (LPDDR4X) ~110 ns.
    local: 2,
    smt: 8,
    socket: 45,
    remote: 100,
    memory: 110,
  },
  costs: {
    // el0 sync exception entry/exit (kernel_entry/kernel_exit + do_mem_abort dispatch), no PTI-style
    // CR3 switch but KPTI on affected cores: ~250 cycles in total.
    trapEntryNs: 70,
    trapExitNs: 50,
    syscallNs: 80,
    vmaLookupLevelNs: 7,
    pgtableLevelNs: 3,
    pageAllocNs: 80,
    pageFreeNs: 55,
    zoneBatchPerPageNs: 14,
    // DC ZVA zeroing ~16-32 B/cycle into L2; a fresh page misses to LPDDR: ~14 B/ns seen.
    clearBytesPerNs: 14,
    copyBytesPerNs: 7,
    pgtableAllocNs: 380,
    // set_pte_at + the DSB/ISB barriers arm64 needs after a valid PTE.
    pteSetNs: 15,
    zapPteNs: 28,
    changePteNs: 10,
    anonRmapNs: 45,
    lruPerPageNs: 17,
    vmaAllocNs: 170,
    unmappedAreaLevelNs: 9,
    // TLBI VALE1IS + DSB ISH: a broadcast per page; the DSB waits for every CPU (~300-500 ns).
    tlbFlushOneNs: 150,
    tlbFlushAllNs: 400,
    // arch/arm64 __flush_tlb_range: MAX_TLBI_OPS = PTRS_PER_PTE (512) before a full ASID flush.
    tlbFlushCeiling: 512,
    ipiRoundTripNs: 0,
    ipiHandlerNs: 0,
    // The completion DSB of a broadcast TLBI: the interconnect waits for every PE to acknowledge.
    tlbBroadcastNs: 350,
    userAccessNs: 12,
    cloneNs: 18000,
    contextSwitchNs: 1800,
    wakeupNs: 4000,
    // As x86: remote rq lock, enqueue, reschedule IPI (GIC SGI).
    ttwuNs: 700,
    rcuGracePeriodNs: 10_000_000,
    hashPageNs: 0,
    hashFlushNs: 0,
  },
};

/**
 * powerpc64 book3s, radix MMU (Power9 and later), 64 KiB pages; index sizes 13/9/9/5
 * (pgd/pud/pmd/pte, arch/powerpc/include/asm/book3s/64/radix-64k.h): a PTE table has 32
 * entries, a PMD maps 2 MiB. TLB invalidation by tlbie, broadcast in hardware.
 */
export const powerpcRadix: ArchProfile = {
  name: 'powerpc',
  profile: 'powerpc-radix',
  description: 'powerpc64 radix (Power9+), 64 KiB pages, 2 MiB THP, broadcast tlbie',
  mmu: 'walk',
  pageShift: 16,
  levelBits: [13, 9, 9, 5],
  levelNames: ['pgd', 'pud', 'pmd', 'pte'],
  tlb: 'broadcast',
  tlbBroadcastSerialised: true,
  lineLatencies: {
    // POWER9 user manual / published measurements: L2 ~ 9 ns, core-to-core on chip through L3
    // ~ 60-80 ns, across chips (X-bus) ~ 150-200 ns, DRAM ~ 100 ns (Centaur buffered).
    local: 2,
    smt: 6,
    socket: 80,
    remote: 190,
    memory: 110,
  },
  costs: {
    // Interrupt entry/exit (EXCEPTION_PROLOG, SRR save) ~ 300 cycles at ~3.5 GHz.
    trapEntryNs: 60,
    trapExitNs: 40,
    syscallNs: 70,
    vmaLookupLevelNs: 5,
    pgtableLevelNs: 3,
    pageAllocNs: 70,
    pageFreeNs: 50,
    zoneBatchPerPageNs: 12,
    // dcbz on 128-byte lines: 64 KiB pages at ~25 B/ns.
    clearBytesPerNs: 25,
    copyBytesPerNs: 12,
    pgtableAllocNs: 400,
    pteSetNs: 10,
    zapPteNs: 30,
    changePteNs: 10,
    anonRmapNs: 40,
    lruPerPageNs: 15,
    vmaAllocNs: 150,
    unmappedAreaLevelNs: 8,
    // tlbie + eieio; tlbsync; ptesync: ~1 us per broadcast on POWER9.
    tlbFlushOneNs: 250,
    tlbFlushAllNs: 800,
    // radix__flush_tlb_range: tlb_single_page_flush_ceiling = 33 (global).
    tlbFlushCeiling: 33,
    ipiRoundTripNs: 0,
    ipiHandlerNs: 0,
    tlbBroadcastNs: 1000,
    userAccessNs: 8,
    cloneNs: 15000,
    contextSwitchNs: 1500,
    wakeupNs: 3500,
    // As x86: remote rq lock, enqueue, reschedule IPI (doorbell / XICS).
    ttwuNs: 700,
    rcuGracePeriodNs: 10_000_000,
    hashPageNs: 0,
    hashFlushNs: 0,
  },
};

/**
 * powerpc64 book3s, hash MMU (Power8), 64 KiB pages; index sizes 8/7/10/8 (pgd/pud/pmd/pte,
 * hash-64k.h H_*_INDEX_SIZE): a PTE table has 256 entries, a PMD maps 16 MiB (THP = 16 MiB).
 * Translations live in the hashed page table, filled by hash_page() on a miss without the mmap
 * lock; unmapping must also invalidate the hash entries.
 */
export const powerpcHash: ArchProfile = {
  ...powerpcRadix,
  profile: 'powerpc-hash',
  description: 'powerpc64 hash MMU (Power8), 64 KiB pages, 16 MiB THP, hash faults, broadcast tlbie',
  mmu: 'hash',
  levelBits: [8, 7, 10, 8],
  lineLatencies: {
    // POWER8: on-chip core-to-core ~ 70-90 ns, cross-chip ~ 200-250 ns, DRAM ~ 100-120 ns.
    local: 2,
    smt: 6,
    socket: 85,
    remote: 220,
    memory: 115,
  },
  costs: {
    ...powerpcRadix.costs,
    // __hash_page_64K: find a slot in the HPT group, insert (hpte_insert), ~ 0.5 us on POWER8.
    hashPageNs: 500,
    // flush_hash_page: hpte_invalidate + tlbie per hashed page at unmap.
    hashFlushNs: 300,
  },
};

export const ARCHES: Readonly<Record<string, ArchProfile>> = {
  x86,
  arm64,
  powerpc: powerpcRadix,
  'powerpc-radix': powerpcRadix,
  'powerpc-hash': powerpcHash,
};

/** The arch names --arch takes. */
export const ARCH_NAMES = ['x86', 'powerpc', 'arm64'];

export function getArch(name: string): ArchProfile {
  const a = ARCHES[name];
  if (a === undefined) {
    throw new ConfigError(`unknown arch '${name}' (known: ${ARCH_NAMES.join(', ')})`);
  }
  return a;
}
