import { ViolationError } from '../check/violation.js';
import type { Thread } from './kernel.js';

/**
 * Page contents, for the workload's `write` and `expect` statements: the 8-byte words user space
 * wrote, per page frame, and per swap slot for pages written out. Only what was written is kept
 * (a map per page of its written words), so memory grows with the words written, never with the
 * memory mapped; a word never written reads 0, as a cleared page does.
 *
 * The model moves contents where the kernel moves data: a page freed loses them (and one
 * allocated starts cleared: clear_page() in do_anonymous_page(), shmem, THP faults), a COW copies
 * them (wp_page_copy(), do_cow_fault(), copy_user_highpage), pageout() writes them to the swap
 * slot and a swap-in reads them back (swap_readpage), and khugepaged's collapse copies the small
 * pages into the huge one (__collapse_huge_page_copy). A page keeps a note of the kernel function
 * that filled it last, which a wrong read names.
 */

/** Bytes per word of a `write`/`expect` (an unsigned long on the 64-bit arches). */
export const WORD_BYTES = 8;

export class PageContents {
  /** pfn -> word index within the page -> value. */
  private readonly pages = new Map<number, Map<number, number>>();
  /** swap slot -> the words of the page written there. */
  private readonly slots = new Map<number, Map<number, number>>();
  /** pfn -> the kernel function that filled it last, and when. */
  private readonly filled = new Map<number, { readonly fn: string; readonly time: number }>();

  /** The word at `word` of page `pfn`. */
  load(pfn: number, word: number): number {
    return this.pages.get(pfn)?.get(word) ?? 0;
  }

  store(pfn: number, word: number, value: number): void {
    let m = this.pages.get(pfn);
    if (m === undefined) {
      m = new Map();
      this.pages.set(pfn, m);
    }
    if (value === 0) m.delete(word);
    else m.set(word, value);
    if (m.size === 0) this.pages.delete(pfn);
  }

  /** The page goes back to the allocator: its contents are gone. */
  free(pfn: number): void {
    this.pages.delete(pfn);
    this.filled.delete(pfn);
  }

  /** clear_page(): a new page starts zeroed, filled by `fn`. */
  clear(th: Thread, pfn: number, fn: string): void {
    this.pages.delete(pfn);
    this.filled.set(pfn, { fn, time: th.t.clock });
  }

  /** copy_user_highpage(): `to` takes `from`'s words (a COW, a collapse). */
  copy(th: Thread, from: number, to: number, fn: string): void {
    const m = this.pages.get(from);
    if (m === undefined) this.pages.delete(to);
    else this.pages.set(to, new Map(m));
    this.filled.set(to, { fn, time: th.t.clock });
  }

  /** pageout() -> swap_writepage(): the page's words go to its slot. */
  writeSlot(pfn: number, slot: number): void {
    const m = this.pages.get(pfn);
    if (m === undefined) this.slots.delete(slot);
    else this.slots.set(slot, new Map(m));
  }

  /** swap_readpage(): a page read in from `slot` takes the words written there. */
  readSlot(th: Thread, slot: number, pfn: number): void {
    const m = this.slots.get(slot);
    if (m === undefined) this.pages.delete(pfn);
    else this.pages.set(pfn, new Map(m));
    this.filled.set(pfn, { fn: 'swap_readpage', time: th.t.clock });
  }

  /**
   * An `expect` read `got` at `addr` (page `pfn`, word `word`) where `want` was expected: the
   * violation read-sees-last-write, naming the function that filled the page last.
   */
  mismatch(th: Thread, addr: number, pfn: number, want: number, got: number): never {
    const f = this.filled.get(pfn);
    const by = f !== undefined ? `, filled by ${f.fn} at ${Math.round(f.time)} ns` : '';
    throw new ViolationError({
      invariant: 'read-sees-last-write',
      task: `${th.comm}/${th.tid}`,
      fn: f?.fn ?? '',
      addr,
      timeNs: th.t.clock,
      detail: `a read of the word at 0x${addr.toString(16)} saw ${got}, expected ${want} (pfn ${pfn}${by})`,
    });
  }
}
