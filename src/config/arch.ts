import type { LineLatencies } from '../engine/topology.js';
import { ConfigError } from '../errors.js';

/**
 * Architecture profiles: page size, page-table shape, how TLBs are shot down, and the cost of
 * every kernel step the model charges. One table per arch; every number says where it comes
 * from. No workload or validation case is named here: costs are properties of the hardware and
 * of the kernel code, not of a benchmark.
 *
 * Why this file is over 500 lines: it is data, four tables of about a hundred sourced constants
 * each plus the interface that names them. Each number's source comment sits beside it, and the
 * tables are read side by side (the same key in each arch), so they stay in one file.
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
  /**
   * A paravirtual remote TLB flush (machines whose `remoteTlbFlush` is 'hypercall'): the
   * sender's one hypercall that has the hypervisor flush every vCPU of the mask, its own included
   * (pv_ops.mmu.flush_tlb_multi); no interrupt or handler of the guest runs on the targets. 0 on
   * bare metal.
   */
  readonly pvTlbFlushNs: number;
  /**
   * What that hypercall costs each target vCPU running the mm: the time the hypervisor keeps it
   * from its own work while it flushes it (charged as an interrupt's time is). 0 on bare metal.
   */
  readonly pvTlbFlushTargetNs: number;
  /**
   * What a guest's user page fault costs beyond the bare-metal fault path: the exits to the
   * hypervisor and back around the exception and, under shadow paging, the hypervisor's fill of
   * its own page table when the access is retried. Charged at the fault's entry, outside every
   * lock. 0 on bare metal.
   */
  readonly guestFaultNs: number;
  /** A user-mode store or load to a page that is mapped (TLB refill included on a first touch). */
  readonly userAccessNs: number;
  /** clone() of a thread. */
  readonly cloneNs: number;
  /** Context switch: __schedule() + switch_to(). */
  readonly contextSwitchNs: number;
  /** try_to_wake_up() until the woken task runs on an idle CPU. */
  readonly wakeupNs: number;
  /**
   * How much that latency varies from one wake-up to the next, as a fraction of wakeupNs: each
   * takes wakeupNs x (1 + s), s uniform in [-wakeupSpread, +wakeupSpread] (Engine.wake). 0: every
   * wake-up takes wakeupNs (the arch tables: no measured spread; `--machine host` measures it).
   */
  readonly wakeupSpread: number;
  /** The waker's cost of one remote try_to_wake_up() (rq lock, enqueue, reschedule IPI). */
  readonly ttwuNs: number;
  /** cpu_relax() in a busy-wait loop (x86 PAUSE, arm64 YIELD, powerpc HMT_low/HMT_medium). */
  readonly cpuRelaxNs: number;
  /**
   * A core's total throughput with k of its SMT threads busy, relative to one thread alone
   * (index k - 1); [1] for cores without SMT. Each busy thread runs at throughput(k) / k.
   */
  readonly smtThroughput: readonly number[];
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
    socket: 70,
    remote: 135,
    memory: 90,
    // Estimate, no published sibling-to-sibling figure found: SMT siblings share L1D and L2,
    // so the line does not move; the reader pays a load on a line its sibling just wrote plus
    // the memory-ordering check, ~20 cycles = 8 ns at 2.5 GHz.
    smt: 8,
  },
  costs: {
    // Exception entry/exit with PTI (CR3 switches): ~400 cycles total; the split follows the
    // entry path doing more work (pt_regs, error code, cr2 read). (PTI overhead figures from
    // the 2018 Meltdown mitigation reports: +~150-250 cycles per kernel entry.)
    trapEntryNs: 110,
    trapExitNs: 70,
    // Bare syscall round trip with PTI, ~250 cycles (lmbench lat_syscall null on Skylake).
    syscallNs: 100,
    // rb-tree / maple-tree node pointer chase hitting L2 (11-13 cycles on Skylake-SP, AnandTech's
    // Skylake-SP cache table, 2017) plus the compare: ~15 cycles = 6 ns at 2.5 GHz.
    vmaLookupLevelNs: 6,
    // Estimate: one READ_ONCE of a page-table entry hitting L1 (4-5 cycles, Optimization Manual)
    // plus the pXd_offset shift and mask, ~8 cycles = 3 ns at 2.5 GHz.
    pgtableLevelNs: 3,
    // Mel Gorman's page allocator microbenchmarks (pcp fast path alloc ~150-200 cycles).
    pageAllocNs: 70,
    pageFreeNs: 50,
    // Estimate: rmqueue_bulk()/free_pcppages_bulk() per page under zone->lock: unlink from one
    // list, link into another, flag and counter updates on hot lines, ~30 cycles = 12 ns.
    zoneBatchPerPageNs: 12,
    // clear_page_erms (rep stosb) ~ 16 B/cycle into L2 at ~2.5 GHz is ~40 B/ns; a fresh page
    // misses to memory on write-allocate, so ~20 B/ns is what a faulting loop sees.
    clearBytesPerNs: 20,
    // Derivation: half of clearBytesPerNs: copy_page streams every byte twice (a read stream and a
    // write stream) through the same memory path.
    copyBytesPerNs: 10,
    // Derivation: pageAllocNs (70) + zeroing 4 KiB at clearBytesPerNs (4096 / 20 = ~205 ns)
    // + ~75 ns estimated for the ctor (pgtable_pte_page_ctor: ptlock init, page type, counters).
    pgtableAllocNs: 350,
    // Estimate: mk_pte arithmetic and one store to a PTE line the walk left in L1, ~20 cycles =
    // 8 ns at 2.5 GHz; update_mmu_cache is a no-op on x86.
    pteSetNs: 8,
    // Estimate: zap_pte_range per present PTE, ~60 cycles: the locked xchg of
    // ptep_get_and_clear_full and page_remove_rmap's atomic _mapcount decrement (~20 cycles each,
    // an uncontended locked RMW on Skylake per Agner Fog's instruction tables), rss and tlb batch.
    zapPteNs: 25,
    // Estimate: change_pte_range per PTE: ptep_modify_prot_start's locked xchg (~20 cycles, as
    // above) and the store of the new PTE, ~20 cycles = 8 ns at 2.5 GHz.
    changePteNs: 8,
    // Estimate: page_add_new_anon_rmap (mapping, index, _mapcount: ~20 cycles) + the memcg charge
    // served from the per-CPU stock (~60-100 cycles uncontended): ~100 cycles = 40 ns at 2.5 GHz.
    anonRmapNs: 40,
    // Estimate: __pagevec_lru_add_fn / release_pages per page: list_add or list_del, the PageLRU
    // bit and the LRU size counter on hot lines, ~35-40 cycles = 15 ns at 2.5 GHz.
    lruPerPageNs: 15,
    // Estimate: kmem_cache_alloc + kmem_cache_free fast paths (~100 cycles each, a per-CPU
    // freelist cmpxchg), filling the ~200-byte vm_area_struct and vma_link (~175 cycles):
    // ~375 cycles = 150 ns at 2.5 GHz.
    vmaAllocNs: 150,
    // Derivation: unmapped_area_topdown() per augmented-tree level is the vmaLookupLevelNs pointer
    // chase (6) plus the rb_subtree_gap and gap-size tests, ~5 cycles more: 8 ns.
    unmappedAreaLevelNs: 8,
    // arch/x86/mm/tlb.c: "each single flush is about 100 ns".
    tlbFlushOneNs: 100,
    // Estimate between two published figures: a bare CR3 reload costs 96 cycles (~40 ns; Ingo
    // Molnar's 2015 measurement on LKML), and in Dave Hansen's 2014 flush_tlb_mm_range() traces
    // ("x86: mm: set TLB flush tunable to sane value", linux-mm) a full flush averaged ~1000
    // cycles (~400 ns) more than a one-page one; the rest is refilling the hot entries.
    tlbFlushAllNs: 300,
    // arch/x86/mm/tlb.c tlb_single_page_flush_ceiling = 33.
    tlbFlushCeiling: 33,
    // Estimate: smp_call_function_many() with wait: the ICR write and interrupt delivery (a few
    // hundred ns), the target's handler (ipiHandlerNs, 600), the csd line going out and the ack
    // coming back (2 x socket, ~140 ns) and the sender's setup and spin: ~1.5 us bare metal.
    ipiRoundTripNs: 1500,
    // Estimate: interrupt entry + exit as trapEntryNs + trapExitNs (180) + flush_tlb_func with one
    // invlpg (tlbFlushOneNs, 100) + the csd line transfers (~2 x 70 ns) + irq accounting and the
    // call-function dispatch (~180 ns).
    ipiHandlerNs: 600,
    // Not used by this profile: x86 shoots TLBs down with IPIs (tlb: 'ipi'), no broadcast.
    tlbBroadcastNs: 0,
    // Not a guest: no hypervisor (machines that are guests set these, src/config/machine.ts).
    pvTlbFlushNs: 0,
    pvTlbFlushTargetNs: 0,
    guestFaultNs: 0,
    // Estimate: a store to a mapped page: an STLB miss and a 4-level hardware walk whose entries
    // hit L1/L2 (the paging-structure caches skip the upper levels), ~25 cycles = 10 ns.
    userAccessNs: 10,
    // Estimate: clone(CLONE_VM|CLONE_THREAD...): copy_process() for a thread (task_struct and
    // stack allocation, shared mm/files/sighand taken by refcount, ~10 us) + wake_up_new_task and
    // the child's first run (~5 us). lmbench's lat_proc times fork, not thread creation.
    cloneNs: 15000,
    // lmbench lat_ctx 2p/0K on Skylake: ~1.5 us.
    contextSwitchNs: 1500,
    // Derivation: exit latency of the shallowest (MWAIT 0x00) idle state, 2 us (drivers/idle/intel_idle.c,
    // skx_cstates) + the wake-up IPI, idle-loop exit and schedule() of the woken task (~1 us,
    // estimate).
    wakeupNs: 3000,
    // No spread measured: every wake-up takes wakeupNs (`--machine host` measures it, hostcost.ts).
    wakeupSpread: 0,
    // try_to_wake_up() of a task on another CPU: remote rq->lock (a line transfer or two),
    // enqueue_task and the reschedule IPI write, ~1500 cycles (perf bench sched pipe -T vs
    // same-CPU pipe: ~0.5-1 us more per round trip).
    ttwuNs: 600,
    // PAUSE: up to ~140 cycles from Skylake on (Intel 64 and IA-32 Optimization Reference
    // Manual, Skylake microarchitecture: 'extended to as many as 140 cycles'), ~56 ns at 2.5 GHz.
    cpuRelaxNs: 56,
    // Hyper-Threading: Intel quotes up to 30 % more throughput from a second thread on mixed
    // code (Marr et al., Intel Technology Journal 6(1), 2002); the fault path's page clearing is
    // bound by the core's store bandwidth, which the siblings share and gain nothing from.
    // Estimate for this mix: 20 %.
    smtThroughput: [1, 1.2],
    // HZ=250: a grace period needs every CPU to pass a tick or a context switch, ~2-3 jiffies.
    rcuGracePeriodNs: 10_000_000,
    // Not used by this profile: x86 walks its page tables in hardware (mmu: 'walk'), there is no
    // hashed page table to fill or invalidate.
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
    // Not used by the presets: Cortex-A75 has no SMT and every arm64 machine has one thread per
    // core; x86's value, so that the table is complete.
    smt: 8,
    socket: 45,
    remote: 100,
    memory: 110,
  },
  costs: {
    // Estimate: el0 sync exception entry/exit (kernel_entry saving x0-x30, sp, elr, spsr; ESR/FAR
    // decode and do_mem_abort dispatch; kernel_exit; KPTI's TTBR switch on affected cores), no
    // CR3-style switch: ~300 cycles in total = 120 ns at 2.5 GHz, split as on x86.
    trapEntryNs: 70,
    trapExitNs: 50,
    // Estimate: el0_svc takes the same kernel_entry/kernel_exit minus the fault decode and
    // dispatch, ~200 cycles = 80 ns at 2.5 GHz.
    syscallNs: 80,
    // The same kernel code as x86 (see there): x86's figure x ~1.1-1.2 for the Cortex-A75's lower
    // IPC on this pointer-chasing code at the same clock (estimate, no published per-function
    // figure). pgtableLevelNs stays at 3: one L1 hit, 4 cycles on both cores.
    vmaLookupLevelNs: 7,
    pgtableLevelNs: 3,
    pageAllocNs: 80,
    pageFreeNs: 55,
    zoneBatchPerPageNs: 14,
    // Estimate: DC ZVA zeroes a 64-byte block per instruction, so the core is not the limit but
    // writing the fresh page's lines back to LPDDR4X is: taken as ~0.7x x86's 20 B/ns.
    clearBytesPerNs: 14,
    // Derivation: half of clearBytesPerNs, the same read-plus-write rule as x86.
    copyBytesPerNs: 7,
    // Derivation as x86: pageAllocNs (80) + zeroing 4 KiB at clearBytesPerNs (~290 ns) + ~10 ns;
    // that leaves less for the ctor than x86's ~75 ns, so 380 is at the low end (estimate).
    pgtableAllocNs: 380,
    // Estimate: x86's store (8 ns) plus set_pte_at()'s extra tests (the exec-page
    // __sync_icache_dcache check; the DSB ISHST + ISB in set_pte follows kernel mappings only).
    pteSetNs: 15,
    // x86's figures (see there) x ~1.1-1.25: the same kernel code on the slower core (estimate).
    zapPteNs: 28,
    changePteNs: 10,
    anonRmapNs: 45,
    lruPerPageNs: 17,
    vmaAllocNs: 170,
    unmappedAreaLevelNs: 9,
    // Estimate: per page, issuing one TLBI VALE1IS (a DVM message to every PE) from the
    // __flush_tlb_range loop, assuming back-to-back TLBIs are throttled by the interconnect; the
    // DSB ISH that waits for every PE is tlbBroadcastNs, charged once per flush, not per page.
    tlbFlushOneNs: 150,
    // Estimate: one TLBI ASIDE1IS for the whole ASID + refilling the hot entries: x86's 300 (see
    // there) x ~1.3 for the slower refill on this core.
    tlbFlushAllNs: 400,
    // arch/arm64 __flush_tlb_range: MAX_TLBI_OPS = PTRS_PER_PTE (512) before a full ASID flush.
    tlbFlushCeiling: 512,
    // Not used by this profile: TLB invalidation is broadcast in hardware (tlb: 'broadcast'), no
    // shootdown IPI is sent or handled.
    ipiRoundTripNs: 0,
    ipiHandlerNs: 0,
    // Estimate: the completion DSB ISH of a broadcast TLBI waits until every PE in the
    // inner-shareable domain has acknowledged; ~300-500 ns on a one-cluster DynamIQ part is our
    // estimate (no published figure found), and 350 sits at its low end.
    tlbBroadcastNs: 350,
    // Not a guest: no hypervisor (machines that are guests set these, src/config/machine.ts).
    pvTlbFlushNs: 0,
    pvTlbFlushTargetNs: 0,
    guestFaultNs: 0,
    // x86's figures (see there) x 1.2: the same kernel code on the slower core (estimate).
    userAccessNs: 12,
    cloneNs: 18000,
    contextSwitchNs: 1800,
    // Estimate: x86's 3 us + ~1 us: on a phone core the idle governor often picks a retention or
    // power-down state deeper than WFI, slower to leave than Skylake's shallowest idle state.
    wakeupNs: 4000,
    // No spread measured: every wake-up takes wakeupNs (`--machine host` measures it, hostcost.ts).
    wakeupSpread: 0,
    // The x86 figure (600, see there) + ~100 ns: the same remote rq lock, enqueue and reschedule
    // IPI, here a GIC SGI (an ICC_SGI1R_EL1 write), on the slower core (estimate).
    ttwuNs: 700,
    // YIELD: a hint that most cores execute like a NOP, a cycle or two (Arm Cortex-A76 Software
    // Optimization Guide lists it with the NOP class); estimate 2 ns.
    cpuRelaxNs: 2,
    // No SMT on the arm64 cores modelled (Cortex-A7x/A5x, Neoverse N1).
    smtThroughput: [1],
    // As x86: the kernel's default HZ=250 (kernel/Kconfig.hz, kept by arm64 defconfig), a grace
    // period of ~2-3 jiffies.
    rcuGracePeriodNs: 10_000_000,
    // Not used by this profile: arm64 walks its page tables in hardware (mmu: 'walk'), no hashed
    // page table.
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
    // local: an L1 hit, 3 cycles on POWER8 in AnandTech's lmbench run (2016; POWER9 taken as
    // similar), ~1 ns at 3.5 GHz, kept at x86's 2 ns (estimate).
    local: 2,
    // Not used by the presets: no radix machine has SMT. Estimate: threads of a core share L1
    // and L2, an L2 hit is 13 cycles (~4 ns at 3.5 GHz, same lmbench run) plus the store-through
    // L1's write reaching L2 first: 6 ns.
    smt: 6,
    // POWER9 user manual / published measurements: core-to-core on chip through L3 ~ 60-80 ns,
    // across chips (X-bus) ~ 150-200 ns, DRAM ~ 100 ns (Centaur buffered).
    socket: 80,
    remote: 190,
    memory: 110,
  },
  costs: {
    // Estimate: interrupt entry/exit (EXCEPTION_PROLOG, SRR0/1 save, pt_regs) ~350 cycles in
    // total = 100 ns at ~3.5 GHz, split as on x86.
    trapEntryNs: 60,
    trapExitNs: 40,
    // Estimate: sc into system_call_common skips an interrupt's fault decode (DAR/DSISR) and
    // dispatch, ~250 cycles = 70 ns at 3.5 GHz.
    syscallNs: 70,
    // Derivation: an L2 hit (13 cycles on POWER8 in AnandTech's lmbench run; POWER9 taken as
    // similar) plus the compare, ~17 cycles = 5 ns at 3.5 GHz.
    vmaLookupLevelNs: 5,
    // Estimate: one L1 hit (3 cycles, same run) plus index arithmetic; kept at x86's 3 ns.
    pgtableLevelNs: 3,
    // The same kernel code as x86, at x86's figures (see there): the higher clock is assumed to
    // offset the longer ppc64 instruction paths (estimate).
    pageAllocNs: 70,
    pageFreeNs: 50,
    zoneBatchPerPageNs: 12,
    // Estimate: dcbz establishes a zeroed 128-byte line without reading memory, so the limit is
    // writing the 64 KiB page back; ~25 B/ns, somewhat above x86's 20 (no published figure).
    clearBytesPerNs: 25,
    // Derivation: half of clearBytesPerNs (12.5, rounded down), the same rule as x86.
    copyBytesPerNs: 12,
    // Estimate: x86's 350 (see there) + ~50 ns. Radix PTE tables are 256-byte fragments of a
    // 64 KiB page (pte_fragment_alloc), so the real average is not derived here.
    pgtableAllocNs: 400,
    // Estimate: x86's PTE figures (see there) x 1.2-1.25 for ppc64's longer PTE paths
    // (pte_update() is a ldarx/stdcx. loop).
    pteSetNs: 10,
    zapPteNs: 30,
    changePteNs: 10,
    // x86's figures (see there), the same kernel code; the clock is assumed to offset the longer
    // paths (estimate).
    anonRmapNs: 40,
    lruPerPageNs: 15,
    vmaAllocNs: 150,
    unmappedAreaLevelNs: 8,
    // Estimate: per page, issuing one tlbie into the fabric from the radix__flush_tlb_range loop.
    // The closing eieio; tlbsync; ptesync, which waits for every core (~1 us), is tlbBroadcastNs,
    // charged once per flush.
    tlbFlushOneNs: 250,
    // Estimate (no published figure): a tlbie of the whole PID (RIC=2 also drops the page-walk
    // cache) + refilling the hot translations, longer than x86's 300 since the walk cache is lost.
    tlbFlushAllNs: 800,
    // radix__flush_tlb_range: tlb_single_page_flush_ceiling = 33 (global).
    tlbFlushCeiling: 33,
    // Not used by this profile: tlbie is broadcast in hardware (tlb: 'broadcast'), no IPI.
    ipiRoundTripNs: 0,
    ipiHandlerNs: 0,
    // Estimate: eieio; tlbsync; ptesync after the tlbies, tlbsync waiting until every core on the
    // SMP fabric has completed them: ~1 us on POWER9 (no published figure found).
    tlbBroadcastNs: 1000,
    // Not a guest: no hypervisor (machines that are guests set these, src/config/machine.ts).
    pvTlbFlushNs: 0,
    pvTlbFlushTargetNs: 0,
    guestFaultNs: 0,
    // Estimate: an ERAT/TLB miss whose radix walk hits the page-walk cache and L1/L2, ~28 cycles
    // = 8 ns at 3.5 GHz.
    userAccessNs: 8,
    // x86's figures (see there): the higher clock is assumed to offset the larger register state
    // (VSX) and longer paths (estimate).
    cloneNs: 15000,
    contextSwitchNs: 1500,
    // Estimate: x86's 3 us + 0.5 us to bring a thread out of the shallowest stop state (stop0)
    // by doorbell or XIVE interrupt.
    wakeupNs: 3500,
    // No spread measured: every wake-up takes wakeupNs (`--machine host` measures it, hostcost.ts).
    wakeupSpread: 0,
    // The x86 figure (600, see there) + ~100 ns: remote rq lock, enqueue and the reschedule IPI
    // (doorbell / XICS / XIVE) (estimate).
    ttwuNs: 700,
    // HMT_low(); HMT_medium(): two thread-priority nops (or 1,1,1 / or 2,2,2), a few cycles each
    // (POWER9 Processor User's Manual, SMT priority); estimate 4 ns.
    cpuRelaxNs: 4,
    // POWER8/POWER9 SMT: IBM's sizing guidance gives roughly 1.4-1.5x for SMT2, 1.7-1.8x for
    // SMT4 and about 2x for SMT8 over one thread per core; estimate, interpolated between.
    smtThroughput: [1, 1.45, 1.6, 1.75, 1.83, 1.9, 1.95, 2],
    // x86's 10 ms (estimate): ppc64_defconfig uses HZ=100, where ~2-3 jiffies would be 20-30 ms,
    // so this is on the short side for such kernels.
    rcuGracePeriodNs: 10_000_000,
    // Not used by this profile: radix walks the Linux page tables in hardware (mmu: 'walk');
    // powerpc-hash sets these.
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
    // POWER8 in AnandTech's lmbench run (2016): L1 3 cycles, L2 13 cycles, the core's own 8 MB
    // L3 region 27-28 cycles (8 ns), ~55 ns past it (AnandTech suspects the Centaur L4), DRAM
    // ~90 ns at a 384-512 MB footprint.
    // local: an L1 hit, ~1 ns at 3.5 GHz, kept at x86's 2 ns (estimate).
    local: 2,
    // Estimate: SMT8 threads share L1 and L2: an L2 hit (13 cycles, ~4 ns) plus the
    // store-through L1's write reaching L2 first: 6 ns.
    smt: 6,
    // Estimates built on those figures (no published POWER8 core-to-core latency found): an
    // on-chip transfer of a modified line crosses the on-chip fabric, above the ~55 ns figure;
    // cross-chip over the SMP links ~2.5x that; DRAM ~90 ns plus TLB misses at larger footprints.
    socket: 85,
    remote: 220,
    memory: 115,
  },
  costs: {
    // The radix costs above (POWER9-based estimates), used unchanged for POWER8.
    ...powerpcRadix.costs,
    // Estimate (no published figure): __hash_page_64K after the hash fault's entry:
    // find_linux_pte (4 levels), hash the VA, search the 8-entry HPTE group (its 128-byte line
    // likely a miss, ~115 ns), hpte_insert with the HPTE lock bit and its syncs: ~0.5 us.
    hashPageNs: 500,
    // Estimate: flush_hash_page per hashed page at unmap: find and read the HPTE slot (likely a
    // miss, ~115 ns), invalidate it and issue its tlbie (~200 ns, cf. tlbFlushOneNs 250).
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
