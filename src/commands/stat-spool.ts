/**
 * `stat -I`'s interval snapshots, kept on disk while the run goes (stat-runs.ts writes one at
 * each tick) and read back one at a time when the intervals are printed (stat.ts), so memory
 * holds one interval's counts however many intervals and threads there are: it grows with the
 * simulated state, not with the output.
 *
 * Why not print each interval at its tick: every interval carries the same rows (docs/stat.md,
 * the interval contract), with --per-thread every thread of the run, including those not
 * started yet, and without it the workload's whole-run metric; neither is known before the run
 * ends. So the counts wait on disk, 8 bytes a count (a printed row takes 60-120 bytes), in a file
 * that is unlinked as soon as it is opened: nothing is left behind, however the process ends.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_INTERVAL_COUNTS } from '../config/limits.js';
import { errnoText, UsageError } from '../errors.js';
import type { CountsView } from '../sim/results.js';

/** Counts of every id at one moment (per thread index, below `nthreads`, with --per-thread). */
export interface Snapshot {
  readonly timeNs: number;
  readonly nthreads: number;
  readonly get: (id: number, idx?: number) => number;
}

/** A snapshot of `ids` held in one array: [total per id..., per thread idx: per id...]. */
function arraySnapshot(ids: readonly number[], timeNs: number, nthreads: number, values: Float64Array, offset: number, perThread: boolean): Snapshot {
  const col = new Map<number, number>(ids.map((id, j) => [id, j]));
  const k = ids.length;
  return {
    timeNs,
    nthreads,
    get: (id, idx) => {
      const j = col.get(id);
      if (j === undefined) return 0;
      if (idx === undefined) return values[offset + j];
      return perThread && idx < nthreads ? values[offset + k + idx * k + j] : 0;
    },
  };
}

/** The counts of `ids` now, as a snapshot (per thread too with `perThread`). */
export function snapshot(counts: Pick<CountsView, 'total' | 'of'>, ids: readonly number[], timeNs: number, nthreads: number, perThread: boolean): Snapshot {
  return arraySnapshot(ids, timeNs, nthreads, record(counts, ids, timeNs, nthreads, perThread), 2, perThread);
}

/** One spool record: [timeNs, nthreads, totals..., per thread...]. */
function record(counts: Pick<CountsView, 'total' | 'of'>, ids: readonly number[], timeNs: number, nthreads: number, perThread: boolean): Float64Array {
  const k = ids.length;
  const rec = new Float64Array(2 + k * (1 + (perThread ? nthreads : 0)));
  rec[0] = timeNs;
  rec[1] = nthreads;
  for (let j = 0; j < k; j++) rec[2 + j] = counts.total(ids[j]);
  if (perThread) for (let i = 0; i < nthreads; i++) for (let j = 0; j < k; j++) rec[2 + k + i * k + j] = counts.of(i, ids[j]);
  return rec;
}

/** The snapshots of one run's ticks, on disk in the order they came. */
export class IntervalSpool {
  private fd = -1;
  private bytes = 0;
  private counts = 0;
  /** Where the spool file was made (for the message of a write that fails). */
  private where = '';

  /** `maxCounts`: the most counts it takes (MAX_INTERVAL_COUNTS), a bound on its disk space. */
  constructor(
    private readonly ids: readonly number[],
    private readonly perThread: boolean,
    private readonly maxCounts = MAX_INTERVAL_COUNTS,
  ) {}

  /** Snapshots written so far. */
  length = 0;

  /** Keep the counts at a tick. */
  add(timeNs: number, c: CountsView): void {
    const rec = record(c, this.ids, timeNs, c.nthreads, this.perThread);
    this.counts += rec.length - 2;
    if (this.counts > this.maxCounts) {
      throw new UsageError(`option '-I': the intervals would keep more than ${this.maxCounts} counts (${(this.maxCounts * 8) / 2 ** 30} GiB) in their temporary file (intervals x events${this.perThread ? ' x threads' : ''}), spfperf's limit (docs/model.md#limits): give a longer interval${this.perThread ? ' or drop --per-thread' : ''}`);
    }
    try {
      if (this.fd < 0) this.open();
      const buf = new Uint8Array(rec.buffer);
      let off = 0;
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off, this.bytes + off);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`option '-I': cannot write the intervals' temporary file in '${this.where}': ${errnoText(e as NodeJS.ErrnoException)}`);
    }
    this.bytes += rec.byteLength;
    this.length++;
  }

  /** A file in the temporary directory, unlinked at once: it goes when the descriptor is closed. */
  private open(): void {
    this.where = tmpdir();
    const dir = mkdtempSync(join(this.where, 'spfperf-intervals-'));
    const file = join(dir, 'counts');
    this.fd = openSync(file, 'w+');
    unlinkSync(file);
    rmdirSync(dir);
  }

  /** The snapshots, read back one at a time in the order they were added. */
  *snapshots(): Generator<Snapshot> {
    let pos = 0;
    const head = new Float64Array(2);
    while (pos < this.bytes) {
      this.readAt(new Uint8Array(head.buffer), pos);
      const n = head[1];
      const values = new Float64Array(2 + this.ids.length * (1 + (this.perThread ? n : 0)));
      this.readAt(new Uint8Array(values.buffer), pos);
      pos += values.byteLength;
      yield arraySnapshot(this.ids, values[0], n, values, 2, this.perThread);
    }
  }

  private readAt(buf: Uint8Array, pos: number): void {
    let off = 0;
    while (off < buf.length) {
      const got = readSync(this.fd, buf, off, buf.length - off, pos + off);
      if (got === 0) throw new Error('IntervalSpool: the temporary file ended early');
      off += got;
    }
  }

  /** Close (and so remove) the file. */
  dispose(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
