import { EV, NUM_EVENTS } from '../events/catalog.js';
import type { Thread } from '../mm/kernel.js';
import type { CountingSink } from '../trace/sink.js';

/**
 * The workload's phases (`phase "name" { ... }`): what each task counted while it was in one. A
 * task is in a phase from the statement's start to its end, and a thread or process created in a
 * phase is in it for its whole life (its creator waits for it inside the block). A phase's
 * counts are the sums, over the tasks that were in it, of what each counted meanwhile; its time
 * runs from the first task's entry to the last one's exit. The same name in two places of the
 * script is one phase.
 */

/** One phase of a run. */
export interface PhaseResult {
  readonly name: string;
  /** Simulated ns of the first entry and the last exit (both 0 if no task entered it). */
  readonly startNs: number;
  readonly endNs: number;
  /** Each event's count in the phase, by event id (task-clock in ns). */
  readonly counts: Float64Array;
  /** The workload's counters bumped in the phase, by name. */
  readonly counters: ReadonlyMap<string, number>;
}

interface Acc {
  readonly name: string;
  start: number;
  end: number;
  readonly counts: Float64Array;
  readonly counters: Map<string, number>;
}

export class Phases {
  private readonly byName = new Map<string, Acc>();
  /** Each task in a phase: the phase, and its counts when it entered. */
  private readonly inPhase = new Map<Thread, { readonly acc: Acc; readonly at: Float64Array }>();

  /** `names`: every phase of the script, in text order (the order of the results). */
  constructor(
    names: readonly string[],
    private readonly counting: CountingSink,
  ) {
    for (const name of names) this.byName.set(name, { name, start: Infinity, end: 0, counts: new Float64Array(NUM_EVENTS), counters: new Map() });
  }

  /** What task `th` has counted so far, by event id (its CPU time up to its own clock). */
  private countsOf(th: Thread): Float64Array {
    const out = new Float64Array(NUM_EVENTS);
    for (let id = 0; id < NUM_EVENTS; id++) out[id] = this.counting.of(th.idx, id);
    const t = th.t;
    out[EV.TASK_CLOCK] = t.cpuNsAt(t.clock);
    out[EV.CPU_CLOCK] = out[EV.TASK_CLOCK];
    out[EV.CONTEXT_SWITCHES] = t.ctxSwitches;
    out[EV.CPU_MIGRATIONS] = t.migrations;
    return out;
  }

  /** Task `th` starts phase `name`. */
  enter(th: Thread, name: string): void {
    const acc = this.byName.get(name);
    if (acc === undefined) throw new Error(`phase "${name}" is not among the script's phases`);
    acc.start = Math.min(acc.start, th.t.clock);
    this.inPhase.set(th, { acc, at: this.countsOf(th) });
  }

  /** A task created by `parent`: in the parent's phase, if any, from its first count. */
  inherit(child: Thread, parent: Thread): void {
    const p = this.inPhase.get(parent);
    if (p !== undefined) this.inPhase.set(child, { acc: p.acc, at: new Float64Array(NUM_EVENTS) });
  }

  /** Task `th` leaves its phase (at the end of the block, or when it exits): its counts go in. */
  leave(th: Thread): void {
    const p = this.inPhase.get(th);
    if (p === undefined) return;
    this.inPhase.delete(th);
    const now = this.countsOf(th);
    for (let id = 0; id < NUM_EVENTS; id++) p.acc.counts[id] += now[id] - p.at[id];
    p.acc.end = Math.max(p.acc.end, th.t.clock);
  }

  /** A workload counter bumped by `th`: also the phase's, when `th` is in one. */
  count(th: Thread, name: string, by: number): void {
    const p = this.inPhase.get(th);
    if (p !== undefined) p.acc.counters.set(name, (p.acc.counters.get(name) ?? 0) + by);
  }

  /** Every task still in a phase leaves it (a run stopped before its end). */
  leaveAll(threads: readonly Thread[]): void {
    for (const th of threads) this.leave(th);
  }

  results(): PhaseResult[] {
    return [...this.byName.values()].map((a) => ({
      name: a.name,
      startNs: a.start === Infinity ? 0 : a.start,
      endNs: a.start === Infinity ? 0 : a.end,
      counts: a.counts,
      counters: a.counters,
    }));
  }
}
