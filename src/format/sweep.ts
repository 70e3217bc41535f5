/**
 * What `spfperf sweep` prints (on stdout): the workload's metric at every point, with the noise of
 * -r, as a table (cli-table3: a row per CPU count, a column per config, one table per machine and
 * parameter values), as CSV (-x SEP: a header line, then a line per point) or as JSON lines (-j: an
 * object per point). Pure: the points in, text out.
 *
 *   # spfperf sweep: 'page_fault1 size=256K iterations=1', 4 points, 2 runs each (seeds 1..2)
 *   # workload:ops/s, the mean of the runs; +- x%: its noise (stddev of the mean, in % of the mean, as perf stat -r)
 *   #
 *   # machine x86-vm16
 *   ┌──────┬──────────────────────┬──────────────────────┐
 *   │ CPUs │                 base │               custom │
 *   ├──────┼──────────────────────┼──────────────────────┤
 *   │    1 │  850141.81  +- 0.03% │  832460.13  +- 0.03% │
 *   │    2 │ 1097146.06  +- 0.05% │ 1065680.31  +- 0.24% │
 *   └──────┴──────────────────────┴──────────────────────┘
 *
 * (The column heads are the configs as the command line gives them.)
 */
import { cfixed } from './stat-common.js';
import { formatTable, type Cell } from './table.js';

/** An axis of the sweep (as sweep.json lists it). */
export interface SweepAxisView {
  readonly name: string;
  readonly kind: 'machine' | 'config' | 'cpus' | 'param';
  readonly values: readonly (string | number)[];
}

/** One point: its coordinates and, once done, its metric. */
export interface SweepPointView {
  readonly index: number;
  readonly coords: Readonly<Record<string, string | number>>;
  /** Whether its runs all ended (not stopped by Ctrl-C, not failed). */
  readonly done: boolean;
  /** The metric's mean over the runs; null when it could not be computed. */
  readonly value?: number | null;
  /** With two runs or more: the noise of the mean, in percent of it (perf stat -r). */
  readonly noisePct?: number;
  /** Its --save document, relative to sweep.json's directory. */
  readonly file?: string;
}

export interface SweepReport {
  /** The workload's command line without the axes' lists ('page_fault1 size=16M'). */
  readonly command: string;
  /** The metric's name as stat prints it ('workload:ops/s', 'seconds time elapsed'). */
  readonly metric: string;
  readonly unit: string;
  readonly repeats: number;
  readonly seeds: readonly number[];
  readonly axes: readonly SweepAxisView[];
  readonly points: readonly SweepPointView[];
}

export type SweepFormatter = (r: SweepReport) => string;

function valueText(p: SweepPointView): string {
  if (!p.done) return '-';
  if (p.value === null || p.value === undefined || Number.isNaN(p.value)) return 'nan';
  return cfixed(p.value, 2);
}

function noiseText(p: SweepPointView): string {
  return p.done && p.noisePct !== undefined ? `+- ${cfixed(p.noisePct, 2)}%` : '';
}

function seedsText(seeds: readonly number[]): string {
  return seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
}

/** The table: one per value of the axes other than config and cpus; a row per CPU count, a column per config. */
export function formatSweepHuman(r: SweepReport): string {
  const head = [
    `# spfperf sweep: '${r.command}', ${r.points.length} point${r.points.length === 1 ? '' : 's'}, ${r.repeats} run${r.repeats === 1 ? '' : 's'} each (${seedsText(r.seeds)})`,
    `# ${r.metric}${r.unit !== '' && !r.metric.endsWith(r.unit) ? ` (${r.unit})` : ''}, the mean of the runs${r.repeats > 1 ? '; +- x%: its noise (stddev of the mean, in % of the mean, as perf stat -r)' : ''}`,
  ];
  const config = r.axes.find((a) => a.kind === 'config');
  const cpus = r.axes.find((a) => a.kind === 'cpus');
  const others = r.axes.filter((a) => a.kind !== 'config' && a.kind !== 'cpus');
  const configs = config?.values ?? [''];
  // Points by group (the other axes' values), then by cpus and config.
  const groups = new Map<string, { title: string; cells: Map<string, SweepPointView> }>();
  for (const p of r.points) {
    const key = JSON.stringify(others.map((a) => p.coords[a.name]));
    let g = groups.get(key);
    if (g === undefined) {
      const title = others.map((a) => (a.kind === 'param' ? `${a.name}=${p.coords[a.name]}` : `${a.name} ${p.coords[a.name]}`)).join(', ');
      groups.set(key, (g = { title, cells: new Map() }));
    }
    g.cells.set(JSON.stringify([p.coords.cpus, config === undefined ? '' : p.coords[config.name]]), p);
  }
  const cpuValues = cpus?.values ?? [];
  const out: string[] = [head.join('\n') + '\n'];
  for (const g of groups.values()) {
    const rows: Cell[][] = [];
    // The noise in a column of its own width within the cell, so the values line up.
    const noiseWidth = Math.max(0, ...[...g.cells.values()].map((p) => noiseText(p).length));
    for (const n of cpuValues) {
      const cells = configs.map((c): Cell => {
        const p = g.cells.get(JSON.stringify([n, c]));
        if (p === undefined) return '';
        return noiseWidth === 0 ? valueText(p) : `${valueText(p)}  ${noiseText(p).padStart(noiseWidth)}`;
      });
      if (cells.every((c) => c === '')) continue;
      rows.push([n, ...cells]);
    }
    out.push(`#\n# ${g.title}\n` + formatTable({ head: ['CPUs', ...configs.map(String)], rows, align: ['right', ...configs.map(() => 'right' as const)] }));
  }
  return out.join('');
}

/** -x SEP: a header line (the axes, the metric, its noise, the file), then a line per point. */
export function formatSweepCsv(sep: string): SweepFormatter {
  return (r) => {
    const lines = [[...r.axes.map((a) => a.name), r.metric, 'noise', 'file'].join(sep)];
    for (const p of r.points) {
      const value = !p.done ? '<not counted>' : p.value === null || p.value === undefined || Number.isNaN(p.value) ? 'nan' : String(p.value);
      const noise = p.done && p.noisePct !== undefined ? `${cfixed(p.noisePct, 2)}%` : '';
      lines.push([...r.axes.map((a) => String(p.coords[a.name] ?? '')), value, noise, p.file ?? ''].join(sep));
    }
    return lines.join('\n') + '\n';
  };
}

/** -j: one JSON object per point. */
export function formatSweepJson(r: SweepReport): string {
  return r.points
    .map((p) =>
      JSON.stringify({
        index: p.index,
        coords: p.coords,
        event: r.metric,
        value: p.done && p.value !== undefined && p.value !== null && !Number.isNaN(p.value) ? p.value : null,
        unit: r.unit,
        runs: r.repeats,
        noise_pct: p.done && p.noisePct !== undefined ? Number(cfixed(p.noisePct, 2)) : null,
        done: p.done,
        file: p.file ?? null,
      }) + '\n',
    )
    .join('');
}
