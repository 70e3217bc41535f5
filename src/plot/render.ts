/**
 * Drawing a vega-lite spec without a browser: vega-lite compiles it to a vega spec, vega's View
 * runs headless (`renderer: 'none'`) and writes SVG; resvg turns the SVG into PNG with the DejaVu
 * Sans of the `dejavu-fonts-ttf` package (system fonts off), so a picture is the same on every
 * machine. vega, vega-lite and resvg are loaded here, on first use, with dynamic imports: a
 * command that draws nothing (and `spfperf --help`) never loads them.
 *
 * Text widths: with no canvas package, vega would size text from an estimate (0.8 em a character,
 * vega-scenegraph's estimateWidth); it is given the widths of DejaVu Sans instead
 * (src/plot/font-metrics.ts), through vega's hook for that, `textMetrics.width`, so labels,
 * legends and titles get the room the font that draws them needs.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PLOT_FONT, type VlSpec } from '../format/plot-spec.js';
import { advanceWidths } from './font-metrics.js';

/** A PNG has this many pixels per CSS pixel of the SVG (a 2x picture: sharp in a paper or on a screen). */
export const PNG_SCALE = 2;

/** The font files resvg loads: DejaVu Sans, regular and bold (titles). */
export function fontFiles(): string[] {
  const dir = join(dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return [join(dir, 'DejaVuSans.ttf'), join(dir, 'DejaVuSans-Bold.ttf')];
}

/** What vega's textMetrics.width is given: an item's font size and weight, and its text. */
interface TextItem {
  readonly fontSize?: number | string;
  readonly fontWeight?: number | string;
}

let measured = false;

/** Have vega measure text in DejaVu Sans (regular, or bold for a weight of 600 or more). */
function measureInDejaVu(textMetrics: { width: (item: TextItem, text: unknown) => number }): void {
  if (measured) return;
  const [regular, bold] = fontFiles().map(advanceWidths);
  textMetrics.width = (item, text) => {
    const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
    const s = text == null ? '' : String(text).trim();
    const w = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600 ? bold : regular;
    return size <= 0 ? 0 : w(s) * size;
  };
  measured = true;
}

/**
 * The SVG of a vega-lite spec. What vega-lite or vega warn of comes back in `warnings` (nothing is
 * printed here).
 */
export async function renderSvg(spec: VlSpec): Promise<{ svg: string; width: number; height: number; warnings: string[] }> {
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const warnings: string[] = [];
  const logger = {
    level(): number {
      return 0;
    },
    error(...a: unknown[]): void {
      throw new Error(a.map(String).join(' '));
    },
    warn(...a: unknown[]): void {
      warnings.push(a.map(String).join(' '));
    },
    info(): void {},
    debug(): void {},
  };
  // Exported by vega (from vega-scenegraph), though its typings leave it out.
  measureInDejaVu((vega as unknown as { textMetrics: Parameters<typeof measureInDejaVu>[0] }).textMetrics);
  const compiled = vl.compile(spec as never, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logger: logger as never });
  try {
    const svg = await view.toSVG();
    const m = /^<svg[^>]*\bwidth="([\d.]+)" height="([\d.]+)"/.exec(svg);
    return { svg, width: m !== null ? Number(m[1]) : NaN, height: m !== null ? Number(m[2]) : NaN, warnings };
  } finally {
    view.finalize();
  }
}

/** The PNG of an SVG, at PNG_SCALE pixels per CSS pixel, in DejaVu Sans with no system font. */
export async function renderPng(svg: string): Promise<Buffer> {
  return (await rasterize(svg)).png;
}

/** The PNG, and its size and RGBA pixels (for tests: what was drawn). */
export async function rasterize(svg: string): Promise<{ png: Buffer; width: number; height: number; pixels: Buffer }> {
  const { Resvg } = await import('@resvg/resvg-js');
  const r = new Resvg(svg, {
    font: { fontFiles: fontFiles(), loadSystemFonts: false, defaultFontFamily: PLOT_FONT, sansSerifFamily: PLOT_FONT },
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    background: 'white',
  });
  const img = r.render();
  return { png: img.asPng(), width: img.width, height: img.height, pixels: img.pixels };
}
