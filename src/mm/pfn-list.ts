/**
 * A list of page frames used as a stack (the buddy free list, a per-CPU list, an mmu_gather's
 * pages): frame numbers in a typed array that grows by doubling and never shrinks. A JS array of
 * the same numbers is trimmed by V8 when it empties and grown again when it fills, each time a new
 * backing store: C6 (192 threads unmapping 128 MiB each) spent most of the simulator's own page
 * faults there (docs/performance.md, "Lists of frames that keep their memory").
 */
export class PfnList {
  private buf: Int32Array;
  /** How many frames it holds. */
  private n = 0;
  constructor(capacity = 64) {
    this.buf = new Int32Array(capacity);
  }
  get length(): number {
    return this.n;
  }
  push(pfn: number): void {
    if (this.n === this.buf.length) {
      const b = new Int32Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = pfn;
  }
  /** The last frame pushed, taken off; -1 when empty. */
  pop(): number {
    return this.n === 0 ? -1 : this.buf[--this.n];
  }
  /** Empty it, keeping its memory. */
  clear(): void {
    this.n = 0;
  }
  at(i: number): number {
    return this.buf[i];
  }
  /** Move the first `n` frames (the oldest), in order, to the end of `to`; the rest move down. */
  moveFirst(n: number, to: PfnList): void {
    n = Math.min(n, this.n);
    for (let i = 0; i < n; i++) to.push(this.buf[i]);
    this.buf.copyWithin(0, n, this.n);
    this.n -= n;
  }
  /** Every frame, in order (for tests). */
  toArray(): number[] {
    return Array.from(this.buf.subarray(0, this.n));
  }
}
