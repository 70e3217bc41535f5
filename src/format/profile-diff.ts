/**
 * `spfperf diff` of two cpu-clock recordings (record -e cpu-clock [-g]): perf diff's default
 * output (tools/perf/builtin-diff.c, perf 6.1): one entry per shared object and symbol of the
 * sampled function, its share of the first recording's samples (Baseline, blank where the first
 * has none) and the change of its share in the second (Delta Abs: the second's percentage less
 * the first's, `%+.2f%%`, blank under 0.01), sorted by the size of the change. Pure: profiles in,
 * text out.
 */

/** One shared object and symbol of a recording, as perf diff pairs them. */
export interface ProfileEntry {
  /** `[kernel.kallsyms]`, the workload's file, or `[unknown]`. */
  readonly dso: string;
  /** With perf's level mark: `[k] do_anonymous_page`, `[.] page_fault1.spf:62`. */
  readonly sym: string;
  /** The event count (sum of the samples' periods). */
  readonly period: number;
}

/** The samples of one event of one recording, by shared object and symbol. */
export interface Profile {
  readonly event: string;
  /** Every sample's period, summed (perf's hists__total_period()). */
  readonly total: number;
  /** Keyed by `${dso}\0${sym}`. */
  readonly entries: ReadonlyMap<string, ProfileEntry>;
}

/** The key of an entry (what perf diff pairs the two recordings' entries by: dso, then symbol). */
export function profileKey(dso: string, sym: string): string {
  return `${dso}\0${sym}`;
}

interface Row {
  readonly dso: string;
  readonly sym: string;
  /** Percent of the baseline, or null when the baseline has no such entry. */
  readonly base: number | null;
  readonly delta: number;
}

/** perf diff's layout of `base` against `other` (both of the same event). */
export function formatProfileDiff(base: Profile, other: Profile): string {
  const pct = (p: Profile, e: ProfileEntry | undefined): number => (e === undefined || p.total === 0 ? 0 : (e.period * 100) / p.total);
  const rows: Row[] = [];
  for (const [k, e] of base.entries) rows.push({ dso: e.dso, sym: e.sym, base: pct(base, e), delta: pct(other, other.entries.get(k)) - pct(base, e) });
  for (const [k, e] of other.entries) if (!base.entries.has(k)) rows.push({ dso: e.dso, sym: e.sym, base: null, delta: pct(other, e) });
  // perf diff -c delta-abs (the default): the biggest change first; then the bigger baseline,
  // then the entry's name, so that equal changes print in one order every time.
  rows.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || (b.base ?? 0) - (a.base ?? 0) || (a.dso + a.sym < b.dso + b.sym ? -1 : a.dso + a.sym > b.dso + b.sym ? 1 : 0));
  const dsoW = Math.max('Shared Object'.length, ...rows.map((r) => r.dso.length));
  const symW = Math.max('Symbol'.length, ...rows.map((r) => r.sym.length));
  const out = [
    `# Event '${base.event}'`,
    '#',
    `# Baseline  Delta Abs  ${'Shared Object'.padEnd(dsoW)}  ${'Symbol'.padEnd(symW)}`,
    `# ........  .........  ${'.'.repeat(dsoW)}  ${'.'.repeat(symW)}`,
    '#',
  ];
  for (const r of rows) {
    const b = r.base === null ? '' : `${r.base.toFixed(2)}%`;
    const d = Math.abs(r.delta) >= 0.01 ? `${r.delta >= 0 ? '+' : '-'}${Math.abs(r.delta).toFixed(2)}%` : '';
    out.push(`  ${b.padStart(8)}  ${d.padStart(9)}  ${r.dso.padEnd(dsoW)}  ${r.sym}`);
  }
  return `${out.join('\n')}\n`;
}
