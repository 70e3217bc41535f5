import type { TraceHeader, TraceSample, TraceSummary } from '../trace/ndjson-reader.js';
import { COLUMNS, displayKey as display, keyOf, type ReportField, type SortKey } from './report-keys.js';
import { CallTree } from './callgraph.js';
import type { ChainFrame } from '../trace/callchain.js';

export { breakdownKeysFor, DEFAULT_SORT, parseSortKeys, reportLayout, SORT_KEYS, type ReportField, type SortKey, type ValueField } from './report-keys.js';

/**
 * `spfperf report`: samples grouped by sort keys, with the overhead (share of the event count) of
 * each group, in perf report's plain layout (tools/perf/ui/stdio/hist.c, as captured in
 * shared/perf-captures/report-stdio.txt):
 *
 *   # Samples: 491K of event 'faults'
 *   # Event count (approx.): 491343
 *   #
 *   # Overhead  Command      Pid:Command  Symbol
 *   # ........  .......  ...............  ......
 *   #
 *       33.35%  mt          4050:mt       [.] w
 *
 * Pure: the aggregation takes parsed samples, the formatters return strings or view models. The
 * keys, and what a simulated sample's dso and symbol are, are in report-keys.ts.
 */

interface Tally {
  samples: number;
  period: number;
}

interface Group extends Tally {
  readonly vals: readonly string[];
  /** Per breakdown key: value -> tally (only when breakdowns are kept). */
  readonly sub: Map<string, Tally>[] | null;
  /** With call chains: the period of the samples in this entry itself (`period` is then its children's). */
  self: number;
  tree: CallTree | null;
  /** --children: the fewest frames above this entry's function in a chain (callers sort above callees on a tie). */
  depth: number;
}

interface EventTable extends Tally {
  readonly name: string;
  readonly groups: Map<string, Group>;
  chains: boolean;
}

/** A sorted row of a table. */
export interface ReportRow {
  readonly vals: readonly string[];
  readonly samples: number;
  /** The event count of the entry (with --children, its children's: its own and its callees'). */
  readonly period: number;
  /** The entry's own event count (`period` without --children). */
  readonly self: number;
  /** The call graph of its samples' chains, when they have chains. */
  readonly tree: CallTree | null;
  /** Per breakdown key (in the aggregator's order): [value, samples, period], biggest first. */
  readonly breakdown: readonly (readonly { readonly val: string; readonly samples: number; readonly period: number }[])[];
}

export interface ReportTable {
  readonly event: string;
  readonly samples: number;
  readonly period: number;
  readonly rows: readonly ReportRow[];
  /** Some sample had a call chain: rows have call graphs (and, with --children, children and self). */
  readonly chains: boolean;
}

/**
 * How call chains are reported (perf report -g, --children / --no-children): with children (perf's
 * default), each function of a chain is an entry too, its overhead its own and its callees', the
 * graph in caller order (from the entry to the sampled function); without, the sampled function's
 * entry, the graph in callee order (from it out to its callers).
 */
export interface CallGraphOptions {
  readonly children: boolean;
}

/** A frame's symbol in a graph: a kernel function without its offset, a user frame as it is. */
function frameSym(f: ChainFrame): string {
  return f.dso !== undefined ? f.sym : f.sym.replace(/\+0x[0-9a-f]+$/, '');
}

/** The sample as its frame `f` would be, for the keys of a --children entry. */
function atFrame(s: TraceSample, f: ChainFrame): TraceSample {
  return { ...s, ip: f.ip, sym: f.dso === undefined ? f.sym : undefined, caller: undefined, callchain: undefined };
}

/**
 * Groups samples by event, then by the key values. Memory grows with the number of distinct key
 * combinations, not with the number of samples.
 */
export class ReportAggregator {
  private readonly tables = new Map<string, EventTable>();
  private readonly nkeys: number;
  /** The workload's file name (from the trace header): the dso of user samples. */
  program: string | undefined;

  constructor(
    readonly keys: readonly SortKey[],
    /** Other keys to break each row down by (the interactive view's expand); none for --stdio. */
    readonly breakdownKeys: readonly SortKey[] = [],
    /** How samples' call chains are reported (default: perf's, with children). */
    readonly callgraph: CallGraphOptions = { children: true },
  ) {
    this.nkeys = keys.length;
  }

  add(s: TraceSample): void {
    let t = this.tables.get(s.event);
    if (t === undefined) {
      t = { name: s.event, samples: 0, period: 0, groups: new Map(), chains: false };
      this.tables.set(s.event, t);
    }
    const period = typeof s.period === 'number' ? s.period : 1;
    t.samples++;
    t.period += period;
    const chain = s.callchain;
    const g = this.group(t, s, period);
    g.self += period;
    if (chain === undefined || chain.length === 0) return;
    t.chains = true;
    const syms = chain.map(frameSym);
    if (!this.callgraph.children) {
      (g.tree ??= new CallTree()).add(syms, period);
      return;
    }
    // perf's cumulative entries (hist.c, iter_add_next_cumulative_entry()): the sampled function's
    // with the whole chain from its outermost caller, each caller's with the chain from it down to
    // the sampled function; a function met twice in one chain counts once.
    (g.tree ??= new CallTree()).add([...syms].reverse(), period);
    const seen = new Set<Group>([g]);
    g.depth = g.samples === 1 ? chain.length - 1 : Math.min(g.depth, chain.length - 1);
    for (let i = 1; i < chain.length; i++) {
      const c = this.group(t, atFrame(s, chain[i]), period, seen);
      if (c === null) continue;
      (c.tree ??= new CallTree()).add(syms.slice(0, i + 1).reverse(), period);
      c.depth = c.samples === 1 ? chain.length - 1 - i : Math.min(c.depth, chain.length - 1 - i);
    }
  }

  /** The group of `s`'s keys, its tally counted; null when it is in `seen` (then added to it). */
  private group(t: EventTable, s: TraceSample, period: number): Group;
  private group(t: EventTable, s: TraceSample, period: number, seen: Set<Group>): Group | null;
  private group(t: EventTable, s: TraceSample, period: number, seen?: Set<Group>): Group | null {
    let id: string;
    let vals: string[] | null = null;
    if (this.nkeys === 1) id = keyOf(this.keys[0], s, this.program);
    else {
      vals = this.keys.map((k) => keyOf(k, s, this.program));
      id = vals.join('\u0000');
    }
    let g = t.groups.get(id);
    if (g === undefined) {
      g = { vals: vals ?? [id], samples: 0, period: 0, sub: this.breakdownKeys.length > 0 ? this.breakdownKeys.map(() => new Map()) : null, self: 0, tree: null, depth: 0 };
      t.groups.set(id, g);
    }
    if (seen !== undefined) {
      if (seen.has(g)) return null;
      seen.add(g);
    }
    g.samples++;
    g.period += period;
    if (g.sub !== null) {
      for (let i = 0; i < this.breakdownKeys.length; i++) {
        const v = keyOf(this.breakdownKeys[i], s, this.program);
        const m = g.sub[i];
        const x = m.get(v);
        if (x === undefined) m.set(v, { samples: 1, period });
        else {
          x.samples++;
          x.period += period;
        }
      }
    }
    return g;
  }

  /** Samples seen per event. */
  counts(): Map<string, number> {
    return new Map([...this.tables.values()].map((t) => [t.name, t.samples]));
  }

  /**
   * The tables, in `order` (the header's event list) then in order of first sample; rows by
   * event count, biggest first, ties by key. Events without samples have no table (perf's
   * --skip-empty default).
   */
  result(order: readonly string[] = []): ReportTable[] {
    const names = [...order.filter((n) => this.tables.has(n)), ...[...this.tables.keys()].filter((n) => !order.includes(n))];
    const byTally = <T extends Tally & { key: string }>(a: T, b: T): number => b.period - a.period || b.samples - a.samples || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    // --children: on a tie, callers above their callees (perf's __hpp__sort_acc(): by callchain depth).
    const byEntry = (a: { key: string; g: Group } & Tally, b: { key: string; g: Group } & Tally): number => b.period - a.period || b.samples - a.samples || a.g.depth - b.g.depth || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
    return names.map((name) => {
      const t = this.tables.get(name)!;
      const rows = [...t.groups.entries()]
        .map(([key, g]) => ({ key, g, period: g.period, samples: g.samples }))
        .sort(byEntry)
        .map(({ g }) => ({
          vals: g.vals,
          samples: g.samples,
          period: g.period,
          self: g.self,
          tree: g.tree,
          breakdown: (g.sub ?? []).map((m) =>
            [...m.entries()]
              .map(([key, x]) => ({ key, val: key, samples: x.samples, period: x.period }))
              .sort(byTally)
              .map(({ val, samples, period }) => ({ val, samples, period })),
          ),
        }));
      return { event: name, samples: t.samples, period: t.period, rows, chains: t.chains };
    });
  }
}

/** perf's convert_unit(): 491339 -> "491K", 354 -> "354 " (the unit is a space below 1000+1). */
export function samplesWithUnit(n: number): string {
  let v = Math.floor(n);
  let unit = ' ';
  for (const u of ['K', 'M', 'G']) {
    if (v > 1000) {
      v = Math.floor(v / 1000);
      unit = u;
    }
  }
  return `${v}${unit}`;
}

function pct(part: number, whole: number): string {
  return `${(whole > 0 ? (part / whole) * 100 : 0).toFixed(2)}%`;
}

/** The cells of each column for each row, and the column widths. */
function cells(t: ReportTable, keys: readonly SortKey[], columns: readonly ReportField[]): { widths: number[]; rows: string[][] } {
  const rows = t.rows.map((r) =>
    columns.map((c) => {
      if (c === 'overhead' || c === 'children') return pct(r.period, t.period);
      if (c === 'self') return pct(r.self, t.period);
      if (c === 'sample') return String(r.samples);
      if (c === 'period') return String(r.period);
      return display(c, r.vals[keys.indexOf(c)]);
    }),
  );
  // A loop, not Math.max(...rows): a spread of ~120k rows overflows the stack (report -s tid).
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, r[i].length), COLUMNS[c].header.length));
  return { widths, rows };
}

function pad(s: string, w: number, right: boolean): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** The column header lines and the row lines of a table (without the leading "# " / "  "). */
export function tableLines(t: ReportTable, keys: readonly SortKey[], columns: readonly ReportField[]): { header: string; dots: string; rows: string[] } {
  const { widths, rows } = cells(t, keys, columns);
  const header = columns.map((c, i) => pad(COLUMNS[c].header, widths[i], COLUMNS[c].right)).join('  ');
  const dots = widths.map((w) => '.'.repeat(w)).join('  ');
  const lines = rows.map((r) => r.map((v, i) => pad(v, widths[i], COLUMNS[columns[i]].right && !COLUMNS[columns[i]].valuesLeft)).join('  ').trimEnd());
  return { header, dots, rows: lines };
}

/** What the report says about the trace as a whole. */
export interface ReportInfo {
  readonly header: TraceHeader;
  readonly summary: TraceSummary | null;
  readonly skipped: number;
  /** Samples seen per event. */
  readonly seen: ReadonlyMap<string, number>;
}

/** The run the trace records, in one line: `ebizzy threads=4 seconds=0.005s`. */
export function commandOf(h: TraceHeader): string {
  if (typeof h.command === 'string') return h.command;
  return [h.workload?.name ?? '?', ...(h.workload?.args ?? [])].join(' ');
}

/** Samples the summary says were written but the reader did not get (skipped or cut off). */
export function lostSamples(info: ReportInfo): number | null {
  if (info.summary === null || info.summary.samples === undefined) return null;
  let lost = 0;
  for (const [ev, n] of Object.entries(info.summary.samples)) lost += Math.max(0, n - (info.seen.get(ev) ?? 0));
  return lost;
}

/** The header block (perf: "# To display the perf.data header info ..." / "# Total Lost Samples"). */
export function headerLines(info: ReportInfo): string[] {
  const h = info.header;
  const seed = h.seeds?.[0];
  const out = [
    `# Trace of: ${commandOf(h)}`,
    `# Recorded by spfperf ${h.spfperf ?? '?'} (trace format ${h.trace_format}): machine ${h.machine ?? '?'} (${h.arch ?? '?'}), ${h.cpus ?? '?'} CPUs, config ${h.config?.label ?? '?'}${seed !== undefined ? `, seed ${seed}` : ''}`,
  ];
  const s = info.summary;
  if (s !== null && typeof s.elapsed === 'number') {
    out.push(`# Simulated time: ${s.elapsed.toFixed(9)} s elapsed, ${(s.user ?? 0).toFixed(9)} s user, ${(s.sys ?? 0).toFixed(9)} s sys`);
  }
  out.push('#', '#');
  const lost = lostSamples(info);
  out.push(lost === null ? '# Total Lost Samples: unknown (no summary line: the trace is incomplete)' : `# Total Lost Samples: ${lost}`);
  out.push(`# Skipped lines: ${info.skipped}`);
  if (s?.stopped === true) out.push('# The recording was stopped (Ctrl-C) before the workload finished');
  out.push('#');
  return out;
}

/** Lines above a table's columns. */
export function tableTitle(t: ReportTable): string[] {
  return [`# Samples: ${samplesWithUnit(t.samples)} of event '${t.event}'`, `# Event count (approx.): ${t.period}`];
}

/**
 * `report --stdio`: the whole text. A table of call chains draws each entry's graph under it
 * (callgraph.ts), and with `children` has perf's Children and Self columns for Overhead.
 */
export function formatReportStdio(info: ReportInfo, tables: readonly ReportTable[], keys: readonly SortKey[], columns: readonly ReportField[], children = true): string {
  const out: string[] = headerLines(info);
  if (tables.length === 0) out.push('# (no samples)', '');
  for (const t of tables) {
    const cols = t.chains && children ? columns.flatMap((c): ReportField[] => (c === 'overhead' ? ['children', 'self'] : [c])) : columns;
    const { header, dots, rows } = tableLines(t, keys, cols);
    out.push(...tableTitle(t), '#', `# ${header}`, `# ${dots}`, '#');
    // perf leaves the first frame out when the first sort key is the symbol: the entry says it.
    const symFirst = keys[0] === 'sym';
    rows.forEach((r, i) => {
      out.push(`  ${r}`);
      const row = t.rows[i];
      if (row.tree !== null) out.push(...row.tree.lines(t.period, row.period, symFirst));
    });
    out.push('', '');
  }
  return out.join('\n') + '\n';
}

/** A row of the interactive view: its line, and its breakdowns by each other key. */
export interface ViewRow {
  readonly text: string;
  /** Per breakdown key: lines `   12.34%  value`. */
  readonly breakdowns: readonly (readonly string[])[];
}

export interface ViewTable {
  readonly title: string;
  readonly columns: string;
  readonly rows: readonly ViewRow[];
}

export interface ReportViewModel {
  readonly heading: readonly string[];
  readonly tables: readonly ViewTable[];
  /** Names of the breakdown keys (`caller`, ...), in the order of ViewRow.breakdowns. */
  readonly breakdownKeys: readonly string[];
}

/**
 * The data of the interactive view: the same text as --stdio, cut into navigable pieces. With
 * call chains, a row expands first into its call graph (the breakdown `callchain`), as --stdio
 * draws it, then by the other keys.
 */
export function reportViewModel(info: ReportInfo, tables: readonly ReportTable[], keys: readonly SortKey[], columns: readonly ReportField[], breakdownKeys: readonly SortKey[], children = true): ReportViewModel {
  const heading = headerLines(info).filter((l) => l !== '#').map((l) => l.replace(/^# ?/, ''));
  const chains = tables.some((t) => t.chains);
  const symFirst = keys[0] === 'sym';
  return {
    heading,
    breakdownKeys: [...(chains ? ['callchain'] : []), ...breakdownKeys],
    tables: tables.map((t) => {
      const cols = t.chains && children ? columns.flatMap((c): ReportField[] => (c === 'overhead' ? ['children', 'self'] : [c])) : columns;
      const { header, rows } = tableLines(t, keys, cols);
      return {
        title: `Samples: ${samplesWithUnit(t.samples).trim()} of event '${t.event}', Event count (approx.): ${t.period}`,
        columns: header,
        rows: rows.map((text, i) => {
          const r = t.rows[i];
          const byKey = r.breakdown.map((b, j) => b.map((x) => `${pct(x.period, t.period).padStart(8)}  ${display(breakdownKeys[j], x.val)}`));
          return { text, breakdowns: chains ? [r.tree?.lines(t.period, r.period, symFirst) ?? [], ...byKey] : byKey };
        }),
      };
    }),
  };
}
