/**
 * The comparison table of `spfperf diff` and `spfperf stat --compare`, laid out like the
 * BASE / SPF / delta tables of the speculative-page-fault cover letters:
 *
 *   # spfperf diff: 'ebizzy threads=4 seconds=0.005s' on x86-vm16 (x86), 4 CPUs, seed 1
 *   #
 *   #   BASE         config base
 *   #   SPF          config spf
 *   #
 *                                     BASE           SPF      delta
 *   workload:records/s            17424.46      35032.37    +101.05%
 *
 *   page-faults                      24621         26891     +9.22%
 *   ...
 *
 * One row per workload metric, counter and /proc/vmstat line that is not zero in some input (a
 * metric always), then the times; a column per input, labelled by its config (upper case), or by
 * its file name when configs clash; after each input but the first, its change against the first
 * in percent and as a ratio; after an input of several runs (-r N), its noise ("+- x.xx%", as perf
 * stat -r), and a delta within the noise is marked "~". Inputs that differ in more than the kernel config (workload, parameters, machine,
 * arch, CPUs, seeds) get a NOTE in the header. Pure.
 */
import type { RunSummary } from '../stats/save.js';
import { stats } from '../stats/aggregate.js';
import { cfixed } from './stat-common.js';
import { internWord } from '../workload/expr.js';

export interface DiffColumn {
  /** The config label (a preset name, or `custom`). */
  readonly label: string;
  /** What names the input when config labels clash: its file name, or the --compare item. */
  readonly altLabel: string;
  /** Where it came from, for the legend (a file name), if not from this run. */
  readonly file?: string;
  readonly run: RunSummary;
}

/** What a row reads of a run: the mean summary, or one run of a saved run's `runs`. */
type Values = Pick<RunSummary, 'elapsed' | 'user' | 'sys' | 'counters' | 'vmstat' | 'metrics'> & { readonly counts?: RunSummary['counts'] };

interface Row {
  readonly name: string;
  readonly values: readonly (number | null | undefined)[];
  /** Per input, the noise of the mean in percent (perf's "+- x.xx%"), when it has 2 runs or more. */
  readonly noise: readonly (number | undefined)[];
  /** Decimals when a value is not whole. */
  readonly decimals: number;
  /** Always printed with `decimals` (times, metrics). */
  readonly fixed: boolean;
}

const MIN_VALUE_WIDTH = 12;
const MIN_DELTA_WIDTH = 9;

/** Column labels: config labels in upper case, or the alternative where labels clash. */
export function columnLabels(cols: readonly DiffColumn[]): string[] {
  const count = new Map<string, number>();
  for (const c of cols) count.set(c.label, (count.get(c.label) ?? 0) + 1);
  const labels = cols.map((c) => (count.get(c.label)! > 1 ? c.altLabel : c.label.toUpperCase()));
  // Last resort (the same file twice): number them.
  const seen = new Map<string, number>();
  return labels.map((l) => {
    const n = (seen.get(l) ?? 0) + 1;
    seen.set(l, n);
    return labels.filter((x) => x === l).length > 1 ? `${l}#${n}` : l;
  });
}

function num(v: number | null | undefined, row: Row): string {
  if (v === undefined) return '-';
  if (v === null || Number.isNaN(v)) return 'nan';
  if (row.fixed || !Number.isInteger(v)) return cfixed(v, row.decimals);
  return String(v);
}

const usable = (v: number | null | undefined): v is number => v !== undefined && v !== null && !Number.isNaN(v);

/**
 * The change against the first input in percent; marked `~` when it is within the noise: not
 * larger than the noise of the two means combined (sqrt(a^2 + b^2) of their relative stddevs).
 */
function delta(base: number | null | undefined, v: number | null | undefined, noise: readonly (number | undefined)[]): string {
  if (!usable(base) || !usable(v)) return '';
  if (base === 0) return v === 0 ? '+0.00%' : 'n/a';
  const d = (100 * (v - base)) / Math.abs(base);
  const n = noise[0] !== undefined || noise[1] !== undefined ? Math.hypot(noise[0] ?? 0, noise[1] ?? 0) : undefined;
  return `${d >= 0 ? '+' : ''}${cfixed(d, 2)}%${n !== undefined && Math.abs(d) <= n ? ' ~' : ''}`;
}

/** The input over the first: "%.3f". */
function ratio(base: number | null | undefined, v: number | null | undefined): string {
  if (!usable(base) || !usable(v)) return '';
  if (base === 0) return v === 0 ? '1.000' : 'n/a';
  return cfixed(v / base, 3);
}

/** perf's noise, "+- x.xx%", or blank. */
function noiseText(n: number | undefined): string {
  return n === undefined ? '' : `+- ${cfixed(n, 2)}%`;
}

function nonzero(values: readonly (number | null | undefined)[]): boolean {
  return values.some((v) => v !== undefined && v !== null && v !== 0);
}

/** Keys of the records of all inputs, in first-seen order. */
function keys(recs: readonly (Readonly<Record<string, unknown>> | undefined)[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const r of recs) for (const k of Object.keys(r ?? {})) if (!seen.has(k)) seen.add(k), out.push(k);
  return out;
}

/** The runs of an input that carries them (a `stat --save` or `--compare` document with -r N). */
function runsOf(run: RunSummary): readonly Values[] {
  const runs = (run as { runs?: unknown }).runs;
  if (!Array.isArray(runs)) return [];
  return runs.filter((r): r is Values => typeof r === 'object' && r !== null && typeof (r as Values).counters === 'object');
}

function sections(cols: readonly DiffColumn[]): Row[][] {
  const runs = cols.map((c) => c.run);
  const perRun = runs.map(runsOf);
  const row = (name: string, get: (r: Values) => number | null | undefined, decimals: number, fixed: boolean): Row => ({
    name,
    values: runs.map(get),
    noise: perRun.map((rs) => {
      if (rs.length < 2) return undefined;
      const xs = rs.map(get);
      return xs.every((x): x is number => typeof x === 'number' && Number.isFinite(x)) ? Math.abs(stats(xs).relPct) : undefined;
    }),
    decimals,
    fixed,
  });
  const metrics: Row[] = keys(runs.map((r) => r.metrics)).map((k) => row(`workload:${k}`, (r) => (r.metrics?.[k] === undefined ? undefined : r.metrics[k].value), 2, true));
  // The workload's counters after its metrics, in the same section (none in older files).
  for (const k of keys(runs.map((r) => r.counts))) metrics.push(row(`count:${k}`, (r) => r.counts?.[k], 2, false));
  const counters: Row[] = keys(runs.map((r) => r.counters))
    .map((k): Row => (k === 'task-clock'
      ? row('task-clock (msec)', (r) => (r.counters?.[k] === undefined ? undefined : r.counters[k] / 1e6), 2, true)
      : row(k, (r) => r.counters?.[k], 2, false)))
    .filter((r) => nonzero(r.values));
  const vmstat: Row[] = keys(runs.map((r) => r.vmstat))
    .map((k): Row => row(`vmstat:${k}`, (r) => r.vmstat?.[k], 2, false))
    .filter((r) => nonzero(r.values));
  const times: Row[] = [row('seconds time elapsed', (r) => r.elapsed, 6, true), row('seconds user', (r) => r.user, 6, true), row('seconds sys', (r) => r.sys, 6, true)];
  return [metrics, counters, vmstat, times].filter((s) => s.length > 0);
}

/** Lines saying how the inputs differ in anything but the kernel config. */
export function differences(cols: readonly DiffColumn[], labels: readonly string[]): string[] {
  const out: string[] = [];
  const check = (what: string, f: (r: RunSummary) => string): void => {
    const vals = cols.map((c) => f(c.run));
    if (vals.every((v) => v === vals[0])) return;
    out.push(`${what}: ${vals.map((v, i) => `${v === '' ? '(none)' : v} (${labels[i]})`).join(', ')}`);
  };
  check('workload', (r) => r.workload?.name ?? '?');
  const params = keys(cols.map((c) => c.run.workload?.params)).filter((k) => k !== 'seed' && k !== 'ncpus');
  for (const k of params) {
    // A word parameter: older files hold the number its word is interned to; show and compare the word.
    const words = new Map<number, string>();
    for (const c of cols) {
      const v = c.run.workload?.params?.[k];
      if (typeof v === 'string') words.set(internWord(v), v);
    }
    check(`parameter ${k}`, (r) => {
      const v = r.workload?.params?.[k];
      return typeof v === 'number' ? words.get(v) ?? String(v) : String(v ?? '(unset)');
    });
  }
  check('arch', (r) => r.arch);
  check('machine', (r) => r.machine);
  check('topology', (r) => r.topology ?? "the machine's own");
  check('cpus', (r) => String(r.cpus));
  check('seeds', (r) => (r.seeds ?? []).join(','));
  return out;
}

export function formatDiff(cols: readonly DiffColumn[]): string {
  const labels = columnLabels(cols);
  const first = cols[0].run;
  const args = first.workload?.args?.length ? ` ${first.workload.args.join(' ')}` : '';
  const seeds = first.seeds ?? [];
  const seedText = seeds.length > 1 ? `seeds ${seeds[0]}..${seeds[seeds.length - 1]}` : `seed ${seeds[0] ?? '?'}`;
  const out: string[] = [];
  out.push(`# spfperf diff: '${first.workload?.name ?? '?'}${args}' on ${first.machine} (${first.arch}), ${first.cpus} CPUs, ${seedText}`);
  out.push('#');
  const lw = Math.max(...labels.map((l) => l.length));
  cols.forEach((c, i) => {
    const src = (c.run.config?.sources ?? []).join(' ');
    const sources = src !== '' && src !== c.run.config?.label ? ` (${src})` : '';
    const from = c.file !== undefined && c.file !== labels[i] ? `${c.file}: ` : '';
    out.push(`#   ${labels[i].padEnd(lw)}   ${from}config ${c.run.config?.label ?? '?'}${sources}`);
  });
  const diffs = differences(cols, labels);
  if (cols.some((c) => runsOf(c.run).length > 1)) {
    out.push('#');
    out.push('# +- x%: the noise of an input of several runs (stddev of the mean, in % of the mean, as perf stat -r);');
    out.push('# a delta marked ~ is within the noise of the two inputs; ratio: the input over the first');
  }
  if (diffs.length > 0) {
    out.push('#');
    out.push('# NOTE: the inputs differ in more than the kernel config:');
    for (const d of diffs) out.push(`#   ${d}`);
  }
  out.push('#');

  const secs = sections(cols);
  const rows = secs.flat();
  // A noise column after the values of each input that has 2 runs or more.
  const noisy = cols.map((_, i) => rows.some((r) => r.noise[i] !== undefined));
  const cells = rows.map((r) => r.values.map((v) => num(v, r)));
  const noises = rows.map((r) => r.noise.map(noiseText));
  const deltas = rows.map((r) => r.values.map((v, i) => (i === 0 ? '' : delta(r.values[0], v, [r.noise[0], r.noise[i]]))));
  const ratios = rows.map((r) => r.values.map((v, i) => (i === 0 ? '' : ratio(r.values[0], v))));
  const nameW = Math.max(20, ...rows.map((r) => r.name.length));
  const valW = cols.map((_, i) => Math.max(MIN_VALUE_WIDTH, labels[i].length, ...cells.map((c) => c[i].length)));
  const noiseW = cols.map((_, i) => Math.max(...noises.map((n) => n[i].length)));
  const deltaW = cols.map((_, i) => Math.max(MIN_DELTA_WIDTH, ...deltas.map((d) => d[i].length)));
  const ratioW = cols.map((_, i) => Math.max(5, ...ratios.map((d) => d[i].length)));
  const line = (name: string, vals: readonly string[], ns: readonly string[], ds: readonly string[], rs: readonly string[]): string => {
    let s = name.padEnd(nameW);
    vals.forEach((v, i) => {
      s += '  ' + v.padStart(valW[i]);
      if (noisy[i]) s += '  ' + ns[i].padStart(noiseW[i]);
      if (i > 0) s += '  ' + ds[i].padStart(deltaW[i]) + '  ' + rs[i].padStart(ratioW[i]);
    });
    return s.trimEnd();
  };
  out.push(line('', labels, labels.map(() => ''), labels.map(() => 'delta'), labels.map(() => 'ratio')));
  let k = 0;
  secs.forEach((sec, si) => {
    if (si > 0) out.push('');
    for (const r of sec) {
      out.push(line(r.name, cells[k], noises[k], deltas[k], ratios[k]));
      k++;
    }
  });
  return out.join('\n') + '\n';
}
