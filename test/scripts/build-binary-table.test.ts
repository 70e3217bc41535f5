/**
 * The decoder of source-map mappings scripts/build-binary.mjs builds the binary's tables of modules
 * by line with (src/trace/bundle-frames.ts reads them): each generated line's first source. The
 * binary itself is tested by test/scripts/build-binary.test.ts (npm run check-binary).
 */
import { describe, expect, test } from 'vitest';
// @ts-expect-error a plain .mjs script without types
import { lineSources } from '../../scripts/build-binary.mjs';

describe("the binary's module table: a source map's lines", () => {
  test('each line gives the source of its first segment; a line with none gives -1', () => {
    // Segments: [column, source delta, line, column]; the source index is relative to the last one.
    // Line 1: source 0. Line 2: source 0 (delta 0), then source 1 (C = +1). Line 3: no segment.
    // Line 4: source 1 again (delta 0). Line 5: a 1-field segment (no source), then source 0 (D = -1).
    expect(lineSources('AAAA;AAAA,ECAA;;AAAA;A,ADAA')).toEqual([0, 0, -1, 1, 0]);
  });

  test('multi-digit values: a source delta of 16 (gB) and of -16 (hB)', () => {
    expect(lineSources('AgBAA;AhBAA')).toEqual([16, 0]);
  });

  test('refuses a character that is not base64', () => {
    expect(() => lineSources('AA!A')).toThrow(/bad source map character !/);
  });
});
