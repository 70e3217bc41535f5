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

/** Slots of a new queue's tree; doubled when they are all taken. */
const FIRST_SLOTS = 64;

/**
 * Items a queue holds as a sorted ring before it becomes a tournament tree (for good): about one
 * item per simulated CPU, so up to 32 CPUs.
 */
const RING_MAX = 32;
const RING_MASK = RING_MAX - 1;

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
  /**
   * While true (up to RING_MAX items), the queue is a sorted ring instead: the items in
   * ring[head..head+n-1] (mod RING_MAX), earliest first, their keys beside them. A task that syncs
   * on a few CPUs lands near one end of the order (on 16 CPUs, page_fault1: 31 % among the first
   * three, 63 % among the last three of 16), so its place is found in a few comparisons from the
   * nearer end, and the items between are moved one place. No worse than the tree's replay of six
   * unpredictable matches at this size; past RING_MAX the moves would cost more, and the queue
   * turns into the tree.
   */
  private ring = true;
  private readonly rItems: (HeapItem | undefined)[] = new Array<HeapItem | undefined>(RING_MAX).fill(undefined);
  private readonly rTimes = new Float64Array(RING_MAX).fill(Infinity);
  private readonly rSeqs = new Float64Array(RING_MAX);
  private head = 0;
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

  /**
   * Time of the earliest item, or +Infinity when empty (the root is then an empty slot; an empty
   * ring keeps +Infinity at its head). Both answers are loads from a Float64Array: an answer that
   * could also be the constant Infinity came back boxed where it was inlined (a heap number made
   * at every sync: page_fault1 on 16 CPUs, ~50 bytes a fault).
   */
  minTime(): number {
    return this.ring ? this.rTimes[this.head] : this.times[this.win[1]];
  }

  push(it: HeapItem): void {
    if (this.ring) {
      if (this.n < RING_MAX) {
        this.ringInsert(it);
        return;
      }
      this.toTree();
    }
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
    if (this.ring) {
      const first = this.rItems[this.head]!;
      this.ringDropHead();
      return first;
    }
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
    if (this.ring) {
      if (this.n === 0) return it;
      const h = this.head;
      const ht = this.rTimes[h];
      if (time < ht || (time === ht && seq < this.rSeqs[h])) return it;
      const first = this.rItems[h]!;
      this.rItems[h] = undefined;
      this.head = (h + 1) & RING_MASK;
      this.n--;
      this.ringInsert(it);
      this.ringDropRemoved();
      return first;
    }
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
    if (this.ring) {
      if (this.n > 0 && this.rItems[this.head] === it) this.ringDropHead();
      else it.removed = true;
      return;
    }
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

  /**
   * Put `it` in its place in the ring (it has room): from the nearer end of the order, as the
   * middle item says, moving the items it passes one place outwards.
   */
  private ringInsert(it: HeapItem): void {
    const items = this.rItems;
    const times = this.rTimes;
    const seqs = this.rSeqs;
    const time = it.time;
    const seq = it.seq;
    const n = this.n;
    const h = this.head;
    let at: number;
    const mid = (h + (n >> 1)) & RING_MASK;
    if (n > 0 && (time < times[mid] || (time === times[mid] && seq < seqs[mid]))) {
      // Before the middle: the earlier items move one place towards the front.
      const nh = (h + RING_MAX - 1) & RING_MASK;
      let from = h;
      at = nh;
      for (;;) {
        const ft = times[from];
        if (time < ft || (time === ft && seq < seqs[from])) break;
        items[at] = items[from];
        times[at] = ft;
        seqs[at] = seqs[from];
        at = from;
        from = (from + 1) & RING_MASK;
      }
      this.head = nh;
    } else {
      // At or after the middle: the later items move one place towards the back.
      at = (h + n) & RING_MASK;
      for (let left = n; left > 0; left--) {
        const from = (at + RING_MAX - 1) & RING_MASK;
        const ft = times[from];
        if (ft < time || (ft === time && seqs[from] < seq)) break;
        items[at] = items[from];
        times[at] = ft;
        seqs[at] = seqs[from];
        at = from;
      }
    }
    items[at] = it;
    times[at] = time;
    seqs[at] = seq;
    this.n = n + 1;
  }

  /** Take the ring's first item out (not returned), then any marked items that come first. */
  private ringDropHead(): void {
    this.rItems[this.head] = undefined;
    this.head = (this.head + 1) & RING_MASK;
    this.n--;
    this.ringDropRemoved();
  }

  /** Marked items at the front of the ring leave, unmarked, until a live item is first (or none is left: minTime()'s +Infinity at the head). */
  private ringDropRemoved(): void {
    while (this.n > 0 && this.rItems[this.head]!.removed) {
      const h = this.head;
      this.rItems[h]!.removed = false;
      this.rItems[h] = undefined;
      this.head = (h + 1) & RING_MASK;
      this.n--;
    }
    if (this.n === 0) this.rTimes[this.head] = Infinity;
  }

  /** The ring is full: its items go into the tree's slots, which takes over from here. */
  private toTree(): void {
    for (let i = 0; i < this.n; i++) {
      const r = (this.head + i) & RING_MASK;
      this.items[i] = this.rItems[r];
      this.times[i] = this.rTimes[r];
      this.seqs[i] = this.rSeqs[r];
      this.rItems[r] = undefined;
    }
    this.ring = false;
    this.build();
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
