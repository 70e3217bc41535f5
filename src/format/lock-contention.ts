/**
 * perf lock contention's layout (tools/perf/builtin-lock.c, perf 6.1), as captured in
 * shared/perf-captures/lock-contention.txt, and the table of cache-line transfers that spfperf
 * prints after it. Pure: data in, string out.
 *
 *  contended   total wait     max wait     avg wait         type   caller
 *
 *        105     45.33 ms      5.89 ms    431.74 us      rwsem:R   exc_page_fault+0x1d8
 *
 * Each key is printed in its width ("%10llu" for a count, a time in "%9.2f %s" with its unit
 * from h, m, s, ms, us, or "%9llu ns" below a microsecond) and a blank; then, by caller,
 * "  %10s   %s" (type, caller); by lock (-l) "  %016llx   %s (%s)" (address, name, lock kind);
 * by task (-t) "  %10d   %s" (tid, comm). Entries whose total wait is 0 are not printed, and -E
 * stops after N entries, as perf does.
 */
import { LCB_F_MUTEX, LCB_F_PERCPU, LCB_F_READ, LCB_F_RT, LCB_F_SPIN, LCB_F_WRITE } from '../engine/lockstat.js';

/** One entry: a caller, a lock or a task, with its waits (ns of simulated time). */
export interface LockRow {
  readonly name: string;
  /** lock:contention_begin's flags: the kind of lock. */
  readonly flags: number;
  /** By lock: its address, 16 hex digits. */
  readonly addr?: string;
  /** By task: its tid. */
  readonly tid?: number;
  readonly contended: number;
  readonly totalNs: number;
  readonly maxNs: number;
  readonly minNs: number;
}

/** One line of the transfers table: every cache line of one name. */
export interface LineRow {
  readonly name: string;
  readonly transfers: number;
  readonly waitNs: number;
  readonly queuedNs: number;
  readonly maxNs: number;
}

/** perf lock contention's sort keys (-k), and spfperf's --sort. */
export const LOCK_SORT_KEYS = ['contended', 'wait_total', 'wait_max', 'wait_min', 'avg_wait'] as const;
export type LockSortKey = (typeof LOCK_SORT_KEYS)[number];
/** perf's default sort key. */
export const LOCK_DEFAULT_SORT: LockSortKey = 'wait_total';

/** How the entries are aggregated: by caller (perf's default), by lock (-l), by task (-t). */
export type LockAggr = 'caller' | 'addr' | 'task';

export interface LockContentionReport {
  readonly aggr: LockAggr;
  readonly rows: readonly LockRow[];
  readonly sort: LockSortKey;
  /** -E: entries printed at most (Infinity: all). */
  readonly entries: number;
  /** -F: the keys printed, in order (default LOCK_DEFAULT_FIELDS). */
  readonly fields?: readonly LockSortKey[];
  /** The transfers table, or null for none. */
  readonly lines: readonly LineRow[] | null;
}

/** lock_type_table[] of builtin-lock.c: flags -> (type as printed by caller, kind as printed by lock). */
const LOCK_TYPES: readonly (readonly [number, string, string])[] = [
  [0, 'semaphore', 'semaphore'],
  [LCB_F_SPIN, 'spinlock', 'spinlock'],
  [LCB_F_SPIN | LCB_F_READ, 'rwlock:R', 'rwlock'],
  [LCB_F_SPIN | LCB_F_WRITE, 'rwlock:W', 'rwlock'],
  [LCB_F_READ, 'rwsem:R', 'rwsem'],
  [LCB_F_WRITE, 'rwsem:W', 'rwsem'],
  [LCB_F_RT, 'rt-mutex', 'rt-mutex'],
  [LCB_F_RT | LCB_F_READ, 'rwlock-rt:R', 'rwlock-rt'],
  [LCB_F_RT | LCB_F_WRITE, 'rwlock-rt:W', 'rwlock-rt'],
  [LCB_F_PERCPU | LCB_F_READ, 'pcpu-sem:R', 'percpu-rwsem'],
  [LCB_F_PERCPU | LCB_F_WRITE, 'pcpu-sem:W', 'percpu-rwsem'],
  [LCB_F_MUTEX, 'mutex', 'mutex'],
  [LCB_F_MUTEX | LCB_F_SPIN, 'mutex', 'mutex'],
];

/** get_type_str(): the type column of the by-caller table (rwsem:R, spinlock, ...). */
export function lockTypeStr(flags: number): string {
  return LOCK_TYPES.find((e) => e[0] === (flags & 0x3f))?.[1] ?? 'unknown';
}

/** get_type_name(): the lock kind of the by-lock table (rwsem, spinlock, rwlock, ...). */
export function lockTypeName(flags: number): string {
  return LOCK_TYPES.find((e) => e[0] === (flags & 0x3f))?.[2] ?? 'unknown';
}

const TIME_UNITS: readonly (readonly [number, string])[] = [
  [1e9 * 3600, 'h '],
  [1e9 * 60, 'm '],
  [1e9, 's '],
  [1e6, 'ms'],
  [1e3, 'us'],
];

/** lock_stat_key_print_time(): a wait in its unit, in `len` characters. perf's waits are whole ns. */
export function lockTime(ns: number, len: number): string {
  const n = Math.floor(ns);
  for (const [base, unit] of TIME_UNITS) if (n >= base) return `${(n / base).toFixed(2).padStart(len - 3)} ${unit}`;
  return `${String(n).padStart(len - 3)} ns`;
}

/** avg_wait_time: the total in whole ns divided by the count, as integers. */
function avgNs(r: { readonly totalNs: number; readonly contended: number }): number {
  return r.contended > 0 ? Math.floor(Math.floor(r.totalNs) / r.contended) : 0;
}

function keyValue(r: LockRow, k: LockSortKey): number {
  switch (k) {
    case 'contended':
      return r.contended;
    case 'wait_total':
      return Math.floor(r.totalNs);
    case 'wait_max':
      return Math.floor(r.maxNs);
    case 'wait_min':
      return r.contended > 0 ? Math.floor(r.minNs) : 0;
    case 'avg_wait':
      return avgNs(r);
  }
}

/** The output keys of perf lock contention (contention_keys[]): header, width, value. */
const KEYS: Readonly<Record<LockSortKey, { readonly header: string; readonly len: number; readonly text: (r: LockRow) => string }>> = {
  contended: { header: 'contended', len: 10, text: (r) => String(r.contended).padStart(10) },
  wait_total: { header: 'total wait', len: 12, text: (r) => lockTime(r.totalNs, 12) },
  wait_max: { header: 'max wait', len: 12, text: (r) => lockTime(r.maxNs, 12) },
  wait_min: { header: 'min wait', len: 12, text: (r) => lockTime(r.contended > 0 ? r.minNs : 0, 12) },
  avg_wait: { header: 'avg wait', len: 12, text: (r) => lockTime(avgNs(r), 12) },
};

/** The keys perf 6.1 prints without -F (wait_min came later, as a key -F may ask for). */
export const LOCK_DEFAULT_FIELDS: readonly LockSortKey[] = ['contended', 'wait_total', 'wait_max', 'avg_wait'];

/** -F's keys, with the sort key added at the end when it is not among them (perf's select_key()). */
export function lockFields(fields: readonly LockSortKey[], sort: LockSortKey): LockSortKey[] {
  return fields.includes(sort) ? [...fields] : [...fields, sort];
}

/** Rows sorted on `key`, largest first; ties keep their order (the order in which they were first contended). */
export function sortLockRows<T extends LockRow>(rows: readonly T[], key: LockSortKey): T[] {
  return rows
    .map((r, i) => ({ r, i, v: keyValue(r, key) }))
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .map((x) => x.r);
}

function tail(aggr: LockAggr, r: LockRow): string {
  switch (aggr) {
    case 'caller':
      return `  ${lockTypeStr(r.flags).padStart(10)}   ${r.name}`;
    case 'addr':
      return `  ${(r.addr ?? '0').padStart(16, '0')}   ${r.name} (${lockTypeName(r.flags)})`;
    case 'task':
      return `  ${String(r.tid ?? -1).padStart(10)}   ${r.name}`;
  }
}

const TAIL_HEADER: Record<LockAggr, string> = {
  caller: `  ${'type'.padStart(10)}   caller`,
  addr: `  ${'address'.padStart(16)}   symbol`,
  task: `  ${'pid'.padStart(10)}   comm`,
};

/** print_contention_result(): the header, a blank line, then the entries. */
export function formatLockContention(rep: LockContentionReport): string {
  const keys = lockFields(rep.fields ?? LOCK_DEFAULT_FIELDS, rep.sort).map((f) => KEYS[f]);
  let out = keys.map((k) => `${k.header.padStart(k.len)} `).join('') + TAIL_HEADER[rep.aggr] + '\n\n';
  let printed = 0;
  for (const r of sortLockRows(rep.rows, rep.sort)) {
    if (printed >= rep.entries) break;
    if (Math.floor(r.totalNs) === 0) continue;
    out += keys.map((k) => `${k.text(r)} `).join('') + tail(rep.aggr, r) + '\n';
    printed++;
  }
  if (rep.lines !== null) out += formatLineTransfers(rep.lines, rep.sort, rep.entries);
  return out;
}

/** The line table's sort: perf's keys read as transfers (contended) and the waits of the transfers. */
function lineKey(l: LineRow, k: LockSortKey): number {
  switch (k) {
    case 'contended':
      return l.transfers;
    case 'wait_total':
      return Math.floor(l.waitNs);
    case 'wait_max':
      return Math.floor(l.maxNs);
    case 'wait_min':
      return Math.floor(l.queuedNs);
    case 'avg_wait':
      return Math.floor(Math.floor(l.waitNs) / l.transfers);
  }
}

/**
 * spfperf's own second table, in the same key layout: per cache line (every line of one name),
 * the transfers it caused, the time its requesters waited for them (total, longest, average),
 * and of that total the time spent queued behind other transfers of the line. Sorted on the same
 * key (contended: transfers; wait_min: queued).
 */
export function formatLineTransfers(lines: readonly LineRow[], sort: LockSortKey, entries: number): string {
  const cols = [
    ['transfers', 10],
    ['total wait', 12],
    ['max wait', 12],
    ['avg wait', 12],
    ['queued', 12],
  ] as const;
  let out = '\n' + cols.map(([h, w]) => `${h.padStart(w)} `).join('') + '  line\n\n';
  const sorted = lines
    .map((l, i) => ({ l, i, v: lineKey(l, sort) }))
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .map((x) => x.l)
    .filter((l) => l.transfers > 0)
    .slice(0, entries);
  for (const l of sorted) {
    const avg = Math.floor(Math.floor(l.waitNs) / l.transfers);
    out += `${String(l.transfers).padStart(10)} ${lockTime(l.waitNs, 12)} ${lockTime(l.maxNs, 12)} ${lockTime(avg, 12)} ${lockTime(l.queuedNs, 12)}   ${l.name}\n`;
  }
  return out;
}
