import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { formatLineTransfers, formatLockContention, lockTime, lockTypeName, lockTypeStr, sortLockRows, type LockRow } from '../../src/format/lock-contention.js';
import { LCB_F_MUTEX, LCB_F_READ, LCB_F_SPIN, LCB_F_WRITE } from '../../src/engine/lockstat.js';

/** What perf lock contention printed (fixtures/golden/perf-6.1/lock-contention.txt, a copy of shared/perf-captures). */
const CAPTURE = readFileSync(join(ROOT, 'fixtures', 'golden', 'perf-6.1', 'lock-contention.txt'), 'utf8');

const row = (name: string, flags: number, contended: number, totalNs: number, maxNs: number, extra: Partial<LockRow> = {}): LockRow => ({ name, flags, contended, totalNs, maxNs, minNs: 0, ...extra });

describe("perf lock contention's layout (lock-contention.txt)", () => {
  it('reproduces the capture byte for byte', () => {
    // The capture's figures are rounded; these totals are ones that print as it does (perf's
    // average is the whole-ns total divided by the count: 45332700 / 105 = 431740 ns).
    const rows = [
      row('exc_page_fault+0x1d8', LCB_F_READ, 105, 45_332_700, 5_890_000),
      row('__x64_sys_munmap+0x17', LCB_F_WRITE, 2, 4_632_000, 3_980_000),
      row('do_syscall_64+0x71', LCB_F_WRITE, 4, 3_218_840, 1_620_000),
    ];
    // Given in another order: sorted on the total wait, perf's default key.
    const out = formatLockContention({ aggr: 'caller', rows: [rows[2], rows[0], rows[1]], sort: 'wait_total', entries: Infinity, lines: null });
    expect(out).toBe(CAPTURE);
  });

  it('prints a wait in its unit as lock_stat_key_print_time() does', () => {
    expect(lockTime(0, 12)).toBe('        0 ns');
    expect(lockTime(999.9, 12)).toBe('      999 ns'); // whole ns, as perf's u64
    expect(lockTime(1000, 12)).toBe('     1.00 us');
    expect(lockTime(431_740, 12)).toBe('   431.74 us');
    expect(lockTime(1_170_000_000, 12)).toBe('     1.17 s ');
    expect(lockTime(90e9, 12)).toBe('     1.50 m ');
    expect(lockTime(7200e9, 12)).toBe('     2.00 h ');
  });

  it('names the types as lock_type_table[] does', () => {
    expect([LCB_F_READ, LCB_F_WRITE, LCB_F_SPIN, LCB_F_SPIN | LCB_F_READ, LCB_F_SPIN | LCB_F_WRITE, LCB_F_MUTEX, 0].map(lockTypeStr)).toEqual(['rwsem:R', 'rwsem:W', 'spinlock', 'rwlock:R', 'rwlock:W', 'mutex', 'semaphore']);
    expect([LCB_F_READ, LCB_F_SPIN | LCB_F_WRITE, LCB_F_SPIN].map(lockTypeName)).toEqual(['rwsem', 'rwlock', 'spinlock']);
  });

  it('sorts on each key, largest first, ties in first-contended order; -E cuts; a zero total is not printed', () => {
    const rows = [row('a', LCB_F_SPIN, 10, 1000, 300), row('b', LCB_F_SPIN, 2, 5000, 4000), row('c', LCB_F_SPIN, 10, 3000, 300), row('z', LCB_F_SPIN, 1, 0.4, 0.4)];
    const names = (k: Parameters<typeof sortLockRows>[1]): string => sortLockRows(rows, k).map((r) => r.name).join('');
    expect(names('wait_total')).toBe('bcaz');
    expect(names('contended')).toBe('acbz');
    expect(names('wait_max')).toBe('bacz');
    expect(names('avg_wait')).toBe('bcaz');
    const text = (entries: number): string[] =>
      formatLockContention({ aggr: 'caller', rows, sort: 'contended', entries, lines: null })
        .split('\n')
        .slice(2, -1)
        .map((l) => l.trim().split(/\s+/).pop()!);
    expect(text(Infinity)).toEqual(['a', 'c', 'b']); // z: 0.4 ns is 0 whole ns
    expect(text(2)).toEqual(['a', 'c']);
    expect(text(0)).toEqual([]);
  });

  it('-F: the keys asked for, in their order, the sort key added at the end if missing (perf\'s select_key())', () => {
    const rows = [row('f', LCB_F_READ, 2, 3000, 2000, { minNs: 1000 })];
    expect(formatLockContention({ aggr: 'caller', rows, sort: 'wait_total', entries: Infinity, fields: ['wait_min', 'contended'], lines: null })).toBe(
      '    min wait  contended   total wait         type   caller\n\n     1.00 us          2      3.00 us      rwsem:R   f\n',
    );
  });

  it('by lock (-l): address, name and kind; by task (-t): tid and comm', () => {
    const l = formatLockContention({ aggr: 'addr', rows: [row('mmap_lock', LCB_F_READ, 3, 3000, 2000, { addr: 'ffff888100100000' })], sort: 'wait_total', entries: Infinity, lines: null });
    expect(l).toBe(' contended   total wait     max wait     avg wait            address   symbol\n\n         3      3.00 us      2.00 us      1.00 us   ffff888100100000   mmap_lock (rwsem)\n');
    const t = formatLockContention({ aggr: 'task', rows: [row('ebizzy', LCB_F_READ, 1, 500, 500, { tid: 1001 })], sort: 'wait_total', entries: Infinity, lines: null });
    expect(t).toBe(' contended   total wait     max wait     avg wait          pid   comm\n\n         1       500 ns       500 ns       500 ns         1001   ebizzy\n');
  });

  it('the cache-line table follows, after a blank line, in the same key layout', () => {
    const lines = [
      { name: 'ptl', transfers: 10, waitNs: 700, queuedNs: 0, maxNs: 90 },
      { name: 'mmap_lock', transfers: 4, waitNs: 2_000_000, queuedNs: 1_500_000, maxNs: 900_000 },
      { name: 'idle', transfers: 0, waitNs: 0, queuedNs: 0, maxNs: 0 },
    ];
    expect(formatLineTransfers(lines, 'wait_total', Infinity)).toBe(
      '\n transfers   total wait     max wait     avg wait       queued   line\n\n' +
        '         4      2.00 ms    900.00 us    500.00 us      1.50 ms   mmap_lock\n' +
        '        10       700 ns        90 ns        70 ns         0 ns   ptl\n',
    );
    expect(formatLineTransfers(lines, 'contended', 1).split('\n')[3]).toMatch(/ ptl$/);
    const all = formatLockContention({ aggr: 'caller', rows: [], sort: 'wait_total', entries: Infinity, lines });
    expect(all.startsWith(' contended   total wait     max wait     avg wait         type   caller\n\n\n transfers')).toBe(true);
  });
});
