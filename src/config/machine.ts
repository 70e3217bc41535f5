import type { TopologySpec, LineLatencies } from '../engine/topology.js';
import type { ArchCosts } from './arch.js';
import { ConfigError, UsageError } from '../errors.js';
import { isMachineFile, machineFromJson, readMachineFile } from './machine-file.js';
import { MACHINE_FILES } from './machines.gen.js';
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
  /**
   * Where each number of a machine read from a file comes from (src/config/machine-file.ts), by
   * its path in the file (`lineLatencies.socket`, `costs.wakeupNs`).
   */
  readonly sources?: Readonly<Record<string, string>>;
  /** The file it was read from (machines/NAME.json for a preset). */
  readonly file?: string;
}

const GiB = 1024 ** 3;

/**
 * The presets: the shipped machine files (machines/*.json, embedded by scripts/gen-machines.mjs),
 * read by the reader of `--machine FILE`. Each number's source is in its file.
 */
export const MACHINES: Readonly<Record<string, Machine>> = Object.fromEntries(
  MACHINE_FILES.map((f) => {
    const m = machineFromJson(f.json, f.file);
    return [m.name, m];
  }),
);

function presetCosts(name: string): Partial<ArchCosts> {
  const c = MACHINES[name]?.costs;
  if (c === undefined) throw new Error(`machine.ts: the preset ${name} has no costs (machines/${name}.json)`);
  return c;
}

/**
 * A KVM guest's costs (x86-vm16's): sending an IPI is a VM exit (the x2APIC ICR write traps), and
 * a halted vCPU is a host thread that must be woken. `--machine host` on a KVM guest takes them.
 */
export const KVM_X86: Partial<ArchCosts> = presetCosts('x86-vm16');

/** An arm64 KVM guest's costs (arm64-vm's): a halted vCPU is a host thread to wake. */
export const KVM_ARM64: Partial<ArchCosts> = presetCosts('arm64-vm');

/**
 * A PVM guest's costs (x86-pvm2's), measured on the 2-vCPU PVM guest spfperf is developed on
 * (PVM_X86_MEASURED_ON). Under PVM the guest kernel runs in the hardware's user mode, so every
 * syscall, fault, page-table switch and TLB flush goes through the hypervisor.
 */
export const PVM_X86: Partial<ArchCosts> = presetCosts('x86-pvm2');

/** Where and when PVM_X86 was measured. */
export const PVM_X86_MEASURED_ON =
  'the 2-vCPU PVM guest spfperf is developed on (AMD EPYC, Linux 6.18.44-fc-v1272), the median of 8 measurements on 2026-12-06 21:42-21:52 while anything else took 2-5 % of the CPUs\' time';

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

/** The names `--machine` takes besides a file, for messages: the presets, then host. */
export function machineNames(): string {
  return `${Object.keys(MACHINES).join(', ')}, host`;
}

/**
 * What `--machine ARG` names: a machine file (a path with a '/', or NAME.json:
 * src/config/machine-file.ts), host, or a preset. An unknown name is a UsageError whose message
 * begins with `what`.
 */
export function machineArg(arg: string, what = "option '--machine'"): Machine {
  if (isMachineFile(arg)) return readMachineFile(arg);
  if (arg !== 'host' && !Object.hasOwn(MACHINES, arg)) {
    throw new UsageError(`${what}: unknown machine '${arg}' (known: ${machineNames()}; or a machine file, a path or NAME.json: docs/machines.md)`);
  }
  return getMachine(arg);
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
