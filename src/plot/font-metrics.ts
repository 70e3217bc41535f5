/**
 * Text widths from a TrueType font's own advance widths, so that vega lays out labels, legends and
 * titles for the font resvg will draw them in (DejaVu Sans), not for its estimate of 0.8 em a
 * character. Reads the tables a width needs (OpenType spec, "The OpenType Font File"): `head`
 * (unitsPerEm), `hhea` (numberOfHMetrics), `hmtx` (advance widths) and `cmap` (its format 4
 * subtable, Windows Unicode BMP: character to glyph). Kerning is not applied (resvg applies it: a
 * line of text comes out a little narrower than measured, never wider).
 */
import { readFileSync } from 'node:fs';

/** The advance width of a string, in em (multiply by the font size). */
export type AdvanceWidth = (text: string) => number;

interface Tables {
  readonly [tag: string]: { readonly offset: number; readonly length: number };
}

function tables(b: Buffer, file: string): Tables {
  const n = b.readUInt16BE(4);
  const out: Record<string, { offset: number; length: number }> = {};
  for (let i = 0; i < n; i++) {
    const at = 12 + 16 * i;
    out[b.toString('latin1', at, at + 4)] = { offset: b.readUInt32BE(at + 8), length: b.readUInt32BE(at + 12) };
  }
  for (const t of ['head', 'hhea', 'hmtx', 'cmap']) if (out[t] === undefined) throw new Error(`${file}: no '${t}' table: not a TrueType font spfperf can measure`);
  return out;
}

/** The glyph of each BMP character, from the cmap's format 4 subtable (platform 3, encoding 1). */
function charToGlyph(b: Buffer, cmap: number, file: string): (code: number) => number {
  const n = b.readUInt16BE(cmap + 2);
  let sub = -1;
  for (let i = 0; i < n; i++) {
    const at = cmap + 4 + 8 * i;
    if (b.readUInt16BE(at) === 3 && b.readUInt16BE(at + 2) === 1) sub = cmap + b.readUInt32BE(at + 4);
  }
  if (sub < 0 || b.readUInt16BE(sub) !== 4) throw new Error(`${file}: no Unicode BMP (format 4) cmap`);
  const segs = b.readUInt16BE(sub + 6) / 2;
  const ends = sub + 14;
  const starts = ends + 2 * segs + 2;
  const deltas = starts + 2 * segs;
  const rangeOffsets = deltas + 2 * segs;
  return (code) => {
    for (let s = 0; s < segs; s++) {
      if (b.readUInt16BE(ends + 2 * s) < code) continue;
      const start = b.readUInt16BE(starts + 2 * s);
      if (start > code) return 0;
      const delta = b.readUInt16BE(deltas + 2 * s);
      const ro = b.readUInt16BE(rangeOffsets + 2 * s);
      if (ro === 0) return (code + delta) & 0xffff;
      const g = b.readUInt16BE(rangeOffsets + 2 * s + ro + 2 * (code - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
}

/** The advance widths of the font in `file`, as a function of a string. */
export function advanceWidths(file: string): AdvanceWidth {
  const b = readFileSync(file);
  const t = tables(b, file);
  const unitsPerEm = b.readUInt16BE(t.head.offset + 18);
  const metrics = b.readUInt16BE(t.hhea.offset + 34);
  const glyphOf = charToGlyph(b, t.cmap.offset, file);
  const advance = (g: number): number => b.readUInt16BE(t.hmtx.offset + 4 * Math.min(g, metrics - 1));
  const cache = new Map<number, number>();
  const em = (code: number): number => {
    let w = cache.get(code);
    if (w === undefined) {
      w = advance(code > 0xffff ? 0 : glyphOf(code)) / unitsPerEm;
      cache.set(code, w);
    }
    return w;
  };
  return (text) => {
    let w = 0;
    for (const ch of text) w += em(ch.codePointAt(0)!);
    return w;
  };
}
