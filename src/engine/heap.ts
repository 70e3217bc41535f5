/** An item the event queue orders by (time, seq): seq is the insertion order, so ties are FIFO. */
export interface HeapItem {
  time: number;
  seq: number;
  /**
   * Set by EventHeap.remove() on an item that stays queued until it comes to the top: it is then
   * dropped without firing. Only timers are ever removed (Engine.cancel).
   */
  removed: boolean;
  fire(): void;
}

/** Slots of a new queue; doubled when they are all taken. */
const FIRST_SLOTS = 64;

/**
 * The event queue: a tournament tree on (time, seq). Each queued item has a slot, a leaf of a
 * complete binary tree whose inner nodes hold the slot that wins their subtree (the earliest), so
 * the root holds the top. The keys are kept by slot in typed arrays, so that a match compares
 * numbers in two flat arrays instead of loading the fields of items scattered over the JS heap.
 * A change at one slot (an item in, the top out, or the top replaced by a task that has just
 * synced: pushPop()) replays the matches on that slot's path to the root: one comparison and at
 * most one store a level, where a binary heap's sift moves the items it passes (a task syncs
 * several times a fault, and each sync is a pushPop() on a queue of about one item per CPU: on
 * 192 CPUs the binary heap's sifts were about a quarter of a dufour-v9 page_fault1 run's CPU
 * time, and this tree takes ~12 % off the whole run; docs/performance.md).
 * An empty slot has the key (+Infinity, +Infinity), after every item. remove() marks an item,
 * and a marked item is dropped when it reaches the top, so the top is always a live item
 * (minTime() is exact) and live items leave in (time, seq) order as if the marked ones had been
 * taken out. seq is unique, so the keys alone give the order (the same as the binary heap this
 * replaced gave), and with it every schedule.
 */
export class EventHeap {
  private items: (HeapItem | undefined)[] = new Array<HeapItem | undefined>(FIRST_SLOTS).fill(undefined);
  private times = new Float64Array(FIRST_SLOTS).fill(Infinity);
  private seqs = new Float64Array(FIRST_SLOTS).fill(Infinity);
  /** Node k's winning slot: the root is node 1, node k's children 2k and 2k+1, slot s the leaf slots + s. */
  private win = new Int32Array(2 * FIRST_SLOTS);
  /** Free slots, a stack: free[0..nfree-1]. */
  private free = new Int32Array(FIRST_SLOTS);
  private nfree = 0;
  private slots = FIRST_SLOTS;
  private n = 0;

  constructor() {
    this.build();
  }

  /** Items queued, marked ones not yet dropped included. */
  get size(): number {
    return this.n;
  }

  /** Time of the earliest item, or +Infinity when empty (the root is then an empty slot). */
  minTime(): number {
    return this.times[this.win[1]];
  }

  push(it: HeapItem): void {
    if (this.nfree === 0) this.grow();
    const s = this.free[--this.nfree];
    this.items[s] = it;
    this.times[s] = it.time;
    this.seqs[s] = it.seq;
    this.n++;
    this.replay(s, false);
  }

  pop(): HeapItem | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[this.win[1]]!;
    this.dropTop();
    return top;
  }

  /**
   * push(it) then pop(), in one replay: the earliest of the queued items and `it` leaves (it itself
   * if it is earliest). For a task that syncs: it takes the slot of the item that comes out.
   */
  pushPop(it: HeapItem): HeapItem {
    const time = it.time;
    const seq = it.seq;
    const w = this.win[1];
    const wt = this.times[w];
    // Also when the queue is empty: the root's key is then (+Infinity, +Infinity).
    if (time < wt || (time === wt && seq < this.seqs[w])) return it;
    const top = this.items[w]!;
    this.items[w] = it;
    this.times[w] = time;
    this.seqs[w] = seq;
    this.replay(w, true);
    this.dropRemoved();
    return top;
  }

  /** Take `it` out: at once if it is the top, else when it gets there. */
  remove(it: HeapItem): void {
    if (it.removed) return;
    if (this.n > 0 && this.items[this.win[1]] === it) this.dropTop();
    else it.removed = true;
  }

  /** Take the top item out (not returned), then any marked items that come to the top. */
  private dropTop(): void {
    this.vacate(this.win[1]);
    this.dropRemoved();
  }

  /** Marked items at the top leave, unmarked, until a live item is there. */
  private dropRemoved(): void {
    while (this.n > 0 && this.items[this.win[1]]!.removed) {
      const w = this.win[1];
      this.items[w]!.removed = false;
      this.vacate(w);
    }
  }

  /** Empty slot s (its item leaves) and free it. */
  private vacate(s: number): void {
    this.items[s] = undefined;
    this.times[s] = Infinity;
    this.seqs[s] = Infinity;
    this.n--;
    this.free[this.nfree++] = s;
    this.replay(s, true);
  }

  /**
   * Slot s's key has changed: each node's winner on its path again, from the leaf up. `top`: s
   * held every node of the path (the top, replaced or emptied), so a node changes only where s
   * has lost. Else s was empty until now, and the replay stops where a node's winner is neither
   * s nor changed (nothing above it changes then): an item that lands far from the top stops
   * after a level or two.
   */
  private replay(s: number, top: boolean): void {
    const win = this.win;
    const times = this.times;
    const seqs = this.seqs;
    let cur = s;
    let ct = times[s];
    let cq = seqs[s];
    for (let node = this.slots + s; node > 1; ) {
      const o = win[node ^ 1];
      const ot = times[o];
      if (ot < ct || (ot === ct && seqs[o] < cq)) {
        cur = o;
        ct = ot;
        cq = seqs[o];
      }
      node >>= 1;
      if (cur !== s) {
        if (!top && win[node] === cur) return;
        win[node] = cur;
      } else if (!top) win[node] = s;
    }
  }

  /** Every node's winner, from the leaves up; every empty slot free (slot 0 on top of the stack). */
  private build(): void {
    const slots = this.slots;
    const win = this.win;
    const times = this.times;
    const seqs = this.seqs;
    for (let s = 0; s < slots; s++) win[slots + s] = s;
    for (let k = slots - 1; k >= 1; k--) {
      const a = win[2 * k];
      const b = win[2 * k + 1];
      const at = times[a];
      const bt = times[b];
      win[k] = at < bt || (at === bt && seqs[a] < seqs[b]) ? a : b;
    }
    this.nfree = 0;
    for (let s = slots - 1; s >= 0; s--) if (this.items[s] === undefined) this.free[this.nfree++] = s;
  }

  /** Twice the slots; the tree built again. */
  private grow(): void {
    const slots = this.slots * 2;
    const times = new Float64Array(slots).fill(Infinity);
    times.set(this.times);
    this.times = times;
    const seqs = new Float64Array(slots).fill(Infinity);
    seqs.set(this.seqs);
    this.seqs = seqs;
    const items = new Array<HeapItem | undefined>(slots).fill(undefined);
    for (let s = 0; s < this.slots; s++) items[s] = this.items[s];
    this.items = items;
    this.win = new Int32Array(2 * slots);
    this.free = new Int32Array(slots);
    this.slots = slots;
    this.build();
  }
}
