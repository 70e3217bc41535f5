import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkOutputDir, clearOldSweep, writeIndex } from '../../src/commands/sweep-output.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-sweep-out-'));
const check = (dir: string, force = false): string[] => checkOutputDir(dir, force, [join(dir, 'points', '0000-a.json')], 'page_fault1', []);

describe('the output directory of a sweep', () => {
  it('takes a new or empty directory, with nothing to remove', () => {
    expect(check(join(tmp(), 'new'))).toEqual([]);
    expect(check(tmp())).toEqual([]);
  });

  it('takes an old sweep (its index, or only its points: a sweep killed before its index), and names its files to remove', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'points'));
    writeFileSync(join(dir, 'points', '0007-x.json'), '{}');
    expect(check(dir)).toEqual([join(dir, 'points', '0007-x.json')]);
    writeIndex(dir, { spfperf_sweep: 1, points: [] });
    writeFileSync(join(dir, 'plot.png'), '');
    expect(check(dir)).toEqual([join(dir, 'sweep.json'), join(dir, 'points', '0007-x.json')]);
    clearOldSweep(dir, check(dir));
    expect(() => check(dir)).toThrow(/holds no sweep/);
    // What the command does next: an index of no points yet, so the directory stays a sweep's.
    writeIndex(dir, { spfperf_sweep: 1, points: [] });
    expect(check(dir)).toEqual([join(dir, 'sweep.json')]);
    expect(readFileSync(join(dir, 'plot.png'), 'utf8')).toBe('');
  });

  it('refuses a directory of other files (a sweep.json that is not an index among them) unless forced', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'sweep.json'), '{"mine": true}\n');
    expect(() => check(dir)).toThrow(`option '-o': '${dir}' is not empty and holds no sweep (sweep.json); give --force to write into it, or another directory`);
    // Forced: its sweep.json is overwritten (it is an output), other files stay.
    expect(check(dir, true)).toEqual([join(dir, 'sweep.json')]);
  });
});
