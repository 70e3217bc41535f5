import type { Topology } from './topology.js';
import type { LineStat } from './lockstat.js';
import type { Task } from './task.js';

/**
 * One cache line of shared kernel data (a lock word, a refcount, a seqcount, a counter).
 *
 * MESI reduced to what matters for scalability: the line is either owned (modified/exclusive)
 * by one CPU or shared by a set of CPUs. A read by a CPU that holds the line costs a local hit;
 * a read by another CPU fetches it (the owner, if any, downgrades to shared). A write or atomic
 * RMW by a CPU that is not the sole holder invalidates the other copies and takes ownership.
 * Every transfer occupies the line: transfers of one line are serialised (busyUntil), so N CPUs
 * hammering one line queue behind each other and the cost of one access grows with N. A
 * requester pays its wait plus the whole transfer latency; the line is busy for the topology's
 * handoffShare (HANDOFF_SHARE unless a run perturbs it) of that latency (the data leg of a queued
 * hand-off).
 *
 * Callers must access lines in global time order (the engine's sync rule guarantees it).
 */
/**
 * Share of a transfer's latency during which the line is unavailable to the next queued
 * requester. The latencies in a profile are round trips as a lone requester sees them (request
 * to the directory or home agent, snoop, data back); a requester that is already queued when the
 * line is released waits only for the data leg, so back-to-back hand-offs of one contended line
 * come at about half the round trip. Fitted on C1-C6 (declared in src/config/constants.ts); it agrees
 * with contended-atomic throughput on multi-socket Xeons exceeding 1 / round-trip (David,
 * Guerraoui and Trigonakis, "Everything you always wanted to know about synchronization...",
 * SOSP 2013).
 */
export const HANDOFF_SHARE = 0.5;

/**
 * What a line asks before each access when the sync rule is checked (Engine, under tests and
 * --check): throws SyncRuleError if the access comes from a task that owes a sync.
 */
export interface SyncGuard {
  checkAccess(line: string, now: number): void;
}

export class CacheLine {
  /** CPU holding the line modified/exclusive, or -1. */
  private owner = -1;
  /** Bitmap of CPUs holding a copy (including the owner). */
  private readonly sharers: Uint32Array;
  private nsharers = 0;
  /** Holders per socket, to find the farthest copy to invalidate without scanning the bitmap. */
  private readonly perSocket: Int32Array;
  /** Holders per L3 (CCX), on a machine whose sockets have several; null otherwise (perSocket says it). */
  private readonly perL3: Int32Array | null;
  /** Virtual time until which the line is busy with an earlier transfer. */
  private busyUntil = -0;
  /** Transfers (misses) this line caused: for reports and tests. */
  transfers = 0;
  /** The topology's hand-off share, read once. */
  private readonly share: number;

  constructor(
    private readonly topo: Topology,
    readonly name: string,
    private readonly guard: SyncGuard | null = null,
    /** Where `spfperf lock contention` sums this line's transfers (shared by the lines of one name), or null. */
    private readonly stat: LineStat | null = null,
  ) {
    this.share = topo.handoffShare;
    this.sharers = new Uint32Array((topo.ncpus + 31) >>> 5);
    this.perSocket = new Int32Array(topo.sockets);
    this.perL3 = topo.l3Split ? new Int32Array(topo.l3s) : null;
  }

  private has(cpu: number): boolean {
    return (this.sharers[cpu >>> 5] & (1 << (cpu & 31))) !== 0;
  }

  private add(cpu: number): void {
    this.sharers[cpu >>> 5] |= 1 << (cpu & 31);
    this.nsharers++;
    this.perSocket[this.topo.socketOf[cpu]]++;
    if (this.perL3 !== null) this.perL3[this.topo.l3Of[cpu]]++;
  }

  /** Serialise a transfer of `lat` ns requested at `now`; returns the cost seen by the requester. */
  private transfer(now: number, lat: number): number {
    const start = now > this.busyUntil ? now : this.busyUntil;
    this.busyUntil = start + lat * this.share;
    this.transfers++;
    const cost = start + lat - now;
    const s = this.stat;
    if (s !== null) {
      s.transfers++;
      s.waitNs += cost;
      s.queuedNs += start - now;
      if (cost > s.maxNs) s.maxNs = cost;
    }
    return cost;
  }

  /** transfer() requested by the running task at its clock, which waits it out (Task.stall). */
  private transferBy(t: Task, lat: number): void {
    t.stall(this.transfer(t.clock, lat));
  }

  /** A load by `cpu` at `now`; returns its latency in ns. */
  read(cpu: number, now: number): number {
    if (this.guard !== null) this.guard.checkAccess(this.name, now);
    if (this.has(cpu)) return this.topo.lat.local;
    const cost = this.transfer(now, this.topo.latency(this.source(cpu), cpu));
    this.shareWith(cpu);
    return cost;
  }

  /**
   * read() by the task running at its clock, which waits out the latency (Task.stall). Neither
   * the clock nor the latency is handed to a call that may not be inlined (transfer() is given
   * the task): a float passed or returned there would be a heap number made (page_fault1 on 16
   * CPUs: ~60 bytes a fault, when read() and write() took the clock and returned the latency).
   */
  readBy(t: Task): void {
    if (this.guard !== null) this.guard.checkAccess(this.name, t.clock);
    const cpu = t.cpu;
    if (this.has(cpu)) {
      t.stall(this.topo.lat.local);
      return;
    }
    this.transferBy(t, this.topo.latency(this.source(cpu), cpu));
    this.shareWith(cpu);
  }

  /** Where a load by `cpu` fetches the line from: the owner if there is one, else the nearest sharer, else memory (-1). */
  private source(cpu: number): number {
    const from = this.owner;
    return from < 0 && this.nsharers > 0 ? this.nearestSharer(cpu) : from;
  }

  /** After a load by `cpu`: the owner keeps a shared copy, and `cpu` has one. */
  private shareWith(cpu: number): void {
    this.owner = -1;
    this.add(cpu);
  }

  /** write() by the task running at its clock, which waits out the latency (as readBy()). */
  writeBy(t: Task): void {
    if (this.guard !== null) this.guard.checkAccess(this.name, t.clock);
    const cpu = t.cpu;
    const local = this.topo.lat.local;
    if (this.owner === cpu && this.nsharers === 1) {
      t.stall(local);
      return;
    }
    const lat = this.writeLatency(cpu);
    if (lat === local) t.stall(lat);
    else this.transferBy(t, lat);
    this.own(cpu);
  }

  /** A store or atomic read-modify-write by `cpu` at `now`; returns its latency in ns. */
  write(cpu: number, now: number): number {
    if (this.guard !== null) this.guard.checkAccess(this.name, now);
    const local = this.topo.lat.local;
    if (this.owner === cpu && this.nsharers === 1) return local;
    const lat = this.writeLatency(cpu);
    const cost = lat === local ? lat : this.transfer(now, lat);
    this.own(cpu);
    return cost;
  }

  /** The latency of a write by `cpu` that does not own the line alone. */
  private writeLatency(cpu: number): number {
    if (this.nsharers === 0) return this.topo.lat.memory;
    // A sole sharer upgrading S -> M: no other copy to invalidate.
    if (this.nsharers === 1 && this.has(cpu)) return this.topo.lat.local;
    return this.farthestLatency(cpu);
  }

  /** After a write by `cpu`: every other copy invalidated, `cpu` the owner. */
  private own(cpu: number): void {
    // Loops, not fill(): a few words each, and the builtin's call cost more than the stores (a
    // line is written several times a fault).
    const sharers = this.sharers;
    for (let w = 0; w < sharers.length; w++) sharers[w] = 0;
    const perSocket = this.perSocket;
    for (let s = 0; s < perSocket.length; s++) perSocket[s] = 0;
    const perL3 = this.perL3;
    if (perL3 !== null) for (let s = 0; s < perL3.length; s++) perL3[s] = 0;
    this.nsharers = 0;
    this.add(cpu);
    this.owner = cpu;
  }

  /** Latency to invalidate every other copy: the farthest holder decides (invalidations go out in parallel). */
  private farthestLatency(cpu: number): number {
    const sock = this.topo.socketOf[cpu];
    const mine = this.perSocket[sock] - (this.has(cpu) ? 1 : 0);
    if (mine < this.nsharers - (this.has(cpu) ? 1 : 0)) return this.topo.lat.remote;
    if (this.owner >= 0 && this.owner !== cpu) return this.topo.latency(this.owner, cpu);
    if (mine === 0) return this.topo.lat.local;
    // All other copies are on this socket; an SMT sibling alone is cheaper, but treat any as socket,
    // or, on a socket of several L3s, as the L3 when they are all in this CPU's.
    const perL3 = this.perL3;
    if (perL3 === null || perL3[this.topo.l3Of[cpu]] - (this.has(cpu) ? 1 : 0) === mine) return this.topo.l3Latency;
    return this.topo.lat.socket;
  }

  /** The holder closest to `cpu`: an SMT sibling, else one of the same L3, else of the same socket, else any. */
  private nearestSharer(cpu: number): number {
    const sock = this.topo.socketOf[cpu];
    const core = this.topo.coreOf[cpu];
    const l3 = this.topo.l3Of[cpu];
    const l3Of = this.topo.l3Of;
    let sameL3 = -1;
    let sameSocket = -1;
    let any = -1;
    for (let w = 0; w < this.sharers.length; w++) {
      let bits = this.sharers[w];
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        const c = (w << 5) + b;
        if (this.topo.coreOf[c] === core) return c;
        if (sameL3 < 0 && l3Of[c] === l3) sameL3 = c;
        if (sameSocket < 0 && this.topo.socketOf[c] === sock) sameSocket = c;
        if (any < 0) any = c;
        bits &= bits - 1;
      }
    }
    return sameL3 >= 0 ? sameL3 : sameSocket >= 0 ? sameSocket : any;
  }
}
