import { ARCHES, type ArchCosts, type ArchProfile } from './arch.js';
import { KVM_X86, MACHINES, PVM_X86, PVM_X86_MEASURED_ON, type Machine } from './machine.js';
import { DECLARED_SOURCE } from './machine-file.js';
import { HANDOFF_SHARE } from '../engine/cacheline.js';
import type { LineLatencies } from '../engine/topology.js';
import { UsageError } from '../errors.js';

/**
 * The declared constants: every number of the model that is not a documented hardware or kernel
 * figure (a manual's latency, a kernel source constant, a published measurement of that very
 * hardware), with where it lives, its value(s), its kind, and how it was estimated or on what it
 * was fitted. The constants themselves stay where they are used (the arch tables, the machine
 * presets, the engine, the mm model); this table is the one place that says which of them are
 * estimated or fitted. A comment in src/ that calls a constant an estimate, a derivation,
 * calibrated or fitted must have its row here (test/config/constants.test.ts greps for them).
 *
 * `validate --sensitivity` runs every case with each constant x0.5 and x2 (a `Perturbation`,
 * applied by prepareRun() and runWorkload() to the run they build; nothing global changes).
 */

/** The line latencies every arch profile gives (the L3 class is a machine's own). */
type ArchLineKey = Exclude<keyof LineLatencies, 'l3'>;

/** measured: taken by a measurement of ours; estimated: reasoned from related figures; fitted: chosen while watching validation cases. */
export type ConstantKind = 'measured' | 'estimated' | 'fitted';

/** What a perturbation of the constant scales in a run. */
export type ConstantTarget =
  /** A cost of the arch tables, on the listed profiles (where the machine does not override it). */
  | { readonly on: 'arch-cost'; readonly key: keyof ArchCosts; readonly profiles: readonly string[] }
  /** A default cache-line latency of the listed profiles (where the machine does not override it). */
  | { readonly on: 'arch-line'; readonly key: ArchLineKey; readonly profiles: readonly string[] }
  /** A machine's cost override: on every machine whose `costs` table is this one. */
  | { readonly on: 'machine-cost'; readonly key: keyof ArchCosts; readonly costs: Partial<ArchCosts>; readonly label: string }
  /** A machine's cache-line latency override, on the named machines. */
  | { readonly on: 'machine-line'; readonly key: keyof LineLatencies; readonly machines: readonly string[] }
  /** Every machine's storage read latency (all are estimates). */
  | { readonly on: 'machine-io' }
  /** A constant of the engine, the interpreter or the run (its own code scales it by the factor). */
  | { readonly on: 'run' };

export interface DeclaredConstant {
  /** Unique name: what `--sensitivity NAME` and a Perturbation use. */
  readonly name: string;
  /** The file it lives in, from the repository root. */
  readonly file: string;
  /** The identifier at its declaration (a table key or a const's name). */
  readonly symbol: string;
  /** Its value where it applies (an arch profile, a machine, or the constant itself). */
  readonly values: readonly { readonly where: string; readonly value: number | readonly number[] }[];
  readonly kind: ConstantKind;
  /** How it was estimated, or on what it was fitted. */
  readonly basis: string;
  readonly target: ConstantTarget;
}

/** Constant name -> factor (0.5, 2, ...). A run with none, or an empty map, is the model as shipped. */
export type Perturbation = ReadonlyMap<string, number>;

const PPC = ['powerpc-radix', 'powerpc-hash'];
const ALL = ['x86', 'arm64', ...PPC];
/** arm64 and powerpc's figures for the same kernel code: x86's, scaled for the core. */
const SCALED = 'arm64 and powerpc: x86\'s figure for the same kernel code, scaled for the core\'s IPC and clock';

function archCost(key: keyof ArchCosts, profiles: readonly string[], basis: string): DeclaredConstant {
  return {
    name: `arch.${key}`,
    file: 'src/config/arch.ts',
    symbol: key,
    values: profiles.map((p) => ({ where: p, value: ARCHES[p].costs[key] })),
    kind: 'estimated',
    basis,
    target: { on: 'arch-cost', key, profiles },
  };
}

function archLine(key: ArchLineKey, profiles: readonly string[], basis: string): DeclaredConstant {
  return {
    name: `arch.lineLatencies.${key}`,
    file: 'src/config/arch.ts',
    symbol: key,
    values: profiles.map((p) => ({ where: p, value: ARCHES[p].lineLatencies[key] })),
    kind: 'estimated',
    basis,
    target: { on: 'arch-line', key, profiles },
  };
}

function machinesWith(costs: Partial<ArchCosts>): string[] {
  return Object.values(MACHINES).filter((m) => m.costs === costs).map((m) => m.name);
}

function machineCost(label: string, costs: Partial<ArchCosts>, key: keyof ArchCosts, kind: ConstantKind, basis: string): DeclaredConstant {
  const v = costs[key];
  if (typeof v !== 'number') throw new Error(`constants: ${label} has no ${key}`);
  const users = machinesWith(costs);
  return {
    name: `${label}.${key}`,
    file: MACHINES[users[0]]?.file ?? 'src/config/machine.ts',
    symbol: key,
    values: users.map((where) => ({ where, value: v })),
    kind,
    basis,
    target: { on: 'machine-cost', key, costs, label },
  };
}

function literal(name: string, file: string, value: number, kind: ConstantKind, basis: string, target: ConstantTarget): DeclaredConstant {
  return { name, file, symbol: name, values: [{ where: name, value }], kind, basis, target };
}

export const CONSTANTS: readonly DeclaredConstant[] = [
  // The two fitted constants.
  {
    name: 'HANDOFF_SHARE',
    file: 'src/engine/cacheline.ts',
    symbol: 'HANDOFF_SHARE',
    values: [{ where: 'every topology', value: HANDOFF_SHARE }],
    kind: 'fitted',
    basis: 'fitted on C1-C6: the share of a line transfer during which the line is busy for the next queued requester (the data leg of a hand-off); consistent with contended atomics exceeding 1/round-trip on multi-socket Xeons (David et al., SOSP 2013)',
    target: { on: 'run' },
  },
  machineCost('KVM_X86', KVM_X86, 'ttwuNs', 'fitted', 'fitted on C1-C6 within the 1-2 us of a VM exit and re-entry on 2015-2018 hosts (the reschedule IPI\'s ICR write exits)'),
  // Machine presets.
  machineCost('KVM_X86', KVM_X86, 'ipiRoundTripNs', 'estimated', 'a shootdown IPI in a guest without IPI virtualisation: VM exits at both ends (~1.5-2 us each, "KVM: x86: PV send IPI", 2018) around the bare-metal round trip'),
  machineCost('KVM_X86', KVM_X86, 'ipiHandlerNs', 'estimated', 'the bare-metal handler (600 ns) plus two VM exits on the target (~1 us each): interrupt injection and the x2APIC EOI write'),
  machineCost('KVM_X86', KVM_X86, 'wakeupNs', 'estimated', 'a halted vCPU is a host thread to wake: ~10 us more than a bare-metal idle exit'),
  // Measured on the PVM guest spfperf is developed on (twins/hostcost.c; docs/calibrate.md).
  machineCost('PVM_X86', PVM_X86, 'syscallNs', 'measured', `a null syscall (getppid; 1004-1230 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('PVM_X86', PVM_X86, 'guestFaultNs', 'measured', `a first-touch write fault (each timed alone) less what the model charges for the same fault without it (9700-13578 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('PVM_X86', PVM_X86, 'tlbFlushOneNs', 'measured', `munmap of a written page less of an untouched one (1 thread, the other vCPU idle), less the model's same difference without the flush (4612-6567 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('PVM_X86', PVM_X86, 'pvTlbFlushNs', 'measured', `the same with a second thread of the process running on the other vCPU (PVM_HC_FLUSH_TLB_MULTI), less the model's difference without any flush (21725-26474 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('PVM_X86', PVM_X86, 'pvTlbFlushTargetNs', 'measured', 'meanwhile, the loop time the second thread (spinning in user mode) lost per flush that reached it (the medians of 3 runs of 8 samples: 10042-12310 ns, on the same guest on 2026-12-06 22:19, the second thread on its CPU through 96-99 % of the munmaps)'),
  machineCost('PVM_X86', PVM_X86, 'wakeupNs', 'measured', `half a futex wake-up round trip between two pinned threads less a syscall (7264-10338 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('PVM_X86', PVM_X86, 'ttwuNs', 'measured', `the waker's time in FUTEX_WAKE less a syscall (3465-5585 ns over the 8), on ${PVM_X86_MEASURED_ON}`),
  machineCost('x86-2s8c', MACHINES['x86-2s8c'].costs!, 'trapEntryNs', 'estimated', 'Nehalem, no PTI: the x86 profile\'s trap figures less the CR3 switches (~150-250 cycles per entry)'),
  machineCost('x86-2s8c', MACHINES['x86-2s8c'].costs!, 'trapExitNs', 'estimated', 'as trapEntryNs: the x86 profile\'s figure less the CR3 switch'),
  machineCost('x86-2s8c', MACHINES['x86-2s8c'].costs!, 'syscallNs', 'estimated', 'a pre-PTI null syscall, ~150 cycles'),
  machineCost('arm64-vm', MACHINES['arm64-vm'].costs!, 'wakeupNs', 'estimated', 'arm64\'s bare-metal 4 us + ~8 us for the host to wake the vCPU thread'),
  {
    name: 'skl-4s192.lineLatencies.remote',
    file: 'machines/skl-4s192.json',
    symbol: 'remote',
    values: [{ where: 'skl-4s192', value: MACHINES['skl-4s192'].lineLatencies!.remote! }],
    kind: 'estimated',
    basis: '4-socket UPI, every socket one hop: the top of the 2-socket ~130-140 ns',
    target: { on: 'machine-line', key: 'remote', machines: ['skl-4s192'] },
  },
  {
    name: 'machine.ioLatencyNs',
    file: 'src/config/machine.ts',
    symbol: 'ioLatencyNs',
    values: [...Object.values(MACHINES).map((m) => ({ where: m.name, value: m.ioLatencyNs })), { where: 'generic', value: 100_000 }],
    kind: 'estimated',
    basis: 'a 4 KiB read at queue depth 1 from the machine\'s storage class (SATA SSD ~90 us from the DC S3700 spec + the block path; virtio +10 us; a 2009 disk ~5 ms; UFS 2.1 ~150 us; a data-centre NVMe SSD ~80 us from the DC P4510\'s 77 us typical)',
    target: { on: 'machine-io' },
  },
  // Arch profiles: cache lines.
  archLine('local', PPC, 'an L1 hit is ~1 ns at 3.5 GHz (3 cycles on POWER8); kept at x86\'s 2 ns'),
  archLine('smt', ['x86', ...PPC], 'no published sibling-to-sibling figure: siblings share L1/L2, so a load of a line the sibling wrote plus ordering (x86 ~20 cycles); powerpc an L2 hit plus the store-through L1'),
  archLine('socket', ['powerpc-hash'], 'no published POWER8 core-to-core figure: above the ~55 ns past the core\'s L3 region in AnandTech\'s lmbench run'),
  archLine('remote', ['powerpc-hash'], 'POWER8 cross-chip: ~2.5x the on-chip transfer'),
  archLine('memory', ['powerpc-hash'], 'POWER8 DRAM ~90 ns (AnandTech) plus TLB misses at larger footprints'),
  // Arch profiles: costs.
  archCost('trapEntryNs', ['arm64', ...PPC], 'exception entry cycles counted from the entry code (arm64 kernel_entry ~300 cycles in all, powerpc ~350), split as on x86'),
  archCost('trapExitNs', ['arm64', ...PPC], 'the exit share of the trap path\'s cycles (see trapEntryNs), split as on x86'),
  archCost('syscallNs', ['arm64', ...PPC], 'the trap path less the fault decode and dispatch (~200-250 cycles)'),
  archCost('vmaLookupLevelNs', ['arm64', ...PPC], 'arm64: x86\'s L2 pointer chase x1.1-1.2; powerpc: an L2 hit (13 cycles on POWER8) plus the compare'),
  archCost('pgtableLevelNs', ALL, 'one READ_ONCE hitting L1 plus the index shift and mask, ~8 cycles'),
  archCost('pageAllocNs', ['arm64', ...PPC], `${SCALED} (x86: Gorman's pcp microbenchmarks)`),
  archCost('pageFreeNs', ['arm64', ...PPC], `${SCALED} (x86: Gorman's pcp microbenchmarks)`),
  archCost('zoneBatchPerPageNs', ALL, 'x86: unlink and link one page under zone->lock, ~30 cycles; ' + SCALED),
  archCost('clearBytesPerNs', ALL, 'x86: rep stosb ~16 B/cycle into L2, halved for write-allocate misses on a fresh page; arm64 0.7x (DC ZVA, LPDDR4X write-back); powerpc dcbz ~25 B/ns'),
  archCost('copyBytesPerNs', ALL, 'half of clearBytesPerNs: every byte is read and written through the same memory path'),
  archCost('pgtableAllocNs', ALL, 'pageAllocNs + zeroing a page at clearBytesPerNs + ~75 ns for the ctor'),
  archCost('pteSetNs', ALL, 'mk_pte and one store to a PTE line in L1, ~20 cycles; arm64 adds set_pte_at()\'s tests; powerpc\'s pte_update() loop'),
  archCost('zapPteNs', ALL, 'x86: the locked xchg and the _mapcount decrement (~20 cycles each, Agner Fog) plus rss and batch, ~60 cycles; ' + SCALED),
  archCost('changePteNs', ALL, 'x86: ptep_modify_prot_start\'s locked xchg and the store, ~20 cycles; ' + SCALED),
  archCost('anonRmapNs', ALL, 'x86: page_add_new_anon_rmap (~20 cycles) + the memcg charge from the per-CPU stock (~60-100); ' + SCALED),
  archCost('lruPerPageNs', ALL, 'x86: a list_add/list_del, the PageLRU bit and the LRU counter, ~35-40 cycles; ' + SCALED),
  archCost('vmaAllocNs', ALL, 'x86: kmem_cache_alloc + free fast paths (~100 cycles each), filling the vm_area_struct and vma_link, ~375 cycles; ' + SCALED),
  archCost('unmappedAreaLevelNs', ALL, 'vmaLookupLevelNs plus the gap tests, ~5 cycles more'),
  archCost('tlbFlushOneNs', ['arm64', ...PPC], 'one broadcast TLBI VALE1IS / tlbie issued per page, throttled by the interconnect (no published figure)'),
  archCost('tlbFlushAllNs', ALL, 'x86: between a bare CR3 reload (96 cycles, Molnar 2015) and Hansen\'s 2014 full-flush traces (~1000 cycles more); arm64 x1.3; powerpc loses the page-walk cache too'),
  archCost('ipiRoundTripNs', ['x86'], 'smp_call_function_many() with wait: ICR write and delivery, the handler, the csd line out and back, the sender\'s spin: ~1.5 us bare metal'),
  archCost('ipiHandlerNs', ['x86'], 'interrupt entry + exit, one invlpg, the csd line transfers and the dispatch'),
  archCost('tlbBroadcastNs', ['arm64', ...PPC], 'the completion barrier of a broadcast invalidation (DSB ISH; eieio; tlbsync; ptesync) waiting for every core: ~300-500 ns on one DynamIQ cluster, ~1 us on POWER9 (no published figure)'),
  archCost('userAccessNs', ALL, 'an STLB miss whose hardware walk hits the paging-structure caches and L1/L2, ~25 cycles'),
  archCost('cloneNs', ALL, 'copy_process() for a thread (~10 us) + its first run (~5 us); lmbench times fork, not threads'),
  archCost('contextSwitchNs', ['arm64', ...PPC], `${SCALED} (x86: lmbench lat_ctx)`),
  archCost('wakeupNs', ALL, 'x86: the shallowest idle state\'s exit latency (2 us, intel_idle) + ~1 us for the IPI and schedule(); arm64 +1 us for deeper idle states; powerpc +0.5 us for stop0'),
  archCost('ttwuNs', ['arm64', ...PPC], 'x86\'s 600 ns (perf bench sched pipe) + ~100 ns on the slower core'),
  archCost('cpuRelaxNs', ['arm64', ...PPC], 'YIELD executes like a NOP (Cortex-A76 optimization guide); HMT_low/HMT_medium a few cycles each'),
  archCost('smtThroughput', ['x86', ...PPC], 'x86: up to 30 % from a second thread on mixed code (Marr et al. 2002), less for store-bound page clearing: 20 %; POWER8: interpolated from IBM\'s sizing guidance (SMT2 1.4-1.5x, SMT4 1.7-1.8x, SMT8 ~2x). Perturbed on the gain over one thread'),
  archCost('rcuGracePeriodNs', PPC, 'x86\'s HZ=250 figure (~2-3 jiffies); short for HZ=100 ppc64 kernels'),
  archCost('hashPageNs', ['powerpc-hash'], 'no published figure: find_linux_pte, hash the VA, search the HPTE group (a likely miss), insert under the HPTE lock bit: ~0.5 us'),
  archCost('hashFlushNs', ['powerpc-hash'], 'flush_hash_page: read the HPTE slot (a likely miss) and its tlbie'),
  // The engine.
  literal('RWSEM_SPINLOCK_CS_NS', 'src/engine/rwsem-spinlock.ts', 10, 'estimated', 'the CPU work inside lib/rwsem-spinlock.c\'s wait_lock besides the line accesses: local_irq_save/restore (pushf; cli ... popf, ~20 cycles on a 2009 Xeon), list_empty and the count, ~25 cycles', { on: 'run' }),
  // The mm model and the designs.
  literal('DIRTY_RATELIMIT_NS', 'src/mm/estimates.ts', 20, 'estimated', 'balance_dirty_pages_ratelimited() fast path: a this_cpu_inc and two loads, ~50 cycles', { on: 'run' }),
  literal('BALANCE_DIRTY_NS', 'src/mm/estimates.ts', 800, 'estimated', 'balance_dirty_pages()\'s threshold computation, a few hundred instructions and some misses, ~2000 cycles', { on: 'run' }),
  literal('SRCU_READ_NS', 'src/mm/estimates.ts', 5, 'estimated', 'srcu_read_lock/unlock: a per-CPU increment and smp_mb, ~10 cycles', { on: 'run' }),
  literal('VMA_COPY_NS', 'src/mm/estimates.ts', 15, 'estimated', 'copying the ~200-byte vm_area_struct in cache at ~32 bytes per cycle, ~40 cycles', { on: 'run' }),
  literal('CALL_RCU_NS', 'src/mm/estimates.ts', 40, 'estimated', 'call_rcu(): queue a callback on this CPU\'s list, ~100 cycles', { on: 'run' }),
  literal('IPI_DELIVERY_SHARE', 'src/mm/estimates.ts', 0.5, 'estimated', 'when a shootdown IPI lands, as a share of the round trip less the handler: the request\'s leg and the ack\'s taken as equal (no measurement splits them)', { on: 'run' }),
  literal('FREE_VMA_NS', 'src/mm/estimates.ts', 100, 'estimated', '__free_vma(): a slab free (~50-100 cycles, Gorman\'s SLUB microbenchmarks) plus two puts, ~250 cycles', { on: 'run' }),
  // The simulator.
  literal('JITTER', 'src/sim/run.ts', 0.02, 'estimated', 'the run-to-run spread of perf stat -r on page-fault microbenchmarks on an idle machine (+-2 %)', { on: 'run' }),
  literal('USER_QUANTUM_NS', 'src/sim/interp-state.ts', 2000, 'estimated', 'a simulator step, not a kernel figure: small against the 3 ms timeslice, large against one user access', { on: 'run' }),
  literal('DEFAULT_WRITEBACK_BYTES_PER_NS', 'src/sim/run.ts', 0.5, 'estimated', 'a SATA SSD\'s sequential write, ~500 MB/s, for machines whose storage is not described', { on: 'run' }),
];

/** A machine file's path of a number -> the Machine field a row's symbol names, where they differ. */
const FIELD_OF: Readonly<Record<string, string>> = { 'storage.readLatencyNs': 'ioLatencyNs', 'storage.writeBytesPerNs': 'writebackBytesPerNs', 'memory.sizeGiB': 'memoryBytes' };

const KIND_OF: Readonly<Record<string, ConstantKind>> = { estimate: 'estimated', derivation: 'estimated', fitted: 'fitted', measured: 'measured' };

/**
 * The rows of the shipped machine files' declared numbers (a source that begins with "estimate",
 * "derivation", "fitted" or "measured": src/config/machine-file.ts) that no row above covers (the
 * same symbol, machine and value): a cache-line latency or a cost of that machine alone, named
 * `MACHINE.PATH` (`rome-2s256.lineLatencies.l3`), its basis the file's source. Other declared
 * numbers must have a row above (test/config/constants.test.ts).
 */
export function machineFileConstants(above: readonly DeclaredConstant[]): DeclaredConstant[] {
  const rows: DeclaredConstant[] = [];
  for (const m of Object.values(MACHINES)) {
    for (const [path, source] of Object.entries(m.sources ?? {})) {
      const word = DECLARED_SOURCE.exec(source)?.[1]?.toLowerCase();
      if (word === undefined) continue;
      const [group, key] = path.split('.') as [string, string];
      const symbol = FIELD_OF[path] ?? key;
      const value = group === 'lineLatencies' ? m.lineLatencies?.[key as keyof LineLatencies] : group === 'costs' ? m.costs?.[key as keyof ArchCosts] : undefined;
      const same = (v: number | readonly number[]): boolean => JSON.stringify(v) === JSON.stringify(value);
      if (above.some((c) => c.symbol === symbol && c.values.some((v) => v.where === m.name && same(v.value)))) continue;
      if (value === undefined || m.file === undefined) continue;
      const target: ConstantTarget =
        group === 'lineLatencies'
          ? { on: 'machine-line', key: key as keyof LineLatencies, machines: [m.name] }
          : { on: 'machine-cost', key: key as keyof ArchCosts, costs: m.costs!, label: m.name };
      const basis = source.replace(DECLARED_SOURCE, '').replace(/^[:,]?\s*/, '');
      rows.push({ name: `${m.name}.${path}`, file: m.file, symbol, values: [{ where: m.name, value }], kind: KIND_OF[word]!, basis, target });
    }
  }
  return rows;
}

/** Every declared constant: the table above and the machine files' own. */
export const ALL_CONSTANTS: readonly DeclaredConstant[] = [...CONSTANTS, ...machineFileConstants(CONSTANTS)];

const BY_NAME = new Map(ALL_CONSTANTS.map((c) => [c.name, c]));

/** The declared constant of that name, or undefined. */
export function constantNamed(name: string): DeclaredConstant | undefined {
  return BY_NAME.get(name);
}

/** A Perturbation from `NAME=factor` pairs; an unknown name or a bad factor is a UsageError. */
export function perturbation(entries: Iterable<readonly [string, number]>): Perturbation {
  const m = new Map<string, number>();
  for (const [name, f] of entries) {
    const c = BY_NAME.get(name);
    if (c === undefined) throw new UsageError(`unknown constant '${name}' (see src/config/constants.ts)`);
    if (!(f > 0) || !Number.isFinite(f)) throw new UsageError(`constant '${name}': factor ${f} is not a positive number`);
    m.set(name, f);
  }
  return m;
}

/** The factor a run applies to the named constant: 1 unless the perturbation names it. */
export function factorOf(p: Perturbation | undefined, name: string): number {
  return p?.get(name) ?? 1;
}

function scaled(v: number | readonly number[], f: number): number | readonly number[] {
  // An SMT throughput table is scaled on its gain over one thread (x0.5 of [1, 1.2] is [1, 1.1]).
  return typeof v === 'number' ? v * f : v.map((x, i) => (i === 0 ? x : 1 + (x - 1) * f));
}

/**
 * The machine a perturbed run uses (the same object when nothing of it is perturbed): its
 * cost overrides, line latencies and storage latency scaled as the perturbation says.
 */
export function perturbMachine(m: Machine, p: Perturbation | undefined): Machine {
  if (p === undefined || p.size === 0) return m;
  let costs: Record<string, number | readonly number[]> | undefined;
  let lines: Partial<LineLatencies> | undefined;
  let io = m.ioLatencyNs;
  for (const [name, f] of p) {
    const t = BY_NAME.get(name)?.target;
    if (t === undefined) continue;
    if (t.on === 'machine-cost' && m.costs === t.costs) {
      costs ??= { ...m.costs };
      costs[t.key] = scaled(m.costs[t.key]!, f);
    } else if (t.on === 'machine-line' && t.machines.includes(m.name) && m.lineLatencies?.[t.key] !== undefined) {
      lines ??= { ...m.lineLatencies };
      lines = { ...lines, [t.key]: m.lineLatencies[t.key]! * f };
    } else if (t.on === 'machine-io') io = m.ioLatencyNs * f;
  }
  if (costs === undefined && lines === undefined && io === m.ioLatencyNs) return m;
  return { ...m, ...(costs ? { costs: costs as Partial<ArchCosts> } : {}), ...(lines ? { lineLatencies: lines } : {}), ioLatencyNs: io };
}

/**
 * The arch profile a perturbed run uses: `base` (the machine's profile, before the machine's own
 * overrides are merged) with the perturbed arch constants scaled, where `m` does not override them.
 */
export function perturbArch(base: ArchProfile, m: Machine, p: Perturbation | undefined): ArchProfile {
  if (p === undefined || p.size === 0) return base;
  let costs: Record<string, number | readonly number[]> | undefined;
  let lines: LineLatencies | undefined;
  for (const [name, f] of p) {
    const t = BY_NAME.get(name)?.target;
    if (t === undefined) continue;
    if (t.on === 'arch-cost' && t.profiles.includes(base.profile) && m.costs?.[t.key] === undefined) {
      costs ??= { ...base.costs };
      costs[t.key] = scaled(base.costs[t.key], f);
    } else if (t.on === 'arch-line' && t.profiles.includes(base.profile) && m.lineLatencies?.[t.key] === undefined) {
      lines = { ...(lines ?? base.lineLatencies), [t.key]: base.lineLatencies[t.key] * f };
    }
  }
  if (costs === undefined && lines === undefined) return base;
  return { ...base, ...(costs ? { costs: costs as unknown as ArchCosts } : {}), ...(lines ? { lineLatencies: lines } : {}) };
}
