/**
 * The vega-lite spec of `spfperf plot`: a sweep's points as line charts, one line per kernel
 * config (colour and point shape, with a legend), the chosen axis along x (CPUs by default), the
 * mean of the seeds' values as the line and their min-max range as an error bar, a panel per
 * machine (column) and per value of the other axes that vary (row, labelled `size=16M` or
 * `size=16M, mode=threads`; wrapped three a row when the machine does not vary). Pure: plain data in, a JSON-able spec out; the data
 * are inlined, one row per seed's run, so that the spec written beside the picture can be
 * restyled and re-rendered by any vega-lite tool (`extent: "stdev"` for mean +- stddev bars).
 *
 *   {"$schema": ".../vega-lite/v6.json", "title": {"text": "page_fault1 size=16M", ...},
 *    "data": {"values": [{"machine": "x86-vm16", "config": "base", "cpus": 1, "seed": 1,
 *                         "value": 1371663.1}, ...]},
 *    "layer": [{"mark": {"type": "errorbar", "extent": "min-max", ...}, ...},
 *              {"mark": {"type": "line", ...}, ...}, {"mark": {"type": "point", ...}, ...}],
 *    "config": {"font": "DejaVu Sans", ...}}
 */
import { UsageError } from '../errors.js';
import type { AxisValue, SweepAxis } from '../plot/sweep.js';

/** One point of the sweep, with what the measure read of each seed's run. */
export interface PlotPoint {
  readonly coords: Readonly<Record<string, AxisValue>>;
  /** Each run's value (undefined: the run does not have it). */
  readonly values: readonly { readonly seed: number; readonly value: number | undefined }[];
}

export interface PlotData {
  readonly workload: { readonly name: string; readonly args: readonly string[] };
  readonly repeats: number;
  readonly axes: readonly SweepAxis[];
  readonly points: readonly PlotPoint[];
  /** What is on y: its name as stat prints it, and its axis title. */
  readonly measure: { readonly key: string; readonly title: string };
}

export interface PlotOptions {
  /** The axis along x (default: the CPU axis). */
  readonly x?: string;
  /** A config of the config axis: each point is divided by its mean at the same coordinates. */
  readonly normalize?: string;
}

export type VlSpec = Record<string, unknown>;

export interface PlotSpec {
  readonly spec: VlSpec;
  /** Runs left out: the measure has no value there, or the baseline has none to divide by. */
  readonly leftOut: number;
  /** The lines drawn (configs with at least one value) and the panels. */
  readonly lines: number;
  readonly panels: number;
}

/** The picture's look: sizes in CSS pixels, fonts as shipped (src/plot/render.ts loads DejaVu Sans). */
export const PLOT_FONT = 'DejaVu Sans';
const WIDTH = 420;
const HEIGHT = 280;
const PANEL_WIDTH = 300;
const PANEL_HEIGHT = 220;
/** Panels a row when they wrap (no machine axis across). */
const PANEL_COLUMNS = 3;
/** From this mean on, y labels are SI-prefixed (2M, not 2,000,000). */
const SI_FROM = 1e4;
/** A numeric x axis whose largest value is this many times its smallest is drawn on a log2 scale. */
const LOG_RATIO = 8;
/** Room beside the first and last x value, as a fraction of a log2 step or of the range. */
const X_PAD = 0.15;

/** A field name as vega-lite reads it in `field`: its `.`, `[`, `]` and `\` escaped. */
export function fieldRef(name: string): string {
  return name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
}

function axisNamed(axes: readonly SweepAxis[], name: string, option: string): SweepAxis {
  const a = axes.find((x) => x.name === name);
  if (a === undefined) throw new UsageError(`${option}: no axis '${name}' in the sweep; its axes: ${axes.map((x) => x.name).join(', ')}`);
  return a;
}

function chooseX(axes: readonly SweepAxis[], name: string | undefined): SweepAxis {
  if (name !== undefined) {
    const a = axisNamed(axes, name, '--x');
    if (a.kind === 'config') throw new UsageError(`--x: the configs are the lines; choose another axis: ${axes.filter((x) => x.kind !== 'config').map((x) => x.name).join(', ') || '(none)'}`);
    return a;
  }
  const a = axes.find((x) => x.kind === 'cpus') ?? axes.find((x) => x.kind !== 'config' && x.values.length > 1) ?? axes.find((x) => x.kind !== 'config');
  if (a === undefined) throw new UsageError('the sweep has no axis but its configs: nothing to draw along x');
  return a;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;
const key = (axes: readonly SweepAxis[], c: Readonly<Record<string, AxisValue>>): string => JSON.stringify(axes.map((a) => c[a.name]));

/** The x encoding: numbers on a linear or log2 scale with a tick at each value, words in sweep order. */
function xEncoding(x: SweepAxis): Record<string, unknown> {
  const title = x.kind === 'cpus' ? 'CPUs' : x.name;
  const nums = x.values.every((v) => typeof v === 'number') ? (x.values as number[]) : null;
  if (nums === null) return { field: fieldRef(x.name), type: 'ordinal', title, sort: [...x.values], axis: { labelAngle: 0 } };
  const lo = Math.min(...nums);
  const hi = Math.max(...nums);
  const axis = { values: [...nums].sort((a, b) => a - b), ...(nums.every(Number.isInteger) ? { format: 'd' } : {}), grid: true };
  if (lo > 0 && hi / lo >= LOG_RATIO) {
    const pad = 2 ** X_PAD;
    return { field: fieldRef(x.name), type: 'quantitative', title, scale: { type: 'log', base: 2, domain: [lo / pad, hi * pad], nice: false }, axis };
  }
  const pad = (hi - lo || 1) * X_PAD * 0.5;
  return { field: fieldRef(x.name), type: 'quantitative', title, scale: { domain: [lo - pad, hi + pad], nice: false, zero: false }, axis };
}

/** `name=value` of the axes that have one value (the x axis aside): the chart's subtitle. */
function fixedAxes(axes: readonly SweepAxis[], x: SweepAxis): string {
  return axes
    .filter((a) => a !== x && a.values.length === 1)
    .map((a) => `${a.name}=${a.values[0]}`)
    .join(', ');
}

export function buildPlotSpec(d: PlotData, o: PlotOptions = {}): PlotSpec {
  const x = chooseX(d.axes, o.x);
  const series = d.axes.find((a) => a.kind === 'config');
  if (o.normalize !== undefined) {
    if (series === undefined) throw new UsageError('--normalize: the sweep has no config axis');
    if (!series.values.includes(o.normalize)) throw new UsageError(`--normalize: '${o.normalize}' is not a config of the sweep; its configs: ${series.values.join(', ')}`);
  }
  const facets = d.axes.filter((a) => a !== x && a !== series && a.values.length > 1);
  const machine = facets.find((a) => a.kind === 'machine');
  const others = facets.filter((a) => a !== machine);
  // The other axes' panels are told apart by one more field of the data, `panel`, labelled
  // `name=value, name=value` (an underscore in front while an axis has that name).
  let panelField = 'panel';
  while (d.axes.some((a) => a.name === panelField)) panelField = `_${panelField}`;
  const panelLabel = (c: Readonly<Record<string, AxisValue>>): string => others.map((a) => `${a.name}=${c[a.name]}`).join(', ');

  // The baseline's mean at each set of coordinates but the config.
  const rest = d.axes.filter((a) => a !== series);
  const baseline = new Map<string, number>();
  if (o.normalize !== undefined) {
    for (const p of d.points) {
      if (p.coords[series!.name] !== o.normalize) continue;
      const vs = p.values.map((v) => v.value).filter((v): v is number => v !== undefined);
      if (vs.length > 0) baseline.set(key(rest, p.coords), mean(vs));
    }
  }

  const rows: Record<string, AxisValue>[] = [];
  const means: number[] = [];
  const lines = new Set<AxisValue>();
  let leftOut = 0;
  for (const p of d.points) {
    const base = o.normalize === undefined ? 1 : baseline.get(key(rest, p.coords));
    const vs: number[] = [];
    for (const v of p.values) {
      if (v.value === undefined || base === undefined || base === 0) {
        leftOut++;
        continue;
      }
      const value = v.value / base;
      vs.push(value);
      const row: Record<string, AxisValue> = {};
      for (const a of d.axes) row[a.name] = p.coords[a.name];
      if (others.length > 0) row[panelField] = panelLabel(p.coords);
      row.seed = v.seed;
      row.value = value;
      rows.push(row);
    }
    if (vs.length > 0) {
      means.push(mean(vs));
      lines.add(series === undefined ? '' : p.coords[series.name]);
    }
  }

  const big = means.some((m) => Math.abs(m) >= SI_FROM);
  const yTitle = [
    o.normalize !== undefined ? `${d.measure.title}, relative to ${o.normalize}` : d.measure.title,
    d.repeats > 1 ? `mean of ${d.repeats} seeds, bars: min–max` : 'one seed a point',
  ];
  const y = { field: 'value', type: 'quantitative', title: yTitle, ...(big ? { axis: { format: '~s', labelExpr: "datum.value === 0 ? '0' : datum.label" } } : {}) };
  const yMean = { ...y, aggregate: 'mean' };
  const xEnc = xEncoding(x);
  const colour =
    series === undefined
      ? {}
      : {
          color: { field: fieldRef(series.name), type: 'nominal', title: series.name, sort: [...series.values], scale: { domain: [...series.values], scheme: 'tableau10' } },
        };
  const shape = series === undefined ? {} : { shape: { field: fieldRef(series.name), type: 'nominal', title: series.name, sort: [...series.values], scale: { domain: [...series.values] } } };
  const layer = [
    { mark: { type: 'errorbar', extent: 'min-max', ticks: { size: 10 }, thickness: 1.5 }, encoding: { x: xEnc, y, ...colour } },
    { mark: { type: 'line', strokeWidth: 2 }, encoding: { x: xEnc, y: yMean, ...colour } },
    { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { x: xEnc, y: yMean, ...colour, ...shape } },
  ];

  const subtitle = fixedAxes(d.axes, x);
  const title = { text: [d.workload.name, ...d.workload.args].join(' '), ...(subtitle !== '' ? { subtitle } : {}) };
  // Panels: a column per machine and a row per value of the other axes that vary; when the
  // machine does not vary, the other axes' panels wrap, PANEL_COLUMNS a row. Headers are the
  // labels alone: a machine's name, `size=16M`.
  let facet: Record<string, unknown> | undefined;
  let wrap: number | undefined;
  const sort = [...new Set(d.points.map((p) => panelLabel(p.coords)))];
  const byPanel = { field: fieldRef(panelField), type: 'ordinal', title: null, sort };
  if (machine !== undefined) {
    facet = { column: { field: fieldRef(machine.name), type: 'ordinal', title: null, sort: [...machine.values] }, ...(others.length > 0 ? { row: byPanel } : {}) };
  } else if (others.length > 0) {
    facet = byPanel;
    wrap = Math.min(sort.length, PANEL_COLUMNS);
  }
  const panels = facets.reduce((n, a) => n * a.values.length, 1);
  const config = {
    font: PLOT_FONT,
    background: 'white',
    padding: 12,
    title: { fontSize: 15, subtitleFontSize: 12, anchor: 'start', subtitleColor: '#444', subtitlePadding: 4, offset: 14 },
    axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', gridColor: '#e4e4e4', domainColor: '#555', tickColor: '#555', labelColor: '#222', titleColor: '#222' },
    legend: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', symbolSize: 80, symbolOpacity: 1 },
    header: { labelFontSize: 13, titleFontSize: 13, titleFontWeight: 'normal' },
    view: { stroke: '#bbb' },
  };
  const body =
    facet === undefined
      ? { width: WIDTH, height: HEIGHT, layer }
      : { facet, ...(wrap !== undefined ? { columns: wrap } : {}), spec: { width: PANEL_WIDTH, height: PANEL_HEIGHT, layer } };
  const spec: VlSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description: `spfperf plot: ${d.measure.key} of ${title.text} by ${x.name}${series !== undefined ? ` and ${series.name}` : ''}`,
    title,
    data: { values: rows },
    ...body,
    config,
  };
  return { spec, leftOut, lines: lines.size, panels };
}

/**
 * The spec as the file beside the picture holds it: indented JSON, with each row of the data on
 * one line (a sweep of hundreds of runs stays a file one can read and edit).
 */
export function specText(spec: VlSpec): string {
  const data = spec.data as { values: readonly unknown[] } | undefined;
  if (data === undefined || !Array.isArray(data.values) || data.values.length === 0) return JSON.stringify(spec, null, 2) + '\n';
  const MARK = '\u0000rows\u0000';
  const text = JSON.stringify({ ...spec, data: { ...data, values: [MARK] } }, null, 2);
  const at = text.indexOf(JSON.stringify(MARK));
  const indent = text.slice(text.lastIndexOf('\n', at) + 1, at);
  const rows = data.values.map((r) => JSON.stringify(r)).join(`,\n${indent}`);
  return text.slice(0, at) + rows + text.slice(at + JSON.stringify(MARK).length) + '\n';
}
