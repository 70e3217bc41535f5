/** An item the event queue orders by (time, seq): seq is the insertion order, so ties are FIFO. */
export interface HeapItem {
  time: number;
  seq: number;
  /** Position in the heap, -1 when not queued. */
  hidx: number;
  fire(): void;
}

/**
 * Binary min-heap on (time, seq). Items are queued at most once (hidx tracks where). The keys
 * are kept beside the items in typed arrays, so that a sift compares numbers in two flat arrays
 * instead of loading the fields of items scattered over the JS heap (a task syncs several times
 * a fault, and each sync is a pop and a push on a heap of one item per CPU).
 */
export class EventHeap {
  private readonly items: (HeapItem | undefined)[] = [];
  private times = new Float64Array(64);
  private seqs = new Float64Array(64);
  private n = 0;

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
    const n = --this.n;
    const last = this.items[n]!;
    this.items[n] = undefined;
    if (n > 0) this.siftDown(last, this.times[n], this.seqs[n], 0);
    top.hidx = -1;
    return top;
  }

  /**
   * push(it) then pop(), in one sift: the earliest of the queued items and `it` leaves (it itself
   * if it is earliest). For a task that syncs: it goes back in as the next item comes out.
   */
  pushPop(it: HeapItem): HeapItem {
    const time = it.time;
    const seq = it.seq;
    if (this.n === 0 || time < this.times[0] || (time === this.times[0] && seq < this.seqs[0])) {
      it.hidx = -1;
      return it;
    }
    const top = this.items[0]!;
    this.siftDown(it, time, seq, 0);
    top.hidx = -1;
    return top;
  }

  remove(it: HeapItem): void {
    const i = it.hidx;
    if (i < 0) return;
    const n = --this.n;
    const last = this.items[n]!;
    this.items[n] = undefined;
    it.hidx = -1;
    if (i === n) return;
    const time = this.times[n];
    const seq = this.seqs[n];
    // The last item takes the hole: down if a child comes first, else (it may) up.
    this.siftDown(last, time, seq, i);
    if (last.hidx === i) this.siftUp(last, time, seq, i);
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
      const q = items[p]!;
      items[i] = q;
      times[i] = pt;
      seqs[i] = seqs[p];
      q.hidx = i;
      i = p;
    }
    items[i] = it;
    times[i] = time;
    seqs[i] = seq;
    it.hidx = i;
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
      const ch = items[c]!;
      items[i] = ch;
      times[i] = ct;
      seqs[i] = cs;
      ch.hidx = i;
      i = c;
    }
    items[i] = it;
    times[i] = time;
    seqs[i] = seq;
    it.hidx = i;
  }
}
