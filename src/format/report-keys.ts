import { UsageError } from '../errors.js';
import type { TraceSample } from '../trace/ndjson-reader.js';
import { lineOfIp } from '../trace/user-ip.js';

/**
 * The sort keys of `spfperf report`: perf report's own (tools/perf/util/sort.c, as perf 6.1 prints
 * them; `tgid` and `symoff` are keys of perfs newer than 6.1) and spfperf's (`event`, `tid`,
 * `caller`, `vma`).
 *
 * What a simulated sample's `dso` and `sym` are: a tracepoint fires in a kernel function, so the
 * samples of `pagefault:*` (the speculative path's aborts) and `exceptions:*` are kernel samples,
 * `[kernel.kallsyms]`, and their symbol is the function the tracepoint sits in: the abort site's
 * function for `pagefault:*` (its `sym` field, `pte_map_lock+0x4c` -> `[k] pte_map_lock`; the
 * offset is the `symoff` key), `exc_page_fault` for `exceptions:*` (where perf shows them too).
 * Software events (`faults`, `minor-faults`, `spf`, ...) are counted by perf_sw_event() with the
 * user registers of the fault, so perf puts them at the user instruction: a fault sample's `ip`
 * is the workload statement that faulted (src/trace/user-ip.ts), so its dso is the workload's
 * file, as perf's is the program, and its symbol `[.] FILE:LINE`, the statement's line (older
 * traces record no ip: `[unknown]`). They also record how their fault completed: the outcome keys
 * `path`, `retry` and `major` group by it (`N/A` for a sample without the field: a tracepoint's,
 * or an older trace's).
 */

export type SortKey = 'comm' | 'dso' | 'sym' | 'pid' | 'tgid' | 'cpu' | 'symoff' | 'event' | 'tid' | 'caller' | 'vma' | 'path' | 'retry' | 'major';
export const SORT_KEYS: readonly SortKey[] = ['comm', 'dso', 'sym', 'pid', 'tgid', 'cpu', 'symoff', 'event', 'tid', 'caller', 'vma', 'path', 'retry', 'major'];
/** perf's default sort order (util/sort.c default_sort_order). */
export const DEFAULT_SORT = 'comm,dso,sym';
/** Other names a key is known by: perf's full `symbol`, and `command`. */
const KEY_ALIASES: Readonly<Record<string, SortKey>> = { symbol: 'sym', command: 'comm' };

/** Columns that are not keys (perf report -F); `children` and `self` replace `overhead` in a report of call chains with --children. */
export type ValueField = 'overhead' | 'sample' | 'period' | 'children' | 'self';
export type ReportField = ValueField | SortKey;
const VALUE_FIELDS: readonly ValueField[] = ['overhead', 'sample', 'period'];

export interface ColumnDef {
  /** perf's se_header, leading spaces included (they set the column's least width). */
  readonly header: string;
  /** Header right-aligned (and values, unless `valuesLeft`). */
  readonly right: boolean;
  /** perf's thread columns: values "%7d:%-*s" (padded after the comm). */
  readonly valuesLeft?: boolean;
}

export const COLUMNS: Readonly<Record<ReportField, ColumnDef>> = {
  overhead: { header: 'Overhead', right: true },
  children: { header: 'Children', right: true },
  self: { header: '    Self', right: true },
  sample: { header: 'Samples', right: true },
  period: { header: 'Period', right: true },
  event: { header: 'Event', right: false },
  comm: { header: 'Command', right: false },
  dso: { header: 'Shared Object', right: false },
  sym: { header: 'Symbol', right: false },
  symoff: { header: 'Symbol Offset', right: false },
  pid: { header: '    Pid:Command', right: true, valuesLeft: true },
  tid: { header: '    Tid:Command', right: true, valuesLeft: true },
  tgid: { header: '   Tgid:Command', right: true, valuesLeft: true },
  cpu: { header: 'CPU', right: true },
  caller: { header: 'Symbol', right: false },
  vma: { header: 'VMA', right: false },
  path: { header: 'Path', right: false },
  retry: { header: 'Retry', right: false },
  major: { header: 'Major', right: false },
};

const KALLSYMS = '[kernel.kallsyms]';
const UNKNOWN = '[unknown]';
/** perf's word for a field a sample does not have (the branch keys' "N/A"). */
const NA = 'N/A';

function yesNo(b: unknown): string {
  return typeof b !== 'boolean' ? NA : b ? 'yes' : 'no';
}

/** The abort site (`fn+0xoff`) of a pagefault sample, `[k]`-marked; undefined for other samples. */
function kernelSite(s: TraceSample): string | undefined {
  if (s.sym !== undefined) return `[k] ${s.sym}`;
  // A caller without a symbol: perf prints an unresolved address as `[k] 0x...`.
  if (s.caller !== undefined) return `[k] ${s.caller}`;
  if (s.event.startsWith('exceptions:')) return '[k] exc_page_fault';
  return undefined;
}

/** A user sample's site: `[.] FILE:LINE` of the workload statement its ip stands for. */
function userSite(s: TraceSample, program: string | undefined): string | undefined {
  if (s.ip === undefined || program === undefined) return undefined;
  const line = lineOfIp(Number.parseInt(s.ip, 16));
  return line === undefined ? `[.] ${s.ip}` : `[.] ${program}:${line}`;
}

/**
 * A sort key's value of a sample, as grouped (raw; `displayKey` makes the column text).
 * `program`: the workload's file name (the trace header's), the dso of user samples.
 */
export function keyOf(k: SortKey, s: TraceSample, program?: string): string {
  switch (k) {
    case 'event':
      return s.event;
    case 'comm':
      return s.comm;
    // perf's `pid` is the thread (sort_thread: its tid and comm); `tid` is spfperf's older name.
    case 'pid':
    case 'tid':
      return `${s.tid}:${s.comm}`;
    case 'tgid':
      return `${s.pid}:${s.comm}`;
    case 'cpu':
      return String(s.cpu);
    case 'dso':
      return kernelSite(s) !== undefined ? KALLSYMS : s.ip !== undefined && program !== undefined ? program : UNKNOWN;
    case 'sym': {
      const site = kernelSite(s);
      if (site === undefined) return userSite(s, program) ?? UNKNOWN;
      const plus = site.indexOf('+0x');
      return plus < 0 ? site : site.slice(0, plus);
    }
    case 'symoff':
      return kernelSite(s) ?? userSite(s, program) ?? UNKNOWN;
    case 'caller':
      // The ip of a pagefault:* tracepoint is its caller (_RET_IP_); the exceptions tracepoints
      // fire in exc_page_fault; a software event has no kernel caller.
      return kernelSite(s) ?? UNKNOWN;
    case 'vma':
      return s.vm_start !== undefined && s.vm_end !== undefined ? `${s.vm_start.replace(/^0x/, '')}-${s.vm_end.replace(/^0x/, '')}` : UNKNOWN;
    case 'path':
      return typeof s.path === 'string' ? s.path : NA;
    case 'retry':
      return yesNo(s.retry);
    case 'major':
      return yesNo(s.major);
  }
}

/** The column text of a raw key value. */
export function displayKey(k: SortKey, raw: string): string {
  if (k === 'pid' || k === 'tid' || k === 'tgid') {
    const i = raw.indexOf(':');
    return `${raw.slice(0, i).padStart(7)}:${raw.slice(i + 1)}`;
  }
  if (k === 'cpu') return raw.padStart(3, '0');
  return raw;
}

function splitList(spec: string): string[] {
  return spec.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function sortKey(name: string, option: string): SortKey {
  const k = (KEY_ALIASES[name] ?? name) as SortKey;
  if (!SORT_KEYS.includes(k)) throw new UsageError(`unknown ${option} key: '${name}' (keys: ${SORT_KEYS.join(', ')})`);
  return k;
}

/** --sort: comma-separated keys, in order, without duplicates. */
export function parseSortKeys(spec: string): SortKey[] {
  const out: SortKey[] = [];
  for (const name of splitList(spec)) {
    const k = sortKey(name, '--sort');
    if (!out.includes(k)) out.push(k);
  }
  if (out.length === 0) throw new UsageError(`--sort needs at least one key (keys: ${SORT_KEYS.join(', ')})`);
  return out;
}

/**
 * The columns shown and the keys grouped by. Without -F: Overhead, then the sort keys. With -F,
 * its fields in order (overhead, sample, period or keys), then the sort keys it does not name
 * (perf appends the sort keys to the output fields); every key shown is a grouping key.
 */
export function reportLayout(sortSpec: string, fieldsSpec?: string): { keys: SortKey[]; columns: ReportField[] } {
  const sort = parseSortKeys(sortSpec);
  if (fieldsSpec === undefined) return { keys: sort, columns: ['overhead', ...sort] };
  const columns: ReportField[] = [];
  for (const name of splitList(fieldsSpec)) {
    const f = (VALUE_FIELDS as readonly string[]).includes(name) ? (name as ValueField) : sortKey(name, '-F');
    if (!columns.includes(f)) columns.push(f);
  }
  for (const k of sort) if (!columns.includes(k)) columns.push(k);
  if (columns.length === 0) throw new UsageError('-F needs at least one field');
  return { keys: columns.filter((c): c is SortKey => (SORT_KEYS as readonly string[]).includes(c)), columns };
}

/** Keys a row of the interactive view can be broken down by, in the order `b` cycles them. */
const BREAKDOWN_ORDER: readonly SortKey[] = ['symoff', 'path', 'pid', 'cpu', 'vma', 'sym', 'dso', 'tgid', 'retry', 'major', 'comm', 'event'];
/** Keys that group alike (one is another's name), so a row is never broken down by its own key. */
const SAME: Readonly<Partial<Record<SortKey, SortKey>>> = { tid: 'pid', caller: 'symoff' };

/** The breakdown keys for a report sorted by `keys`: the others, in BREAKDOWN_ORDER. */
export function breakdownKeysFor(keys: readonly SortKey[]): SortKey[] {
  const used = new Set(keys.map((k) => SAME[k] ?? k));
  return BREAKDOWN_ORDER.filter((k) => !used.has(k));
}
