import { SYNC, type Code, type Engine, type Task } from './engine.js';
import type { CacheLine } from './cacheline.js';

/**
 * The kernel's lock-free shared words on the engine: seqcount_t and atomic_t. Like the locks
 * (locks.ts, which re-exports them), every operation syncs first, then pays for its access to the
 * word's cache line.
 */

/**
 * seqcount_t: writers make the count odd while they change the data it guards.
 *
 * Each operation has a generator form (syncs, then acts) and a `...Now` form for hot paths that
 * have just synced themselves (`if (t.mustSync()) yield SYNC; seq.readNow(t)`): the same step
 * without a generator object per call (npm run bench: the speculative fault paths call these
 * several times per fault).
 */
export class SeqCount {
  seq = 0;
  readonly line: CacheLine;
  constructor(eng: Engine, readonly name: string) {
    this.line = eng.line(name);
  }
  /** write_seqcount_begin() */
  *writeBegin(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.writeNow(t);
  }
  /** write_seqcount_end() */
  *writeEnd(t: Task): Code {
    if (t.mustSync()) yield SYNC;
    this.writeNow(t);
  }
  /** The count's increment of write_seqcount_begin()/_end(), for a task that has synced. */
  writeNow(t: Task): void {
    this.line.writeBy(t);
    this.seq++;
  }
  /** raw_read_seqcount(): the current count (odd while a writer is inside). */
  *read(t: Task): Code<number> {
    if (t.mustSync()) yield SYNC;
    return this.readNow(t);
  }
  /** raw_read_seqcount() for a task that has synced. */
  readNow(t: Task): number {
    this.line.readBy(t);
    return this.seq;
  }
  /** read_seqcount_retry(): true if the count moved since `start` was read. */
  *retry(t: Task, start: number): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    return this.readNow(t) !== start;
  }
}

/** atomic_t / refcount_t on its own cache line (`...Now` forms as SeqCount's). */
export class Atomic {
  readonly line: CacheLine;
  constructor(
    eng: Engine,
    readonly name: string,
    public value = 0,
  ) {
    this.line = eng.line(name);
  }
  /** atomic_add_return() */
  *add(t: Task, d: number): Code<number> {
    if (t.mustSync()) yield SYNC;
    return this.addNow(t, d);
  }
  /** atomic_add_return() for a task that has synced. */
  addNow(t: Task, d: number): number {
    this.line.writeBy(t);
    this.value += d;
    return this.value;
  }
  /** atomic_inc_not_zero(): false (and no change) if the value was 0. */
  *incNotZero(t: Task): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    this.line.writeBy(t);
    if (this.value === 0) return false;
    this.value++;
    return true;
  }
  /** atomic_dec_and_test(): true if the value dropped to 0. */
  *decAndTest(t: Task): Code<boolean> {
    if (t.mustSync()) yield SYNC;
    return this.addNow(t, -1) === 0;
  }
  /** atomic_read() */
  *read(t: Task): Code<number> {
    if (t.mustSync()) yield SYNC;
    this.line.readBy(t);
    return this.value;
  }
}
