import { describe, expect, it } from 'vitest';
import { EventHeap, type HeapItem } from '../../src/engine/heap.js';
import { Rng } from '../../src/engine/rng.js';

interface Item extends HeapItem {
  name: string;
}

let seqNo = 0;
function item(name: string, time: number, seq = seqNo++): Item {
  return { name, time, seq, removed: false, fire() {} };
}

const byKey = (x: Item, y: Item) => x.time - y.time || x.seq - y.seq;

/** What the queue should hold, kept in a plain array: the reference the random tests check against. */
class Reference {
  live: Item[] = [];
  add(it: Item): void {
    this.live.push(it);
  }
  /** remove() a queued item drawn at random, from both. */
  removeOne(h: EventHeap, rng: Rng): void {
    const victim = this.live[rng.int(this.live.length)];
    h.remove(victim);
    this.live = this.live.filter((x) => x !== victim);
  }
  /** The item that should come out next, taken out. */
  takeFirst(): Item {
    this.live.sort(byKey);
    return this.live.shift()!;
  }
  /** Fail unless the queue's minTime() is the reference's. */
  check(h: EventHeap, step: number): void {
    if (h.minTime() !== (this.live.length === 0 ? Infinity : Math.min(...this.live.map((x) => x.time)))) expect.fail(`queue out of step at step ${step}`);
  }
  /** The names left, in order. */
  names(): string[] {
    return [...this.live].sort(byKey).map((x) => x.name);
  }
}

function drain(h: EventHeap): string[] {
  const out: string[] = [];
  for (let it = h.pop(); it !== undefined; it = h.pop()) out.push((it as Item).name);
  return out;
}

describe('EventHeap', () => {
  it('is empty at first', () => {
    const h = new EventHeap();
    expect(h.size).toBe(0);
    expect(h.minTime()).toBe(Infinity);
    expect(h.pop()).toBeUndefined();
  });

  it('pops in time order', () => {
    const h = new EventHeap();
    for (const [n, t] of [['e', 50], ['a', 10], ['d', 40], ['b', 20], ['c', 30]] as const) h.push(item(n, t));
    expect(h.size).toBe(5);
    expect(h.minTime()).toBe(10);
    expect(drain(h)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(h.size).toBe(0);
  });

  it('breaks ties on seq: equal times come out in insertion (FIFO) order', () => {
    const h = new EventHeap();
    h.push(item('x1', 5, 1));
    h.push(item('y', 1, 2));
    h.push(item('x2', 5, 3));
    h.push(item('x0', 5, 0));
    h.push(item('x3', 5, 4));
    expect(drain(h)).toEqual(['y', 'x0', 'x1', 'x2', 'x3']);
  });

  it('keeps FIFO order among many equal times', () => {
    const h = new EventHeap();
    const names = Array.from({ length: 50 }, (_, i) => `n${i}`);
    names.forEach((n, i) => h.push(item(n, 7, i)));
    expect(drain(h)).toEqual(names);
  });

  it('remove() of a middle item leaves the others in order; it is dropped when it reaches the top', () => {
    const h = new EventHeap();
    const items = [10, 20, 30, 40, 50, 60, 70].map((t) => item(`t${t}`, t));
    for (const it of items) h.push(it);
    h.remove(items[3]); // t40: not the top, so marked and kept until it comes up
    expect(h.size).toBe(7);
    expect(drain(h)).toEqual(['t10', 't20', 't30', 't50', 't60', 't70']);
    expect(h.size).toBe(0);
    expect(items[3].removed).toBe(false); // dropped, and no longer marked
  });

  it('minTime() is never the time of a removed item', () => {
    const h = new EventHeap();
    const a = item('a', 1);
    const b = item('b', 2);
    const c = item('c', 3);
    for (const it of [a, b, c]) h.push(it);
    h.remove(b);
    h.remove(a); // the top: out at once, and b behind it too
    expect(h.minTime()).toBe(3);
    expect(h.size).toBe(1);
    h.remove(c);
    expect(h.minTime()).toBe(Infinity);
    expect(h.pop()).toBeUndefined();
  });

  it('pushPop() drops removed items that come to the top', () => {
    const h = new EventHeap();
    const a = item('a', 1, 1);
    const b = item('b', 2, 2);
    h.push(a);
    h.push(b);
    h.push(item('c', 9, 3));
    h.remove(b);
    expect((h.pushPop(item('d', 5, 4)) as Item).name).toBe('a');
    expect(h.minTime()).toBe(5);
    expect(drain(h)).toEqual(['d', 'c']);
  });

  it('a popped item can be pushed again', () => {
    const h = new EventHeap();
    const a = item('a', 5);
    h.push(a);
    expect(h.pop()).toBe(a);
    a.time = 1;
    h.push(a);
    h.push(item('b', 2));
    expect(drain(h)).toEqual(['a', 'b']);
  });

  it('matches a sorted reference under random pushes, pops and removes', () => {
    const rng = new Rng(2024);
    const h = new EventHeap();
    const ref = new Reference();
    let seq = 0;
    for (let step = 0; step < 3000; step++) {
      const op = rng.int(10);
      if (op < 5 || ref.live.length === 0) {
        const it = item(`i${seq}`, rng.int(50), seq++);
        h.push(it);
        ref.add(it);
      } else if (op < 8) ref.removeOne(h, rng);
      else {
        const want = ref.takeFirst();
        expect(h.minTime()).toBe(want.time);
        expect(h.pop()).toBe(want);
      }
      ref.check(h, step);
    }
    expect(drain(h)).toEqual(ref.names());
  });

  it('pushPop() returns the item itself when it comes first, else the top, with the item queued', () => {
    const h = new EventHeap();
    h.push(item('b', 20, 1));
    h.push(item('c', 30, 2));
    const a = item('a', 10, 3);
    expect(h.pushPop(a)).toBe(a);
    expect(h.size).toBe(2);
    const tie = item('b2', 20, 4); // equal time, later seq: b first
    const out = h.pushPop(tie);
    expect((out as Item).name).toBe('b');
    expect(drain(h)).toEqual(['b2', 'c']);
    const alone = item('z', 5, 5);
    expect(h.pushPop(alone)).toBe(alone); // empty heap
    expect(h.size).toBe(0);
  });

  it('matches a sorted reference with pushPop() and hundreds of items (the key arrays grow)', () => {
    const rng = new Rng(7);
    const h = new EventHeap();
    const ref = new Reference();
    let seq = 0;
    for (let step = 0; step < 4000; step++) {
      const op = rng.int(10);
      if (op < 4 || (step < 600 && op < 7) || ref.live.length === 0) {
        const it = item(`i${seq}`, rng.int(1000) + 0.5 * rng.int(2), seq++);
        h.push(it);
        ref.add(it);
      } else if (op < 7) {
        // A popped task syncing: it goes back in later as the next item comes out.
        const it = item(`i${seq}`, rng.int(1000), seq++);
        ref.add(it);
        expect(h.pushPop(it)).toBe(ref.takeFirst());
      } else if (op < 8) ref.removeOne(h, rng);
      else expect(h.pop()).toBe(ref.takeFirst());
      ref.check(h, step);
    }
    expect(ref.live.length).toBeGreaterThan(64);
    expect(drain(h)).toEqual(ref.names());
  });

  it('matches a sorted reference while small (a sorted ring), and across the change to the tree at 33 items', () => {
    const rng = new Rng(99);
    const h = new EventHeap();
    const ref = new Reference();
    let seq = 0;
    let now = 0;
    for (let step = 0; step < 6000; step++) {
      // Hold 10-32 items for most of the run (tasks that sync land near either end), then grow past 32.
      const n = ref.live.length;
      const op = rng.int(10);
      if ((step > 5000 && n < 40) || n < 10 || (op < 2 && n < 32)) {
        const it = item(`i${seq}`, now + rng.int(400), seq++);
        h.push(it);
        ref.add(it);
      } else if (op < 8) {
        const near = rng.int(3);
        const t = near === 0 ? now + rng.int(3) : near === 1 ? now + 300 + rng.int(100) : now + rng.int(400);
        const it = item(`i${seq}`, t, seq++);
        ref.add(it);
        const want = ref.takeFirst();
        expect(h.pushPop(it)).toBe(want);
        now = want.time;
      } else if (op < 9) ref.removeOne(h, rng);
      else {
        const want = ref.takeFirst();
        expect(h.pop()).toBe(want);
        now = want.time;
      }
      ref.check(h, step);
    }
    expect(ref.live.length).toBeGreaterThan(32);
    expect(drain(h)).toEqual(ref.names());
  });
});
