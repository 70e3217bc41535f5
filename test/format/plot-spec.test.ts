import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildPlotSpec, fieldRef, specText, type PlotData } from '../../src/format/plot-spec.js';
import { resolveMeasure } from '../../src/plot/measure.js';
import { loadSweep, type LoadedSweep } from '../../src/plot/sweep.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

const load = (name: string): Promise<LoadedSweep> => loadSweep(join(ROOT, 'fixtures', 'sweep', name));
const PF1 = await load('page_fault1');
const FACETS = await load('facets');

function data(s: LoadedSweep, y?: string): PlotData {
  const measure = resolveMeasure(y, s.points.flatMap((p) => p.runs));
  return {
    workload: s.index.workload,
    repeats: s.index.repeats,
    axes: s.index.axes,
    points: s.points.map((p) => ({ coords: p.coords, values: p.runs.map((r) => ({ seed: r.seeds[0], value: measure.of(r) })) })),
    measure,
  };
}

type Row = Record<string, string | number>;
const rows = (spec: Record<string, unknown>): Row[] => (spec.data as { values: Row[] }).values;

describe('buildPlotSpec', () => {
  test('page_fault1 at 1-8 CPUs under three configs (golden vega-lite)', () => {
    const p = buildPlotSpec(data(PF1));
    expectGolden('plot/page_fault1.vl.json', specText(p.spec));
    expect(p).toMatchObject({ leftOut: 0, lines: 3, panels: 1 });
    // One row per seed's run, its value the run's own metric.
    const rs = rows(p.spec);
    expect(rs).toHaveLength(PF1.points.length * 2);
    const first = PF1.points[0];
    expect(rs.slice(0, 2)).toEqual(first.runs.map((r) => ({ machine: 'x86-vm16', config: 'base', cpus: 1, size: '256K', seed: r.seeds[0], value: r.metrics['ops/s'].value })));
    expect(rs.map((r) => r.seed)).toEqual(PF1.points.flatMap(() => [1, 2]));
    // CPUs 1..8 span 8x: a log2 scale with a tick at each value.
    const layer = (p.spec as { layer: { encoding: { x: Record<string, unknown>; y: Record<string, unknown> } }[] }).layer;
    expect(layer[0].encoding.x).toMatchObject({ field: 'cpus', title: 'CPUs', scale: { type: 'log', base: 2 }, axis: { values: [1, 2, 4, 8], format: 'd' } });
    expect(layer[0].encoding.y.title).toEqual(['ops/s', 'mean of 2 seeds, bars: min–max']);
    expect(p.spec.title).toEqual({ text: 'page_fault1 seconds=0.0005s', subtitle: 'machine=x86-vm16, size=256K' });
  });

  test('two machines and two sizes: a column per machine, a row per size; normalized to base (golden)', () => {
    const d = data(FACETS);
    const p = buildPlotSpec(d, { normalize: 'base' });
    expectGolden('plot/facets.normalize-base.vl.json', specText(p.spec));
    expect(p).toMatchObject({ leftOut: 0, lines: 2, panels: 4 });
    expect(p.spec.facet).toEqual({
      column: { field: 'machine', type: 'ordinal', title: null, sort: ['x86-vm16', 'x86-2s8c'] },
      row: { field: 'panel', type: 'ordinal', title: null, sort: ['size=128K', 'size=256K'] },
    });
    // Each run divided by base's mean at the same machine, CPUs and size.
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const pt of d.points.filter((q) => q.coords.config === 'per-vma-lock')) {
      const base = d.points.find((q) => q.coords.config === 'base' && q.coords.machine === pt.coords.machine && q.coords.cpus === pt.coords.cpus && q.coords.size === pt.coords.size)!;
      const b = mean(base.values.map((v) => v.value!));
      const got = rows(p.spec).filter((r) => r.config === 'per-vma-lock' && r.machine === pt.coords.machine && r.cpus === pt.coords.cpus && r.size === pt.coords.size && r.panel === `size=${pt.coords.size}`);
      expect(got.map((r) => r.value)).toEqual(pt.values.map((v) => v.value! / b));
    }
    const y = (p.spec.spec as { layer: { encoding: { y: { title: string[] } } }[] }).layer[0].encoding.y;
    expect(y.title[0]).toBe('ops/s, relative to base');
  });

  test('--x another axis: a word axis in sweep order; a numeric axis under 8x on a linear scale', () => {
    const p = buildPlotSpec(data(FACETS), { x: 'size' });
    const x = (p.spec.spec as { layer: { encoding: { x: Record<string, unknown> } }[] }).layer[0].encoding.x;
    expect(x).toEqual({ field: 'size', type: 'ordinal', title: 'size', sort: ['128K', '256K'], axis: { labelAngle: 0 } });
    // cpus is now a panel axis (its values down the rows), the machine across.
    expect(p.spec.facet).toMatchObject({ column: { field: 'machine' }, row: { field: 'panel', sort: ['cpus=1', 'cpus=2', 'cpus=4'] } });
    const q = buildPlotSpec(data(FACETS));
    const qx = (q.spec.spec as { layer: { encoding: { x: Record<string, unknown> } }[] }).layer[0].encoding.x;
    expect(qx).toMatchObject({ type: 'quantitative', scale: { domain: [0.775, 4.225], nice: false, zero: false } });
  });

  test('values a run does not have are left out and counted', () => {
    const p = buildPlotSpec(data(PF1, 'vmstat:speculative_pgfault'));
    // Only dufour-v11 has the line: base and per-vma-lock (4 points x 2 seeds each) are left out.
    expect(p).toMatchObject({ leftOut: 16, lines: 1 });
    expect(new Set(rows(p.spec).map((r) => r.config))).toEqual(new Set(['dufour-v11']));
  });

  test('one seed a point, no config axis: one line, no legend, no bars said', () => {
    // A sweep of one config (no config axis) and one seed: the first seed of each fixture point.
    const d = data(PF1);
    const one: PlotData = {
      ...d,
      repeats: 1,
      axes: d.axes.filter((a) => a.name !== 'config'),
      points: d.points.filter((p) => p.coords.config === 'base').map((p) => ({ coords: { ...p.coords, config: undefined as never }, values: p.values.slice(0, 1) })),
    };
    const p = buildPlotSpec(one);
    expect(p).toMatchObject({ leftOut: 0, lines: 1, panels: 1 });
    const layer = (p.spec as { layer: { encoding: Record<string, { title?: unknown }> }[] }).layer;
    expect(layer.every((l) => l.encoding.color === undefined && l.encoding.shape === undefined)).toBe(true);
    expect(layer[0].encoding.y.title).toEqual(['ops/s', 'one seed a point']);
    expect(rows(p.spec).map((r) => r.value)).toEqual(one.points.map((q) => q.values[0].value));
  });

  test('--x machine: the machines along x as words, no machine panels', () => {
    const p = buildPlotSpec(data(FACETS), { x: 'machine' });
    const x = (p.spec.spec as { layer: { encoding: { x: Record<string, unknown> } }[] }).layer[0].encoding.x;
    expect(x).toMatchObject({ field: 'machine', type: 'ordinal', sort: ['x86-vm16', 'x86-2s8c'] });
    // cpus and size vary: they share the panels, as columns.
    expect(p.spec.facet).toEqual({ field: 'panel', type: 'ordinal', title: null, sort: ['cpus=1, size=128K', 'cpus=1, size=256K', 'cpus=2, size=128K', 'cpus=2, size=256K', 'cpus=4, size=128K', 'cpus=4, size=256K'] });
    expect(p.spec.columns).toBe(3);
    expect(p.panels).toBe(6);
  });

  test('bad options: one line naming the option and what there is', () => {
    expect(() => buildPlotSpec(data(PF1), { x: 'threads' })).toThrow("--x: no axis 'threads' in the sweep; its axes: machine, config, cpus, size");
    expect(() => buildPlotSpec(data(PF1), { x: 'config' })).toThrow('--x: the configs are the lines; choose another axis: machine, cpus, size');
    expect(() => buildPlotSpec(data(PF1), { normalize: 'dufour' })).toThrow("--normalize: 'dufour' is not a config of the sweep; its configs: base, dufour-v11, per-vma-lock");
  });

  test('specText: the spec, its data a row a line', () => {
    const p = buildPlotSpec(data(PF1));
    const text = specText(p.spec);
    expect(JSON.parse(text)).toEqual(p.spec);
    expect(text).toContain('\n    "values": [\n      {"machine":"x86-vm16","config":"base","cpus":1,"size":"256K","seed":1,"value":');
    expect(specText({ a: 1 })).toBe('{\n  "a": 1\n}\n');
  });

  test('fieldRef escapes what vega-lite reads as a path', () => {
    expect(fieldRef('a.b[0]\\c')).toBe('a\\.b\\[0\\]\\\\c');
    expect(fieldRef('cpus')).toBe('cpus');
  });
});
