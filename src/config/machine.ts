import type { TopologySpec, LineLatencies } from '../engine/topology.js';
import type { ArchCosts } from './arch.js';
import { ConfigError } from '../errors.js';
import { readHost, withMeasuredCosts, type HostInfo, type HostPresets, type MeasuredCosts } from './host.js';

/**
 * Machine presets (`--machine NAME`): topology, memory, arch profile, and what differs from the
 * arch's defaults on that machine (its cache-line latencies; the costs virtualisation adds).
 */
export interface Machine {
  readonly name: string;
  readonly description: string;
  /** The --arch name (x86, powerpc, arm64). */
  readonly arch: string;
  /** The arch profile to use (powerpc machines choose radix or hash). */
  readonly profile: string;
  /**
   * A virtual machine: IPIs and wake-ups exit to the host (its `costs` say how much). A property of
   * the machine, not of the arch: guest and bare-metal variants are separate presets.
   */
  readonly guest: boolean;
  readonly topology: TopologySpec;
  readonly memoryBytes: number;
  /** Overrides of the arch's default cache-line latencies, where the machine is known to differ. */
  readonly lineLatencies?: Partial<LineLatencies>;
  /** Overrides of arch costs that the machine changes (a hypervisor's exits, a slower core). */
  readonly costs?: Partial<ArchCosts>;
  /**
   * How the kernel sends a remote TLB flush when the machine does not do it the arch's way.
   * 'hypercall': a paravirtual guest whose pv_ops.mmu.flush_tlb_multi is one hypercall (a PVM
   * guest's PVM_HC_FLUSH_TLB_MULTI): the sender pays `pvTlbFlushNs`, the hypervisor flushes the
   * other vCPUs, and no IPI or handler runs on them. Absent: the arch's model (x86: IPIs).
   */
  readonly remoteTlbFlush?: 'hypercall';
  /** Latency of a read from the machine's storage (a major fault's I/O), in ns. */
  readonly ioLatencyNs: number;
  /** Sequential write bandwidth of the storage, bytes per ns (= GB/s); default 0.5. */
  readonly writebackBytesPerNs?: number;
}

const GiB = 1024 ** 3;

/**
 * A KVM guest: sending an IPI is a VM exit (the x2APIC ICR write traps; ~1.5-2 us on 2015-2018
 * hosts without IPI virtualisation, "KVM: x86: PV send IPI" series 2018), and a halted vCPU is a
 * host thread that must be woken (~10 us more than a bare-metal idle exit).
 */
export const KVM_X86: Partial<ArchCosts> = {
  ipiRoundTripNs: 6000,
  // Estimate: the bare-metal handler (600 ns, arch.ts) plus two VM exits on the target at about
  // 1 us each (the low end of the 1-2 us above): getting the interrupt into a running vCPU
  // without posted interrupts, and the x2APIC EOI write.
  ipiHandlerNs: 2500,
  wakeupNs: 12000,
  // The reschedule IPI of a remote wake-up is an ICR write that exits to the host: a VM exit
  // and re-entry, ~1-2 us on 2015-2018 hosts; 1.2 us, fitted on C1-C6 (src/config/constants.ts),
  // within that range.
  ttwuNs: 1200,
};

/**
 * An arm64 KVM guest: a halted vCPU is a host thread to wake; TLBI broadcasts need no exit.
 * wakeupNs: estimate, arm64's bare-metal 4 us + ~8 us for the host to wake the vCPU thread
 * (KVM_X86 takes ~9-10 us for the same).
 */
export const KVM_ARM64: Partial<ArchCosts> = { wakeupNs: 12000 };

/**
 * A PVM guest (x86), its costs measured on the 2-vCPU PVM guest spfperf is developed on
 * (PVM_X86_MEASURED_ON): the medians of twins/hostcost.c's microbenchmarks, mapped onto these
 * fields as host-costs-map.ts says; src/config/constants.ts declares each. Under PVM the guest
 * kernel runs in the hardware's user mode, so every syscall, fault, page-table switch and TLB
 * flush goes through the hypervisor: a null syscall costs ten times bare metal's, and a
 * first-touch fault about 10 us more than the model's bare-metal path. The other costs (IPIs,
 * which this guest does not use for TLB flushes) are KVM_X86's.
 */
export const PVM_X86: Partial<ArchCosts> = {
  ...KVM_X86,
  syscallNs: 1123,
  guestFaultNs: 9940,
  // One page's local flush (PVM_HC_TLB_INVLPG) with the other vCPU idle.
  tlbFlushOneNs: 4798,
  // PVM_HC_FLUSH_TLB_MULTI with the other vCPU running the same mm: the whole flush.
  pvTlbFlushNs: 23825,
  // Meanwhile the other vCPU, running the mm, is held up by the hypervisor for about half of it.
  pvTlbFlushTargetNs: 11400,
  wakeupNs: 9557,
  ttwuNs: 4881,
};

/** Where and when PVM_X86 was measured. */
export const PVM_X86_MEASURED_ON =
  'the 2-vCPU PVM guest spfperf is developed on (AMD EPYC, Linux 6.18.44-fc-v1272), the median of 8 measurements on 2026-12-06 21:42-21:52 while anything else took 2-5 % of the CPUs\' time';

export const MACHINES: Readonly<Record<string, Machine>> = {
  'x86-vm16': {
    name: 'x86-vm16',
    description: '16-vCPU x86-64 KVM guest, one virtual socket, 32 GiB, virtio disk',
    arch: 'x86',
    profile: 'x86',
    guest: true,
    topology: { sockets: 1, coresPerSocket: 16, threadsPerCore: 1 },
    memoryBytes: 32 * GiB,
    costs: KVM_X86,
    // Estimate: virtio-blk on a host SSD: the bare-metal SSD read (90 us, see e5-2690v3) + ~10 us
    // for the virtio kick's VM exit, the host I/O thread and the completion interrupt injection.
    ioLatencyNs: 100_000,
  },
  'x86-pvm2': {
    name: 'x86-pvm2',
    description: '2-vCPU x86-64 PVM guest (AMD EPYC, 24 GiB), the machine spfperf is developed on: remote TLB flush by hypercall, costs measured there',
    arch: 'x86',
    profile: 'x86',
    guest: true,
    topology: { sockets: 1, coresPerSocket: 2, threadsPerCore: 1 },
    memoryBytes: 24 * GiB,
    costs: PVM_X86,
    remoteTlbFlush: 'hypercall',
    // As x86-vm16: a virtio disk (not measured).
    ioLatencyNs: 100_000,
  },
  'x86-16': {
    name: 'x86-16',
    description: 'x86-vm16 on bare metal: 16 x86-64 cores, one socket, no SMT, 32 GiB, SATA SSD',
    arch: 'x86',
    profile: 'x86',
    guest: false,
    topology: { sockets: 1, coresPerSocket: 16, threadsPerCore: 1 },
    memoryBytes: 32 * GiB,
    // As e5-2690v3: a SATA SSD 4 KiB read, ~90 us (estimate).
    ioLatencyNs: 90_000,
  },
  'x86-2s8c': {
    name: 'x86-2s8c',
    description: '2009 two-socket Xeon (Nehalem-EP class), 2 x 4 cores, 24 GiB',
    arch: 'x86',
    profile: 'x86',
    guest: false,
    topology: { sockets: 2, coresPerSocket: 4, threadsPerCore: 1 },
    memoryBytes: 24 * GiB,
    // Nehalem-EP: ~ 2.9 GHz, no PTI; cross-socket QPI ~ 110 ns, on-die ~ 40 ns (Molka et al. 2009).
    // memory: local DRAM ~65 ns, from the same paper's measurements.
    lineLatencies: { socket: 40, remote: 110, memory: 65 },
    // Estimate: the x86 profile's PTI figures less the CR3 switches (~150-250 cycles per kernel
    // entry, arch.ts): trap 110 + 70 -> ~100 ns; a pre-PTI null syscall ~150 cycles, ~50 ns.
    costs: { trapEntryNs: 60, trapExitNs: 40, syscallNs: 50 },
    // Estimate: a 2009 hard disk: half a rotation alone is 4.2 ms at 7200 rpm (2 ms at 15k rpm),
    // plus the seek; 5 ms assumes short seeks or a fast SAS drive.
    ioLatencyNs: 5_000_000,
  },
  'e5-2690v3': {
    name: 'e5-2690v3',
    description: 'HP Z840, 2 x Xeon E5-2690 v3 (Haswell-EP), 2 x 12 cores x 2 threads, 128 GiB',
    arch: 'x86',
    profile: 'x86',
    guest: false,
    topology: { sockets: 2, coresPerSocket: 12, threadsPerCore: 2, siblingsLast: true },
    memoryBytes: 128 * GiB,
    // Haswell-EP ring: on-die transfer ~ 60 ns, QPI ~ 120 ns, local DRAM ~ 85 ns (Intel MLC).
    lineLatencies: { socket: 60, remote: 120, memory: 85 },
    // Estimate: a SATA data-centre SSD's 4 KiB read at queue depth 1: the Intel SSD DC S3700
    // product specification gives 50 us typical read latency; the random read and the
    // AHCI/block path add ~40 us.
    ioLatencyNs: 90_000,
  },
  'skl-4s192': {
    name: 'skl-4s192',
    description: 'LKP lkp-skl-4sp1: 4 x Xeon Platinum 8160 (Skylake-SP), 4 x 24 cores x 2 threads, 768 GiB',
    arch: 'x86',
    profile: 'x86',
    guest: false,
    topology: { sockets: 4, coresPerSocket: 24, threadsPerCore: 2, siblingsLast: true },
    memoryBytes: 768 * GiB,
    lineLatencies: {
      // The x86 profile's Skylake-SP figures (mesh ~70 ns, local DRAM ~90 ns by Intel MLC, see arch.ts).
      socket: 70,
      memory: 90,
      // 4-socket UPI, every socket one hop away; estimate at the top of the 2-socket ~130-140 ns,
      // as a 4-socket snoop is not faster.
      remote: 140,
    },
    // As e5-2690v3: a SATA SSD 4 KiB read, ~90 us (estimate).
    ioLatencyNs: 90_000,
  },
  'p8-80': {
    name: 'p8-80',
    description: 'POWER8, 2 chips x 5 cores x SMT8 = 80 CPUs, hash MMU, 64 GiB',
    arch: 'powerpc',
    profile: 'powerpc-hash',
    guest: false,
    topology: { sockets: 2, coresPerSocket: 5, threadsPerCore: 8 },
    memoryBytes: 64 * GiB,
    // As e5-2690v3: a SATA SSD 4 KiB read, ~90 us (estimate).
    ioLatencyNs: 90_000,
  },
  'p8-176': {
    name: 'p8-176',
    description: 'POWER8 SMT8, 2 chips x 11 cores x 8 threads = 176 CPUs, hash MMU, 256 GiB',
    arch: 'powerpc',
    profile: 'powerpc-hash',
    guest: false,
    topology: { sockets: 2, coresPerSocket: 11, threadsPerCore: 8 },
    memoryBytes: 256 * GiB,
    // As e5-2690v3: a SATA SSD 4 KiB read, ~90 us (estimate).
    ioLatencyNs: 90_000,
  },
  msm845: {
    name: 'msm845',
    description: 'Snapdragon 845 phone (arm64), 8 cores (4 big + 4 little, one DynamIQ cluster), 6 GiB, UFS',
    arch: 'arm64',
    profile: 'arm64',
    guest: false,
    topology: { sockets: 1, coresPerSocket: 8, threadsPerCore: 1 },
    memoryBytes: 6 * GiB,
    // Estimate: a UFS 2.1 random 4 KiB read at queue depth 1. Vendors rate UFS 2.1 at ~40k
    // random-read IOPS at deep queues (~25 us per I/O amortised); a lone read pays the NAND read,
    // the FTL lookup and the UFS/SCSI stack in full, several times that: ~150 us.
    ioLatencyNs: 150_000,
  },
  'arm64-vm': {
    name: 'arm64-vm',
    description: 'small aarch64 KVM guest, 4 vCPUs, 8 GiB',
    arch: 'arm64',
    profile: 'arm64',
    guest: true,
    topology: { sockets: 1, coresPerSocket: 4, threadsPerCore: 1 },
    memoryBytes: 8 * GiB,
    costs: KVM_ARM64,
    // As x86-vm16: a virtio disk on a host SSD, ~100 us (estimate).
    ioLatencyNs: 100_000,
  },
};

/** The machine used for an arch when no --machine is given. */
export function genericMachine(arch: string, profile: string, ncpus: number): Machine {
  return {
    name: `${arch}-generic`,
    description: `${ncpus}-CPU ${arch} machine, bare metal, one socket, no SMT`,
    arch,
    profile,
    guest: false,
    topology: { sockets: 1, coresPerSocket: ncpus, threadsPerCore: 1 },
    memoryBytes: Math.max(16, 2 * ncpus) * GiB,
    // Default storage: a SATA SSD 4 KiB read (~90 us, see e5-2690v3) rounded to 100 us (estimate).
    ioLatencyNs: 100_000,
  };
}

/**
 * What `--machine host` borrows from the presets: a guest's costs are those of the KVM guest
 * presets (x86-vm16, arm64-vm); its storage, not probed, is x86-vm16's virtio disk for a guest
 * and e5-2690v3's SATA SSD for bare metal (their numbers are declared with those presets).
 */
export const HOST_PRESETS: HostPresets = {
  guestCosts: { x86: { label: "x86-vm16's (KVM_X86)", costs: KVM_X86 }, arm64: { label: "arm64-vm's (KVM_ARM64)", costs: KVM_ARM64 } },
  pvmCosts: { label: "x86-pvm2's (PVM_X86, measured on the PVM guest spfperf is developed on)", costs: PVM_X86 },
  guestStorage: MACHINES['x86-vm16']!,
  metalStorage: MACHINES['e5-2690v3']!,
};

let probed: HostInfo | undefined;
let host: HostInfo | undefined;

/**
 * This machine, probed the first time it is asked for (src/config/host.ts) and kept for the
 * process, with the costs measured on it once setHostCosts() has given them.
 */
export function hostInfo(): HostInfo {
  probed ??= readHost(HOST_PRESETS);
  host ??= probed;
  return host;
}

/** This machine as probed, without measured costs (what they are derived against). */
export function probedHostInfo(): HostInfo {
  probed ??= readHost(HOST_PRESETS);
  return probed;
}

/**
 * Give the host the costs measured on it (src/calibrate/hostcost.ts), or take them back
 * (undefined): `--machine host` runs with them from then on.
 */
export function setHostCosts(m: MeasuredCosts | undefined): HostInfo {
  probed ??= readHost(HOST_PRESETS);
  host = m === undefined ? probed : withMeasuredCosts(probed, m);
  return host;
}

/**
 * A preset by name, or `host`: the machine spfperf runs on, probed from /sys and /proc the first
 * time it is asked for (src/config/host.ts).
 */
export function getMachine(name: string): Machine {
  if (name === 'host') return hostInfo().machine;
  const m = MACHINES[name];
  if (m === undefined) {
    throw new ConfigError(`unknown machine '${name}' (known: ${Object.keys(MACHINES).join(', ')}, host)`);
  }
  return m;
}

export function machineCpus(m: Machine): number {
  return m.topology.sockets * m.topology.coresPerSocket * m.topology.threadsPerCore;
}

/** The topology flags' values (--sockets, --cores-per-socket, --threads-per-core); absent: the machine's. */
export interface TopologyShape {
  readonly sockets?: number;
  readonly coresPerSocket?: number;
  readonly threadsPerCore?: number;
}

/**
 * The machine with its topology reshaped: every count the shape gives replaces the machine's, the
 * rest (memory, costs, latencies, storage, the way its CPUs are numbered) is kept.
 */
export function reshapeMachine(m: Machine, shape: TopologyShape): Machine {
  if (shape.sockets === undefined && shape.coresPerSocket === undefined && shape.threadsPerCore === undefined) return m;
  const t = m.topology;
  const topology: TopologySpec = {
    ...t,
    sockets: shape.sockets ?? t.sockets,
    coresPerSocket: shape.coresPerSocket ?? t.coresPerSocket,
    threadsPerCore: shape.threadsPerCore ?? t.threadsPerCore,
  };
  return { ...m, topology };
}

/** "2 sockets x 24 cores x 2 threads", a machine's shape as the --cpus error and list say it. */
export function shapeText(t: TopologySpec): string {
  const n = (k: number, what: string): string => `${k} ${what}${k === 1 ? '' : 's'}`;
  return `${n(t.sockets, 'socket')} x ${n(t.coresPerSocket, 'core')} x ${n(t.threadsPerCore, 'thread')}`;
}
