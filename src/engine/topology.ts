import { HANDOFF_SHARE } from './cacheline.js';

/**
 * CPU topology: which CPUs share a core (SMT siblings) or a socket, and the latency of moving a
 * cache line between two CPUs. CPU ids are numbered as Linux numbers them: by default
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
}

/** Cache-line transfer latencies in ns, by how far apart the two CPUs are. */
export interface LineLatencies {
  /** A hit in the CPU's own cache. */
  readonly local: number;
  /** Between SMT siblings of one core (shared L1/L2). */
  readonly smt: number;
  /** Between cores of one socket (through the shared LLC / ring / mesh). */
  readonly socket: number;
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
  }

  /** Latency of moving a line from CPU `from` to CPU `to` (from = -1: from memory). */
  latency(from: number, to: number): number {
    if (from < 0) return this.lat.memory;
    if (from === to) return this.lat.local;
    if (this.coreOf[from] === this.coreOf[to]) return this.lat.smt;
    if (this.socketOf[from] === this.socketOf[to]) return this.lat.socket;
    return this.lat.remote;
  }
}
