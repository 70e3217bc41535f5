/** An item the event queue orders by (time, seq): seq is the insertion order, so ties are FIFO. */
export interface HeapItem {
  time: number;
  seq: number;
  /** Position in the heap, -1 when not queued. */
  hidx: number;
  fire(): void;
}

/** Binary min-heap on (time, seq). Items are queued at most once (hidx tracks where). */
export class EventHeap {
  private readonly items: HeapItem[] = [];

  get size(): number {
    return this.items.length;
  }

  /** Time of the earliest item, or +Infinity when empty. */
  minTime(): number {
    return this.items.length > 0 ? this.items[0].time : Infinity;
  }

  push(it: HeapItem): void {
    const a = this.items;
    let i = a.length;
    a.push(it);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = a[p];
      if (q.time < it.time || (q.time === it.time && q.seq < it.seq)) break;
      a[i] = q;
      q.hidx = i;
      i = p;
    }
    a[i] = it;
    it.hidx = i;
  }

  pop(): HeapItem | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) this.siftDown(last, 0);
    top.hidx = -1;
    return top;
  }

  remove(it: HeapItem): void {
    const i = it.hidx;
    if (i < 0) return;
    const a = this.items;
    const last = a.pop()!;
    it.hidx = -1;
    if (i === a.length) return;
    this.siftDown(last, i);
    // it may also need to move up
    let j = last.hidx;
    while (j > 0) {
      const p = (j - 1) >> 1;
      const q = a[p];
      if (q.time < last.time || (q.time === last.time && q.seq < last.seq)) break;
      a[j] = q;
      q.hidx = j;
      j = p;
    }
    a[j] = last;
    last.hidx = j;
  }

  private siftDown(it: HeapItem, i: number): void {
    const a = this.items;
    const n = a.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && (a[r].time < a[c].time || (a[r].time === a[c].time && a[r].seq < a[c].seq))) c = r;
      const ch = a[c];
      if (it.time < ch.time || (it.time === ch.time && it.seq < ch.seq)) break;
      a[i] = ch;
      ch.hidx = i;
      i = c;
    }
    a[i] = it;
    it.hidx = i;
  }
}
