/**
 * The interpreter's own state of a statement in progress (a loop, a block, a touch), and the
 * small helpers it shares (src/sim/interp.ts).
 */
import { VM_EXEC, VM_READ, VM_WRITE } from '../mm/types.js';
import type { Prot, Stmt } from '../workload/ir.js';

export function protFlags(p: Prot): number {
  return (p.read ? VM_READ : 0) | (p.write ? VM_WRITE : 0) | (p.exec ? VM_EXEC : 0);
}

/** A loop being run: its limits and progress. */
export interface LoopState {
  readonly countLimit: number;
  readonly dur: number;
  readonly start: number;
  iter: number;
  lastSync: number;
  lastSyncIter: number;
}

/** A block being run: its statements, the next one, and the loop it belongs to (if any). */
export interface Frame {
  readonly stmts: readonly Stmt[];
  i: number;
  readonly loop: LoopState | null;
  /** The block of a `phase` statement: its end is the thread's exit from the phase. */
  readonly phase?: true;
}

/** Does a loop start iteration `iter` at time `now`? (The time limit is checked before each.) */
export function loopGoesOn(l: LoopState, now: number, iter: number): boolean {
  return iter < l.countLimit && now - l.start < l.dur;
}

/** A touch statement in progress (see Runner.touchBegin). */
export interface TouchState {
  readonly s: Extract<Stmt, { k: 'touch' }>;
  readonly base: number;
  readonly write: boolean;
  readonly random: boolean;
  readonly ps: number;
  readonly step: number;
  readonly n: number;
  readonly pagesInRange: number;
  readonly ip: number;
  i: number;
  addr: number;
  lastSync: number;
}

/** Numbers the `threads` and `fork` statements of `body` in text order (from out.size + 1). */
export function numberSpawners(body: readonly Stmt[], out: Map<Stmt, number>): void {
  for (const s of body) {
    if (s.k === 'threads' || s.k === 'fork') out.set(s, out.size + 1);
    if (s.k === 'threads' || s.k === 'fork' || s.k === 'loop' || s.k === 'parallel' || s.k === 'phase') numberSpawners(s.body, out);
    else if (s.k === 'if') {
      numberSpawners(s.then, out);
      if (s.else !== undefined) numberSpawners(s.else, out);
    }
  }
}

/**
 * How far a task in user mode may run ahead of the others before it offers to sync (at a loop's
 * back edge, between pages of a touch, in slices of a compute). Not a kernel figure: a simulator
 * estimate, small against the 3 ms timeslice (so preemption is not delayed noticeably) and large
 * against one user access (so user loops cost the host little).
 */
export const USER_QUANTUM_NS = 2000;

/** Rounds after which a loop yields though no USER_QUANTUM_NS passed: host work, not a model figure. */
export const LOOP_SYNC_ITERS = 256;

/** Thrown through a thread's interpreter to unwind it when its process dies. */
export class Killed {
  constructor(readonly signal: number) {}
}

/** The workload's `count` counters, per process (a `count` statement, a touch's counter). */
export class ProcessCounters {
  private readonly byProcess = new Map<object, Map<string, number>>();

  add(proc: object, name: string, by: number): void {
    let m = this.byProcess.get(proc);
    if (m === undefined) {
      m = new Map();
      this.byProcess.set(proc, m);
    }
    m.set(name, (m.get(name) ?? 0) + by);
  }

  /** The counters summed over `procs`, in their order. */
  summed(procs: Iterable<object>): Map<string, number> {
    const out = new Map<string, number>();
    for (const p of procs) for (const [name, v] of this.byProcess.get(p) ?? []) out.set(name, (out.get(name) ?? 0) + v);
    return out;
  }
}
