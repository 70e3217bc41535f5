import { EVENTS, NUM_EVENTS } from '../events/catalog.js';

const IS_VMSTAT = EVENTS.map((e) => e.kind === 'vmstat');

/** Who an event is attributed to. */
export interface EventSource {
  /** Dense index of the thread in its run (0, 1, 2, ...). */
  readonly idx: number;
  readonly tid: number;
  readonly pid: number;
  readonly comm: string;
  /** A kernel thread (khugepaged): perf stat of the workload does not count its events, vmstat does. */
  readonly kernel?: boolean;
  /** CPU the event happened on. */
  cpuNow(): number;
  /** Virtual time of the event (ns). */
  timeNow(): number;
}

/**
 * Where the model's events go (perf's perf_tool). The kernel model keeps no output state of its
 * own: counters are one kind of sink, a trace writer another.
 */
export interface TraceSink {
  /** `n` occurrences of event `id` in `src`. */
  count(id: number, src: EventSource, n: number): void;
  /** A tracepoint hit with its fields (numbers; the catalog names them). Only for ids in `traced`. */
  sample?(id: number, src: EventSource, fields: readonly number[]): void;
  /** Event ids whose samples this sink wants (tracepoints and software events recorded one by one). */
  readonly traced?: ReadonlySet<number>;
  /**
   * A user page fault of `src` ended: `startNs` when the exception came, `endNs` when the thread
   * was back in user mode, `outcome` how it completed (FAULT_* bits below), `ip` the user
   * instruction that faulted and `addr` the address it touched (0: not known). Called only when
   * `wantsFaults` is true.
   */
  faultDone?(src: EventSource, startNs: number, endNs: number, outcome: number, ip?: number, addr?: number): void;
  /** Whether this sink wants faultDone() (record does when it records a fault event). */
  readonly wantsFaults?: boolean;
}

/**
 * How a fault completed, as do_user_addr_fault() saw it (faultDone()'s `outcome`): bits that
 * can be combined.
 */
/** Completed by the design's attempt, without the mmap lock (speculatively, or under a VMA lock). */
export const FAULT_SPEC = 1;
/** ... and that attempt held the VMA's own lock (per-VMA locks), not none (speculative). */
export const FAULT_VMA_LOCK = 2;
/** A handler answered VM_FAULT_RETRY under the mmap lock: the fault went round again (FAULT_FLAG_TRIED). */
export const FAULT_RETRIED = 4;
/** Accounted as a major fault (mm_account_fault(): VM_FAULT_MAJOR, or retried). */
export const FAULT_MAJOR = 8;
/**
 * Ended in a signal (SIGSEGV, SIGBUS, SIGKILL), not accounted as minor or major: the signal's
 * number sits above this shift (0: no signal).
 */
export const FAULT_SIGNAL_SHIFT = 8;

/** Fans events out to the sinks of a run. */
export class Emitter {
  private readonly wantSample: Uint8Array = new Uint8Array(NUM_EVENTS);
  private readonly samplers: TraceSink[] = [];
  private readonly faultSinks: TraceSink[] = [];
  /** Is a sink waiting for faultDone()? (The fault path asks before it measures anything.) */
  readonly wantsFaults: boolean;

  constructor(private readonly sinks: readonly TraceSink[]) {
    for (const s of sinks) if (s.wantsFaults === true && s.faultDone !== undefined) this.faultSinks.push(s);
    this.wantsFaults = this.faultSinks.length > 0;
    for (const s of sinks) {
      if (s.sample === undefined || s.traced === undefined) continue;
      this.samplers.push(s);
      for (const id of s.traced) this.wantSample[id] = 1;
    }
  }

  count(id: number, src: EventSource, n = 1): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i].count(id, src, n);
  }

  /** Is anyone recording samples of this event? (Lets callers skip building fields.) */
  sampling(id: number): boolean {
    return this.wantSample[id] === 1;
  }

  /** Count one occurrence and hand its fields to the sinks that record it. */
  hit(id: number, src: EventSource, fields: readonly number[]): void {
    this.count(id, src, 1);
    if (this.wantSample[id] === 0) return;
    for (const s of this.samplers) if (s.traced!.has(id)) s.sample!(id, src, fields);
  }

  /** A user fault of `src` ended (see TraceSink.faultDone). */
  faultDone(src: EventSource, startNs: number, endNs: number, outcome: number, ip = 0, addr = 0): void {
    for (const s of this.faultSinks) s.faultDone!(src, startNs, endNs, outcome, ip, addr);
  }
}

/** The counting sink behind `stat`: per-thread totals of every event. */
export class CountingSink implements TraceSink {
  private counts = new Float64Array(NUM_EVENTS * 16);
  private nthreads = 0;

  count(id: number, src: EventSource, n: number): void {
    if (src.kernel === true && !IS_VMSTAT[id]) return;
    const base = src.idx * NUM_EVENTS;
    if (base + NUM_EVENTS > this.counts.length) {
      const bigger = new Float64Array(Math.max(this.counts.length * 2, base + NUM_EVENTS));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    if (src.idx >= this.nthreads) this.nthreads = src.idx + 1;
    this.counts[base + id] += n;
  }

  /** Total of one event over all threads. */
  total(id: number): number {
    let s = 0;
    for (let i = 0; i < this.nthreads; i++) s += this.counts[i * NUM_EVENTS + id];
    return s;
  }

  /** One thread's count of one event. */
  of(idx: number, id: number): number {
    return idx < this.nthreads ? this.counts[idx * NUM_EVENTS + id] : 0;
  }

  /** The counts as plain data, for a structured clone (a result sent back from a worker thread). */
  snapshot(): CountsSnapshot {
    return { counts: this.counts.slice(0, this.nthreads * NUM_EVENTS), nthreads: this.nthreads };
  }

  /** A sink holding the counts of a snapshot(): every total() and of() as the original's. */
  static fromSnapshot(s: CountsSnapshot): CountingSink {
    const c = new CountingSink();
    if (s.counts.length > c.counts.length) c.counts = new Float64Array(s.counts.length);
    c.counts.set(s.counts);
    c.nthreads = s.nthreads;
    return c;
  }
}

/** A CountingSink's per-thread counts (NUM_EVENTS a thread) as plain data. */
export interface CountsSnapshot {
  readonly counts: Float64Array;
  readonly nthreads: number;
}
