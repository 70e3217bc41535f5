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

/**
 * Binary min-heap on (time, seq). The keys are kept beside the items in typed arrays, so that a
 * sift compares numbers in two flat arrays instead of loading the fields of items scattered over
 * the JS heap (a task syncs several times a fault, and each sync is a pop and a push on a heap of
 * one item per CPU). A sift writes nothing into the items it moves: remove() marks an item, and
 * a marked item is dropped when it reaches the top, so the top is always a live item (minTime()
 * is exact) and live items leave in (time, seq) order as if the marked ones had been taken out.
 */
export class EventHeap {
  private readonly items: (HeapItem | undefined)[] = [];
  private times = new Float64Array(64);
  private seqs = new Float64Array(64);
  private n = 0;

  /** Items queued, marked ones not yet dropped included. */
  get size(): number {
    return this.n;
  }

  /** Time of the earliest item, or +Infinity when empty. */
  minTime(): number {
    return this.n > 0 ? this.times[0] : Infinity;
  }

  push(it: HeapItem): void {
    if (this.n === this.times.length) this.grow();
    this.siftUp(it, it.time, it.seq, this.n++);
  }

  pop(): HeapItem | undefined {
    if (this.n === 0) return undefined;
    const top = this.items[0]!;
    this.dropTop();
    return top;
  }

  /**
   * push(it) then pop(), in one sift: the earliest of the queued items and `it` leaves (it itself
   * if it is earliest). For a task that syncs: it goes back in as the next item comes out.
   */
  pushPop(it: HeapItem): HeapItem {
    const time = it.time;
    const seq = it.seq;
    if (this.n === 0 || time < this.times[0] || (time === this.times[0] && seq < this.seqs[0])) return it;
    const top = this.items[0]!;
    this.siftUp(it, time, seq, this.holeToLeaf());
    this.dropRemoved();
    return top;
  }

  /**
   * Move the hole at the root down to a leaf along the earlier child of each level (one
   * comparison a level, where a sift down from the root compares the item with both children),
   * for pushPop() to put its item there and sift it up. Where a synced task lands is bimodal
   * (dufour-v9 page_fault1 on 192 CPUs: 35 % in the first 5 % of the queue, 18 % in the last
   * 5 %); alone, on that pattern, this is a few % faster than the sift down.
   */
  private holeToLeaf(): number {
    const items = this.items;
    const times = this.times;
    const seqs = this.seqs;
    const n = this.n;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) return i;
      const r = c + 1;
      if (r < n) {
        const rt = times[r];
        const ct = times[c];
        if (rt < ct || (rt === ct && seqs[r] < seqs[c])) c = r;
      }
      items[i] = items[c];
      times[i] = times[c];
      seqs[i] = seqs[c];
      i = c;
    }
  }

  /** Take `it` out: at once if it is the top, else when it gets there. */
  remove(it: HeapItem): void {
    if (it.removed) return;
    if (this.n > 0 && this.items[0] === it) this.dropTop();
    else it.removed = true;
  }

  /** Take the top item out (not returned), then any marked items that come to the top. */
  private dropTop(): void {
    this.takeTop();
    this.dropRemoved();
  }

  /** Marked items at the top leave, unmarked, until a live item is there. */
  private dropRemoved(): void {
    while (this.n > 0 && this.items[0]!.removed) {
      this.items[0]!.removed = false;
      this.takeTop();
    }
  }

  /** The last item fills the top's place and sifts down. */
  private takeTop(): void {
    const n = --this.n;
    const last = this.items[n]!;
    this.items[n] = undefined;
    if (n > 0) this.siftDown(last, this.times[n], this.seqs[n], 0);
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const seqs = new Float64Array(this.seqs.length * 2);
    seqs.set(this.seqs);
    this.seqs = seqs;
  }

  /** Put `it` (key time, seq) at hole i or above it. */
  private siftUp(it: HeapItem, time: number, seq: number, i: number): void {
    const items = this.items;
    const times = this.times;
    const seqs = this.seqs;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < time || (pt === time && seqs[p] < seq)) break;
      items[i] = items[p];
      times[i] = pt;
      seqs[i] = seqs[p];
      i = p;
    }
    items[i] = it;
    times[i] = time;
    seqs[i] = seq;
  }

  /** Put `it` (key time, seq) at hole i or below it. */
  private siftDown(it: HeapItem, time: number, seq: number, i: number): void {
    const items = this.items;
    const times = this.times;
    const seqs = this.seqs;
    const n = this.n;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let ct = times[c];
      let cs = seqs[c];
      const r = c + 1;
      if (r < n) {
        const rt = times[r];
        if (rt < ct || (rt === ct && seqs[r] < cs)) {
          c = r;
          ct = rt;
          cs = seqs[r];
        }
      }
      if (time < ct || (time === ct && seq < cs)) break;
      items[i] = items[c];
      times[i] = ct;
      seqs[i] = cs;
      i = c;
    }
    items[i] = it;
    times[i] = time;
    seqs[i] = seq;
  }
}
