import { HANDOFF_SHARE } from './cacheline.js';

/**
 * CPU topology: which CPUs share a core (SMT siblings), an L3 (a CCX: AMD's core complex, whose
 * cores share one L3 slice) or a socket, and the latency of moving a cache line between two CPUs. CPU ids are numbered as Linux numbers them: by default
 * socket-major, then core, then SMT thread (cpu = (socket * cores + core) * threads + thread), as
 * on POWER where a core's threads are consecutive; with `siblingsLast`, every core's first thread
 * comes first and the second threads after them all, as the ACPI tables of Intel Xeon servers
 * list them (lscpu there shows e.g. "NUMA node0 CPU(s): 0-11,24-35").
 */
export interface TopologySpec {
  readonly sockets: number;
  readonly coresPerSocket: number;
  readonly threadsPerCore: number;
  /** SMT siblings numbered after all the cores' first threads (x86 servers). */
  readonly siblingsLast?: boolean;
  /**
   * Cores that share one L3 (a CCX on AMD EPYC: 4 on Rome, 8 on Genoa), numbered consecutively
   * within a socket; absent (or the socket's core count or more): the whole socket shares one L3,
   * as on Intel Xeon, POWER and arm64 meshes. A socket's last group may be smaller when its core
   * count is not a multiple.
   */
  readonly coresPerL3?: number;
}

/** Cache-line transfer latencies in ns, by how far apart the two CPUs are. */
export interface LineLatencies {
  /** A hit in the CPU's own cache. */
  readonly local: number;
  /** Between SMT siblings of one core (shared L1/L2). */
  readonly smt: number;
  /**
   * Between cores of one socket (through the shared LLC / ring / mesh); on a machine whose socket
   * has several L3s (CCXs), between cores of different L3s of one socket (through the I/O die).
   */
  readonly socket: number;
  /**
   * Between cores that share an L3 on a machine whose socket has several (an EPYC CCX); absent, or
   * on a socket with one L3: `socket`.
   */
  readonly l3?: number;
  /** Between sockets (through the interconnect: QPI/UPI, X-bus). */
  readonly remote: number;
  /** A line no CPU holds: filled from memory. */
  readonly memory: number;
}

export class Topology {
  readonly ncpus: number;
  readonly sockets: number;
  readonly socketOf: Int32Array;
  readonly coreOf: Int32Array;
  /**
   * The L3 (CCX) of each CPU, numbered across the machine; the same numbers as socketOf when each
   * socket has one L3 (l3Split false).
   */
  readonly l3Of: Int32Array;
  /** The number of L3s (sockets when l3Split is false). */
  readonly l3s: number;
  /** Some socket has more than one L3: the `l3` latency class exists. */
  readonly l3Split: boolean;
  /**
   * Between CPUs of one L3: `lat.l3` on a machine that gives it and says its cores per L3, else
   * `lat.socket`.
   */
  readonly l3Latency: number;

  /**
   * @param handoffShare share of a line transfer during which the line is busy for the next
   *   queued requester (cacheline.ts); HANDOFF_SHARE unless a run perturbs it.
   */
  constructor(
    readonly spec: TopologySpec,
    readonly lat: LineLatencies,
    ncpus?: number,
    readonly handoffShare: number = HANDOFF_SHARE,
  ) {
    const full = spec.sockets * spec.coresPerSocket * spec.threadsPerCore;
    this.ncpus = ncpus ?? full;
    this.sockets = spec.sockets;
    this.socketOf = new Int32Array(this.ncpus);
    this.coreOf = new Int32Array(this.ncpus);
    const perSocket = spec.coresPerSocket * spec.threadsPerCore;
    const cores = spec.sockets * spec.coresPerSocket;
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      if (spec.siblingsLast === true && cpu < full) {
        const core = cpu % cores;
        this.socketOf[cpu] = Math.floor(core / spec.coresPerSocket);
        this.coreOf[cpu] = core;
        continue;
      }
      // CPUs beyond the spec wrap onto extra sockets. The CLI never asks for them (prepareRun
      // refuses a --cpus above the machine's: machineWithCpus, src/sim/setup.ts); direct callers may.
      this.socketOf[cpu] = Math.floor(cpu / perSocket);
      this.coreOf[cpu] = Math.floor(cpu / spec.threadsPerCore);
    }
    this.sockets = Math.max(spec.sockets, this.ncpus > 0 ? this.socketOf[this.ncpus - 1] + 1 : 1);
    // The L3 groups: consecutive cores of a socket, as the kernel's cpu_llc_id groups a CCX
    // (arch/x86/kernel/cpu/cacheinfo.c, cacheinfo_amd_init_llc_id(), Linux 6.6).
    const group = spec.coresPerL3 ?? spec.coresPerSocket;
    this.l3Split = group < spec.coresPerSocket;
    if (!this.l3Split) {
      this.l3Of = this.socketOf;
      this.l3s = this.sockets;
      // A machine of several L3s a socket reshaped to one (--cores-per-socket at most coresPerL3):
      // the socket's cores share one L3, and pay its latency.
      this.l3Latency = spec.coresPerL3 !== undefined && lat.l3 !== undefined ? lat.l3 : lat.socket;
    } else {
      const perSocketL3 = Math.ceil(spec.coresPerSocket / group);
      this.l3Of = new Int32Array(this.ncpus);
      for (let cpu = 0; cpu < this.ncpus; cpu++) {
        const s = this.socketOf[cpu];
        const coreInSocket = this.coreOf[cpu] - s * spec.coresPerSocket;
        this.l3Of[cpu] = s * perSocketL3 + Math.floor(coreInSocket / group);
      }
      this.l3s = this.sockets * perSocketL3;
      this.l3Latency = lat.l3 ?? lat.socket;
    }
  }

  /** Latency of moving a line from CPU `from` to CPU `to` (from = -1: from memory). */
  latency(from: number, to: number): number {
    if (from < 0) return this.lat.memory;
    if (from === to) return this.lat.local;
    if (this.coreOf[from] === this.coreOf[to]) return this.lat.smt;
    if (this.l3Of[from] === this.l3Of[to]) return this.l3Latency;
    if (this.socketOf[from] === this.socketOf[to]) return this.lat.socket;
    return this.lat.remote;
  }
}
