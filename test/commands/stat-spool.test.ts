import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { IntervalSpool, snapshot } from '../../src/commands/stat-spool.js';
import { MAX_INTERVAL_COUNTS } from '../../src/config/limits.js';
import { UsageError } from '../../src/errors.js';
import type { CountsView } from '../../src/sim/results.js';
import { spfperf } from '../helpers/cli.js';

/** Counts that differ by id, thread and tick, for `nthreads` threads. */
function counts(tick: number, nthreads: number): CountsView {
  return {
    nthreads,
    total: (id) => 1000 * tick + id + 0.5,
    of: (idx, id) => tick * 100 + idx * 10 + id,
  };
}

const IDS = [0, 3, 7];
const leftovers = (): string[] => readdirSync(tmpdir()).filter((f) => f.startsWith('spfperf-intervals-'));

describe('IntervalSpool: stat -I\'s counts on disk, one interval in memory at a time', () => {
  it('gives back every tick\'s counts, per thread too, in order, as snapshot() would; threads not there yet count 0', () => {
    const before = leftovers().length;
    const spool = new IntervalSpool(IDS, true);
    // Threads appear as the run goes: 1, then 3, then 5.
    const ticks = [1, 3, 5].map((n, i) => ({ t: (i + 1) * 1e6, c: counts(i + 1, n) }));
    for (const { t, c } of ticks) spool.add(t, c);
    expect(spool.length).toBe(3);
    // The file is unlinked as soon as it is opened: nothing to clean up, even after a crash.
    expect(leftovers().length).toBe(before);
    const back = [...spool.snapshots()];
    expect(back.map((s) => [s.timeNs, s.nthreads])).toEqual([[1e6, 1], [2e6, 3], [3e6, 5]]);
    for (const [i, s] of back.entries()) {
      const want = snapshot(ticks[i].c, IDS, ticks[i].t, ticks[i].c.nthreads, true);
      for (const id of [...IDS, 5]) {
        expect(s.get(id)).toBe(want.get(id));
        for (let idx = 0; idx < 6; idx++) expect(s.get(id, idx), `${i} ${id} ${idx}`).toBe(want.get(id, idx));
      }
    }
    expect(back[0].get(3, 2)).toBe(0);
    expect(back[2].get(3, 2)).toBe(323);
    expect(back[1].get(7)).toBe(2007.5);
    // Read twice: the same.
    expect([...spool.snapshots()].map((s) => s.get(7, 1))).toEqual([0, 217, 317]);
    spool.dispose();
  });

  it('without --per-thread keeps totals only', () => {
    const spool = new IntervalSpool(IDS, false);
    spool.add(5, counts(1, 4));
    const [s] = [...spool.snapshots()];
    expect(s.get(3)).toBe(1003.5);
    expect(s.get(3, 1)).toBe(0);
    spool.dispose();
  });

  it('refuses to keep more than its limit of counts, naming it (exit 1)', () => {
    const spool = new IntervalSpool(IDS, true, 100);
    for (let i = 0; i < 8; i++) spool.add(i, counts(i, 3)); // 12 counts a tick: 96
    expect(() => spool.add(9, counts(9, 3))).toThrow(UsageError);
    expect(() => spool.add(9, counts(9, 3))).toThrow(/^option '-I': the intervals would keep more than 100 counts \(.* GiB\) in their temporary file \(intervals x events x threads\), spfperf's limit \(docs\/model\.md#limits\): give a longer interval or drop --per-thread$/);
    spool.dispose();
  });

  it('its default limit is MAX_INTERVAL_COUNTS (1 GiB of counts), far above what the old in-memory limit (2^22) allowed', () => {
    const spool = new IntervalSpool([0], true);
    // One tick of 2^22 threads: more than the old limit at once, read back whole.
    spool.add(1, counts(1, 1 << 22));
    expect([...spool.snapshots()][0].get(0, (1 << 22) - 1)).toBe(100 + ((1 << 22) - 1) * 10);
    expect(MAX_INTERVAL_COUNTS * 8).toBe(2 ** 30);
    spool.dispose();
  });
});

describe('stat -I with its spool', () => {
  it('-I --per-thread -o FILE writes the same intervals as to stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-spool-'));
    const args = ['stat', '-I', '0.5', '--per-thread', '-x,', '-e', 'faults', '--cpus', '2', 'ebizzy', 'threads=3', 'seconds=0.002s'];
    const a = await spfperf(args);
    const b = await spfperf([...args.slice(0, 1), '-o', join(dir, 'out.csv'), ...args.slice(1)]);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.stderr.split('\n').length).toBeGreaterThan(10);
    expect(readFileSync(join(dir, 'out.csv'), 'utf8')).toBe(a.stderr);
  });

  it('a temporary directory that cannot be written: one line naming it, exit 1', async () => {
    const old = process.env.TMPDIR;
    process.env.TMPDIR = '/nonexistent/spfperf-tmp';
    try {
      const r = await spfperf(['stat', '-I', '1', '-e', 'faults', '--cpus', '2', 'ebizzy', 'threads=2', 'seconds=0.002s']);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe("spfperf: option '-I': cannot write the intervals' temporary file in '/nonexistent/spfperf-tmp': No such file or directory\n");
    } finally {
      if (old === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = old;
    }
  });
});
