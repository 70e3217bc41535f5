import type { CacheLine } from '../engine/cacheline.js';
import type { File } from './filemap.js';
import type { AnonVma } from './rmap.js';
import { VM_ACCESS_FLAGS, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from './types.js';

/** struct vm_area_struct */
export class Vma {
  anonVma: AnonVma | null = null;
  /** False once removed from the tree (RB_EMPTY_NODE / vma->detached). */
  attached = false;
  /**
   * The page-fault design's per-VMA fields (seqcount, refcount, lock), created on first use. Read
   * and written only through the design's VmaState (src/mm/spf/registry.ts), which types it.
   */
  designState: unknown = null;
  /** When the VMA was freed for good (vm_area_free), or -1: the invariant checks' poison. */
  freedAt = -1;
  constructor(
    readonly id: number,
    public start: number,
    public end: number,
    public flags: number,
    public pgoff: number,
    /** The file mapped, or null for anonymous memory (vma_is_anonymous). */
    readonly file: File | null,
    /** The line holding vm_start/vm_end/vm_flags and the tree node: read by lookups, written by changes. */
    readonly line: CacheLine,
  ) {}

  isAnonymous(): boolean {
    return this.file === null;
  }

  toString(): string {
    return `${this.start.toString(16)}-${this.end.toString(16)} ${protString(this.flags)}${this.flags & VM_SHARED ? 's' : 'p'}`;
  }
}

export function protString(flags: number): string {
  return `${flags & VM_READ ? 'r' : '-'}${flags & VM_WRITE ? 'w' : '-'}${flags & VM_EXEC ? 'x' : '-'}`;
}

export function sameAccess(a: number, b: number): boolean {
  return (a & VM_ACCESS_FLAGS) === (b & VM_ACCESS_FLAGS);
}

/**
 * The ordered set of VMAs of an mm, keyed by address. Stored as a sorted array searched by
 * bisection: lookups are O(log n) and report how many nodes they visited, which is what the
 * cost model charges per level (as an rb-tree or maple-tree walk would); inserts and removals
 * shift the array, which costs host time only.
 */
export class VmaTree {
  private readonly vmas: Vma[] = [];

  get size(): number {
    return this.vmas.length;
  }

  /** Depth of a balanced tree holding the current VMAs (levels written by an insert/erase). */
  depth(): number {
    return Math.max(1, Math.ceil(Math.log2(this.vmas.length + 1)));
  }

  /** Index of the first VMA with end > addr (vmas.length if none). */
  private lowerBound(addr: number, visit?: (v: Vma) => void): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.vmas[mid];
      visit?.(v);
      if (v.end > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** find_vma(): the first VMA with vm_end > addr, or null; `visit` sees each node walked. */
  find(addr: number, visit?: (v: Vma) => void): Vma | null {
    const i = this.lowerBound(addr, visit);
    return i < this.vmas.length ? this.vmas[i] : null;
  }

  /** Nodes walked by the last findReading(), and the latency of the lines it read (ns). */
  walkLevels = 0;
  walkLineNs = 0;

  /**
   * find() with each node's cache line read by `cpu` at `now` as the walk visits it, with no
   * closure per call (the fault path's find_vma()): the levels and the lines' latency are left
   * in walkLevels and walkLineNs.
   */
  findReading(addr: number, cpu: number, now: number): Vma | null {
    const vmas = this.vmas;
    let lo = 0;
    let hi = vmas.length;
    let levels = 0;
    let ns = 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const v = vmas[mid];
      levels++;
      ns += v.line.read(cpu, now);
      if (v.end > addr) hi = mid;
      else lo = mid + 1;
    }
    this.walkLevels = levels;
    this.walkLineNs = ns;
    return lo < vmas.length ? vmas[lo] : null;
  }

  /** The VMA before `v` (vma->vm_prev). */
  prev(v: Vma): Vma | null {
    const i = this.vmas.indexOf(v);
    return i > 0 ? this.vmas[i - 1] : null;
  }

  next(v: Vma): Vma | null {
    const i = this.vmas.indexOf(v);
    return i >= 0 && i + 1 < this.vmas.length ? this.vmas[i + 1] : null;
  }

  /** VMAs overlapping [start, end), in order. */
  range(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.lowerBound(start); i < this.vmas.length && this.vmas[i].start < end; i++) out.push(this.vmas[i]);
    return out;
  }

  insert(v: Vma): void {
    const i = this.lowerBound(v.start);
    this.vmas.splice(i, 0, v);
    v.attached = true;
  }

  remove(v: Vma): void {
    const i = this.vmas.indexOf(v);
    if (i >= 0) this.vmas.splice(i, 1);
    v.attached = false;
  }

  all(): readonly Vma[] {
    return this.vmas;
  }

  /**
   * unmapped_area_topdown(): the highest address below `ceiling` with a free gap of `len`, or -1.
   * Returns also the number of VMAs looked at, for the cost model.
   */
  unmappedAreaTopdown(len: number, floor: number, ceiling: number): number {
    let top = ceiling;
    const first = this.lowerBound(ceiling);
    // A VMA that straddles the ceiling bounds the first gap from above.
    if (first < this.vmas.length && this.vmas[first].start < ceiling) top = this.vmas[first].start;
    for (let i = first - 1; i >= -1; i--) {
      const v = i >= 0 ? this.vmas[i] : null;
      const gapStart = v ? Math.max(v.end, floor) : floor;
      if (v && v.start >= top) continue;
      if (top - gapStart >= len) return top - len;
      if (v === null) break;
      top = Math.min(top, v.start);
    }
    return -1;
  }
}
