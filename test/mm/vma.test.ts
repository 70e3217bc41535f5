/** VmaTree (src/mm/vma.ts): the ordered VMA set behind find_vma, range walks and gap search. */
import { describe, expect, test } from 'vitest';
import type { CacheLine } from '../../src/engine/cacheline.js';
import { protString, sameAccess, Vma, VmaTree } from '../../src/mm/vma.js';
import { VM_EXEC, VM_MAYREAD, VM_READ, VM_SHARED, VM_WRITE } from '../../src/mm/types.js';

const K = 0x1000;
/** The tree never touches a VMA's cache line. */
const NO_LINE = null as unknown as CacheLine;
let ids = 1;

function vma(start: number, end: number, flags = VM_READ | VM_WRITE): Vma {
  return new Vma(ids++, start, end, flags, start / K, null, NO_LINE);
}

/** A tree of the given [start, end) ranges, inserted in the given order. */
function tree(...ranges: [number, number][]): { t: VmaTree; v: Vma[] } {
  const t = new VmaTree();
  const v = ranges.map(([s, e]) => vma(s, e));
  for (const x of v) t.insert(x);
  return { t, v };
}

const starts = (vs: readonly Vma[]): number[] => vs.map((x) => x.start);

describe('find', () => {
  // [0x10000, 0x20000) [0x30000, 0x40000) [0x40000, 0x48000)
  const { t, v } = tree([0x30000, 0x40000], [0x10000, 0x20000], [0x40000, 0x48000]);
  const [b, a, c] = v;

  test('returns the first VMA with end > addr', () => {
    expect(t.find(0)).toBe(a);
    expect(t.find(0x10000)).toBe(a);
    expect(t.find(0x1ffff)).toBe(a);
    // In a gap: the VMA above (find_vma does not require addr >= vm_start).
    expect(t.find(0x20000)).toBe(b);
    expect(t.find(0x2ffff)).toBe(b);
    expect(t.find(0x3ffff)).toBe(b);
    // end is exclusive: the next VMA, even when adjacent.
    expect(t.find(0x40000)).toBe(c);
    expect(t.find(0x47fff)).toBe(c);
    expect(t.find(0x48000)).toBeNull();
    expect(t.find(2 ** 47)).toBeNull();
  });

  test('findReading() finds what find() finds, reading the lines of the nodes find() visits', () => {
    const reads: Vma[] = [];
    const lined = (start: number, end: number): Vma => {
      const x: Vma = new Vma(ids++, start, end, VM_READ | VM_WRITE, start / K, null, {
        read: (cpu: number, now: number) => {
          expect([cpu, now]).toEqual([3, 500]);
          reads.push(x);
          return 10;
        },
      } as unknown as CacheLine);
      return x;
    };
    const lt = new VmaTree();
    for (let i = 0; i < 7; i++) lt.insert(lined(0x10000 * (i + 1), 0x10000 * (i + 1) + 0x8000));
    for (const addr of [0, 0x18000, 0x35000, 0x70000, 0x78000, 0x90000]) {
      const visited: Vma[] = [];
      const want = lt.find(addr, (x) => visited.push(x));
      reads.length = 0;
      expect(lt.findReading(addr, 3, 500)).toBe(want);
      expect(reads).toEqual(visited);
      expect(lt.walkLevels).toBe(visited.length);
      expect(lt.walkLineNs).toBe(10 * visited.length);
    }
  });

  test('an empty tree finds nothing', () => {
    expect(new VmaTree().find(0x1000)).toBeNull();
    expect(new VmaTree().range(0, 2 ** 47)).toEqual([]);
  });

  test('visits O(log n) nodes: at most 11 with 1024 VMAs', () => {
    const big = new VmaTree();
    // Inserted out of order, with gaps: VMA i is [i * 0x10000, i * 0x10000 + 0x8000).
    const order = Array.from({ length: 1024 }, (_, i) => (i * 389) % 1024);
    for (const i of order) big.insert(vma(i * 0x10000, i * 0x10000 + 0x8000));
    expect(big.size).toBe(1024);
    let worst = 0;
    for (let addr = 0; addr < 1024 * 0x10000 + 0x20000; addr += 0x3000) {
      let visits = 0;
      const found = big.find(addr, () => visits++);
      worst = Math.max(worst, visits);
      expect(visits).toBeLessThanOrEqual(11);
      expect(visits).toBeGreaterThanOrEqual(10);
      // And it is still the right answer.
      const i = Math.floor(addr / 0x10000);
      const expected = addr % 0x10000 < 0x8000 ? i : i + 1;
      if (expected < 1024) expect(found?.start).toBe(expected * 0x10000);
      else expect(found).toBeNull();
    }
    expect(worst).toBe(11);
    expect(big.depth()).toBe(11);
  });

  test('the visit callback sees real nodes, each once', () => {
    const { t: t2 } = tree(...Array.from({ length: 64 }, (_, i) => [i * 2 * K, (i * 2 + 1) * K] as [number, number]));
    const seen: Vma[] = [];
    t2.find(37 * K, (n) => seen.push(n));
    expect(new Set(seen).size).toBe(seen.length);
    for (const n of seen) expect(t2.all()).toContain(n);
  });
});

describe('range, insert, remove, prev, next', () => {
  test('range returns the VMAs overlapping [start, end) in order', () => {
    const { t, v } = tree([0x30000, 0x40000], [0x10000, 0x20000], [0x40000, 0x48000], [0x60000, 0x70000]);
    const [b, a, c, d] = v;
    expect(t.range(0, 0x100000)).toEqual([a, b, c, d]);
    expect(t.range(0x20000, 0x30000)).toEqual([]); // exactly the gap
    expect(t.range(0x1ffff, 0x30001)).toEqual([a, b]);
    expect(t.range(0x3f000, 0x41000)).toEqual([b, c]);
    expect(t.range(0x48000, 0x60000)).toEqual([]);
    expect(t.range(0x48000, 0x60001)).toEqual([d]);
    expect(t.range(0x70000, 0x80000)).toEqual([]);
  });

  test('insert keeps address order whatever the insertion order; remove detaches', () => {
    const t = new VmaTree();
    const vs = [5, 1, 9, 3, 7, 0, 8, 2, 6, 4].map((i) => vma(i * 0x10000, i * 0x10000 + K));
    for (const x of vs) {
      expect(x.attached).toBe(false);
      t.insert(x);
      expect(x.attached).toBe(true);
      const s = starts(t.all());
      expect(s).toEqual([...s].sort((p, q) => p - q));
    }
    expect(starts(t.all())).toEqual(Array.from({ length: 10 }, (_, i) => i * 0x10000));
    const victim = t.find(0x30000)!;
    t.remove(victim);
    expect(victim.attached).toBe(false);
    expect(t.size).toBe(9);
    expect(starts(t.all())).not.toContain(0x30000);
    expect(t.find(0x30000)!.start).toBe(0x40000);
    // Removing something not in the tree changes nothing.
    t.remove(victim);
    expect(t.size).toBe(9);
  });

  test('prev and next walk the neighbours; the ends and detached VMAs have none', () => {
    const { t, v } = tree([0x30000, 0x40000], [0x10000, 0x20000], [0x40000, 0x48000]);
    const [b, a, c] = v;
    expect(t.prev(a!)).toBeNull();
    expect(t.next(a!)).toBe(b);
    expect(t.prev(b!)).toBe(a);
    expect(t.next(b!)).toBe(c);
    expect(t.prev(c!)).toBe(b);
    expect(t.next(c!)).toBeNull();
    t.remove(b!);
    expect(t.next(a!)).toBe(c);
    expect(t.prev(c!)).toBe(a);
    expect(t.prev(b!)).toBeNull();
    expect(t.next(b!)).toBeNull();
  });

  test('depth is that of a balanced tree', () => {
    const t = new VmaTree();
    expect(t.depth()).toBe(1);
    t.insert(vma(0, K));
    expect(t.depth()).toBe(1);
    for (let i = 1; i < 7; i++) t.insert(vma(i * 2 * K, (i * 2 + 1) * K));
    expect(t.depth()).toBe(3); // 7 nodes
    t.insert(vma(100 * K, 101 * K));
    expect(t.depth()).toBe(4); // 8 nodes
  });
});

describe('unmappedAreaTopdown', () => {
  // A [0x20000, 0x30000), B [0x50000, 0x60000)
  const { t } = tree([0x50000, 0x60000], [0x20000, 0x30000]);

  test('an empty tree places the mapping right below the ceiling', () => {
    const e = new VmaTree();
    expect(e.unmappedAreaTopdown(0x4000, 0x10000, 0x80000)).toBe(0x7c000);
    expect(e.unmappedAreaTopdown(0x70000, 0x10000, 0x80000)).toBe(0x10000);
    expect(e.unmappedAreaTopdown(0x71000, 0x10000, 0x80000)).toBe(-1);
  });

  test('picks the highest gap below the ceiling that fits', () => {
    expect(t.unmappedAreaTopdown(0x10000, 0, 0x70000)).toBe(0x60000); // above B
    expect(t.unmappedAreaTopdown(0x10001, 0, 0x70000)).toBe(0x50000 - 0x10001); // between A and B
    expect(t.unmappedAreaTopdown(0x18000, 0, 0x70000)).toBe(0x38000);
    expect(t.unmappedAreaTopdown(0x20000, 0, 0x70000)).toBe(0x30000); // exactly the A-B gap
    expect(t.unmappedAreaTopdown(0x20000, 0, 0x60000)).toBe(0x30000);
    expect(t.unmappedAreaTopdown(0x8000, 0, 0x60000)).toBe(0x48000); // ceiling = B's end
    expect(t.unmappedAreaTopdown(0x8000, 0, 0x50000)).toBe(0x48000); // ceiling = B's start
    expect(t.unmappedAreaTopdown(0x20000, 0, 0x20000)).toBe(0); // below A, down to the floor
  });

  test('respects the floor and returns -1 when nothing fits', () => {
    expect(t.unmappedAreaTopdown(0x20001, 0, 0x70000)).toBe(-1);
    expect(t.unmappedAreaTopdown(0x20000, 0x1000, 0x20000)).toBe(-1);
    expect(t.unmappedAreaTopdown(0x1f000, 0x1000, 0x20000)).toBe(0x1000);
    expect(t.unmappedAreaTopdown(0x10000, 0x38000, 0x50000)).toBe(0x40000);
    expect(t.unmappedAreaTopdown(0x18001, 0x38000, 0x50000)).toBe(-1);
  });

  test('a result never overlaps a VMA', () => {
    const { t: big } = tree(...Array.from({ length: 40 }, (_, i) => [0x100000 + i * 0x7000, 0x100000 + i * 0x7000 + 0x3000 + (i % 3) * K] as [number, number]));
    for (let len = K; len <= 0x8000; len += K) {
      const at = big.unmappedAreaTopdown(len, 0x100000, 0x100000 + 40 * 0x7000);
      if (at < 0) continue;
      expect(big.range(at, at + len), `len ${len}`).toEqual([]);
      expect(at).toBeGreaterThanOrEqual(0x100000);
    }
  });

  // Linux's unmapped_area_topdown() ends each gap at the next VMA's vm_start, also when that VMA
  // straddles the ceiling: with B = [0x50000, 0x60000) and ceiling 0x58000 the answer is the
  // A-B gap, not [0x50000, 0x58000) inside B.
  test('a VMA straddling the ceiling bounds the gap below it', () => {
    expect(t.unmappedAreaTopdown(0x8000, 0, 0x58000)).toBe(0x48000);
    expect(t.unmappedAreaTopdown(0x20000, 0, 0x58000)).toBe(0x30000);
    expect(t.unmappedAreaTopdown(0x20001, 0, 0x58000)).toBe(-1);
    expect(t.unmappedAreaTopdown(0x8000, 0, 0x28000)).toBe(0x18000); // straddling A
  });
});

describe('Vma helpers', () => {
  test('toString, protString and sameAccess', () => {
    const v = new Vma(1, 0x7000, 0x9000, VM_READ | VM_WRITE | VM_MAYREAD, 7, null, NO_LINE);
    expect(v.toString()).toBe('7000-9000 rw-p');
    expect(v.isAnonymous()).toBe(true);
    expect(new Vma(2, 0, K, VM_READ | VM_EXEC | VM_SHARED, 0, 'f', NO_LINE).toString()).toBe('0-1000 r-xs');
    expect(protString(0)).toBe('---');
    expect(sameAccess(VM_READ | VM_MAYREAD, VM_READ)).toBe(true);
    expect(sameAccess(VM_READ, VM_READ | VM_WRITE)).toBe(false);
  });
});
