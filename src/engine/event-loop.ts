import { EventHeap, type HeapItem } from './heap.js';
import { callSite, SyncRuleError } from './sync-check.js';

/**
 * The event core of the engine (engine.ts): one heap of items ordered by (time, insertion seq),
 * the items that are not tasks (timers), the time a run stops at, the horizon a task syncs
 * against (the sync rule, architecture.md), and the loop that takes the items out in order. The
 * Engine adds the tasks, the CPUs and what a task's yields do.
 */

/** A one-shot callback at a virtual time. */
export class Timer implements HeapItem {
  time = -0;
  seq = 0;
  removed = false;
  constructor(private readonly fn: () => void) {}
  fire(): void {
    this.fn();
  }
}

export abstract class EventLoop {
  protected readonly heap = new EventHeap();
  protected seqNo = 0;
  /** Time of the item being processed. */
  now = -0;
  /** A run stops processing items after this time (Infinity: until nothing is left); pastStopAt: it did. */
  get stopAt(): number {
    return this.stopAtNs;
  }
  set stopAt(ns: number) {
    this.stopAtNs = ns;
    this.refreshSyncAt();
  }
  private stopAtNs = Infinity;
  pastStopAt = false;
  /**
   * Lookahead (ns): a task may pass a sync point while its clock is at most this far beyond the
   * earliest pending time. 0: shared-state operations in exact time order; a small value (well
   * under a cache-line transfer) lets tasks batch steps, reordering them at most by this much.
   */
  get lookahead(): number {
    return this.lookaheadNs;
  }
  set lookahead(ns: number) {
    this.lookaheadNs = ns;
    this.refreshSyncAt();
  }
  private lookaheadNs = 0;
  /**
   * horizon() + lookahead, kept up to date as the heap's top, stopAt and the lookahead change: a
   * task whose clock is beyond it owes a sync (Task.mustSync reads it, a field, several times a
   * fault).
   */
  syncAt = Infinity;
  protected refreshSyncAt(): void {
    this.syncAt = Math.min(this.heap.minTime(), this.stopAtNs) + this.lookaheadNs;
  }
  /** Set by stop(): the loop ends at the next item. */
  protected stopped = false;
  /**
   * The task that has just synced, keyed but not yet queued: step() puts it in and takes the next
   * item out in one sift (EventHeap.pushPop). Only ever set between its resume() and the next item.
   */
  protected held: HeapItem | null = null;
  /** An unasked sync was taken (Engine.yieldSoon): step() returns after this item. */
  protected endSlice = false;
  /** The running task is in a step that began in time order (see the sync rule, engine.ts). */
  stepOpen = false;
  /** The invariant checks' scan between items (src/mm/debug_vm.ts), or null. */
  audit: (() => void) | null = null;

  /** SyncGuard: an access at `now` is in time order only if no pending item is earlier. */
  checkAccess(line: string, now: number): void {
    const horizon = this.heap.minTime() + this.lookahead;
    if (now <= horizon) this.stepOpen = true;
    else if (!this.stepOpen) throw new SyncRuleError(line, now, horizon, callSite());
  }

  /** The earliest pending time, or stopAt if sooner: a task whose clock is beyond it must sync first. */
  horizon(): number {
    return Math.min(this.heap.minTime(), this.stopAtNs);
  }

  protected queue(it: HeapItem, time: number): void {
    it.time = time;
    it.seq = this.seqNo++;
    this.heap.push(it);
    if (time < this.syncAt) this.refreshSyncAt();
  }

  /** Run fn at the given virtual time. */
  at(time: number, fn: () => void): Timer {
    const t = new Timer(fn);
    this.queue(t, time);
    return t;
  }

  cancel(t: Timer): void {
    this.heap.remove(t);
    this.refreshSyncAt();
  }

  /** Stop the loop after the item being processed (Ctrl-C). */
  stop(): void {
    this.stopped = true;
  }

  /** Process events until none is left, stop() is called, or time passes stopAt. */
  run(): void {
    while (this.step(Infinity));
  }

  /**
   * Process at most `maxItems` events; true if there is more to do (so a caller can hand control
   * back to the host's event loop between slices: progress, Ctrl-C).
   */
  step(maxItems: number): boolean {
    const heap = this.heap;
    for (let n = 0; n < maxItems; n++) {
      if (this.stopped) return this.unhold(false);
      const held = this.held;
      let it: HeapItem | undefined;
      if (held !== null) {
        this.held = null;
        it = heap.pushPop(held);
      } else it = heap.pop();
      this.refreshSyncAt();
      if (it === undefined) return false;
      if (it.time > this.stopAtNs) {
        heap.push(it);
        this.refreshSyncAt();
        this.pastStopAt = true;
        return false;
      }
      this.now = it.time;
      this.stepOpen = false;
      it.fire();
      if (this.audit !== null) this.audit();
      if (this.endSlice) {
        this.endSlice = false;
        return this.unhold(true);
      }
    }
    return this.unhold(true);
  }

  /** Queue the task held by step() (if any) before control leaves the loop; returns `more`. */
  private unhold(more: boolean): boolean {
    if (this.held !== null) {
      this.heap.push(this.held);
      this.held = null;
      this.refreshSyncAt();
    }
    return more;
  }

  get wasStopped(): boolean { // true once stop() was called
    return this.stopped;
  }
}
