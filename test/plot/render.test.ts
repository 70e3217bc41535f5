import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { buildPlotSpec } from '../../src/format/plot-spec.js';
import { resolveMeasure } from '../../src/plot/measure.js';
import { fontFiles, PNG_SCALE, rasterize, renderSvg } from '../../src/plot/render.js';
import { loadSweep } from '../../src/plot/sweep.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

const sweep = await loadSweep(join(ROOT, 'fixtures', 'sweep', 'page_fault1'));
const measure = resolveMeasure(undefined, sweep.points.flatMap((p) => p.runs));
const { spec } = buildPlotSpec({
  workload: sweep.index.workload,
  repeats: sweep.index.repeats,
  axes: sweep.index.axes,
  points: sweep.points.map((p) => ({ coords: p.coords, values: p.runs.map((r) => ({ seed: r.seeds[0], value: measure.of(r) })) })),
  measure,
});

const count = (s: string, re: RegExp): number => (s.match(re) ?? []).length;

describe('renderSvg', () => {
  test('page_fault1: three lines, error bars, points, a legend, both axis titles, DejaVu Sans (golden SVG)', async () => {
    const r = await renderSvg(spec);
    expect(r.warnings).toEqual([]);
    // vega's SVG is the same for the same spec, also a second time in one process.
    expect((await renderSvg(spec)).svg).toBe(r.svg);
    expectGolden('plot/page_fault1.svg', r.svg);
    expect(r.svg).toMatch(new RegExp(`^<svg [^>]*width="${r.width}" height="${r.height}"`));
    // One line per config; an error bar and a mean (a point) for each config at each CPU count.
    const role = (name: string): number => count(r.svg, new RegExp(`aria-roledescription="${name}"`, 'g'));
    expect([role('line mark'), role('errorbar'), role('point'), role('legend'), role('axis')]).toEqual([3, 12, 12, 1, 2]);
    // The error bars span the seeds' values: vertical rules of some length (the seeds differ).
    const bars = [...r.svg.matchAll(/aria-roledescription="errorbar" [^>]*x2="([-\d.e]+)" y2="([-\d.e]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(bars).toHaveLength(12);
    for (const [x2, y2] of bars) expect([x2, Math.abs(y2) > 0]).toEqual([0, true]);
    const texts = [...r.svg.matchAll(/<(?:text|tspan)\b[^>]*>([^<]+)<\/(?:text|tspan)>/g)].map((m) => m[1]);
    expect(texts).toEqual(expect.arrayContaining(['base', 'dufour-v11', 'per-vma-lock', 'config', 'CPUs', 'ops/s', 'mean of 2 seeds, bars: min–max', 'page_fault1 seconds=0.0005s']));
    for (const t of r.svg.matchAll(/font-family="([^"]*)"/g)) expect(t[1]).toBe('DejaVu Sans');
  });
});

describe('rasterize', () => {
  test('a PNG of the SVG at twice its size', async () => {
    const { svg, width, height } = await renderSvg(spec);
    const r = await rasterize(svg);
    expect(r.png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR: width and height, big-endian, at bytes 16 and 20.
    expect([r.png.readUInt32BE(16), r.png.readUInt32BE(20)]).toEqual([width * PNG_SCALE, height * PNG_SCALE]);
    expect([r.width, r.height]).toEqual([width * PNG_SCALE, height * PNG_SCALE]);
  });

  test("text is drawn in the package's DejaVu Sans, with no system font", async () => {
    expect(fontFiles().map((f) => statSync(f).isFile())).toEqual([true, true]);
    const dark = async (family: string): Promise<number> => {
      const r = await rasterize(`<svg xmlns="http://www.w3.org/2000/svg" width="120" height="30"><text x="4" y="22" font-family="${family}" font-size="20">MWMW</text></svg>`);
      let n = 0;
      for (let i = 0; i < r.pixels.length; i += 4) if (r.pixels[i] < 128) n++;
      return n;
    };
    expect(await dark('DejaVu Sans')).toBeGreaterThan(200);
    // A family that is not loaded falls back to DejaVu Sans: the same pixels, whatever the system has.
    expect(await dark('Liberation Serif')).toBe(await dark('DejaVu Sans'));
  });
});

describe('loading', () => {
  test('only src/plot/render.ts loads vega, vega-lite and resvg, and with dynamic imports', () => {
    const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]));
    const users = walk(join(ROOT, 'src')).filter((f) => /['"](vega|vega-lite|@resvg\/resvg-js)['"]/.test(readFileSync(f, 'utf8')));
    expect(users.map((f) => relative(ROOT, f))).toEqual(['src/plot/render.ts']);
    const text = readFileSync(join(ROOT, 'src', 'plot', 'render.ts'), 'utf8');
    expect(text).not.toMatch(/^import [^;]*from ['"](vega|vega-lite|@resvg\/resvg-js)['"]/m);
  });
});
