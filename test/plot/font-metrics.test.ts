import { describe, expect, test } from 'vitest';
import { advanceWidths } from '../../src/plot/font-metrics.js';
import { fontFiles } from '../../src/plot/render.js';

const [regularFile, boldFile] = fontFiles();
const regular = advanceWidths(regularFile);
const bold = advanceWidths(boldFile);

describe('advanceWidths', () => {
  test('a string is the sum of its characters; narrow and wide glyphs differ; bold is wider', () => {
    expect(regular('')).toBe(0);
    expect(regular('per-vma-lock')).toBeCloseTo(regular('per-') + regular('vma-lock'), 12);
    expect(regular('iiii')).toBeLessThan(regular('MMMM') / 2);
    expect(bold('page_fault1')).toBeGreaterThan(regular('page_fault1'));
    // DejaVu Sans's digits share one advance (tabular figures).
    expect(new Set([...'0123456789'].map((d) => regular(d))).size).toBe(1);
    // A character the font does not have takes the .notdef glyph's advance, not 0.
    expect(regular('\u{1F600}')).toBeGreaterThan(0);
  });

  test('matches the width resvg draws the text at (its bounding box, within the side bearings)', async () => {
    const { Resvg } = await import('@resvg/resvg-js');
    for (const [file, weight, measure] of [
      [regularFile, 'normal', regular],
      [boldFile, 'bold', bold],
    ] as const) {
      for (const text of ['per-vma-lock', 'mean of 2 seeds, bars: min–max', 'page_fault1 size=16M']) {
        const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="4000" height="200"><text x="10" y="120" font-family="DejaVu Sans" font-weight="${weight}" font-size="100">${text}</text></svg>`;
        const box = new Resvg(svg, { font: { fontFiles: [file], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' } }).getBBox()!;
        const w = measure(text) * 100;
        // The ink box is narrower than the advance by the first and last glyphs' side bearings.
        expect(w - box.width, `${weight} '${text}': advance ${w}, ink ${box.width}`).toBeGreaterThan(0);
        expect(w - box.width).toBeLessThan(25);
      }
    }
  });
});
