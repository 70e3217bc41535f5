/**
 * perf diff's layout of two profiles (src/format/profile-diff.ts), checked against the capture of
 * perf 6.1 (fixtures/golden/perf-6.1/perf-diff.txt, a copy of shared/perf-captures/perf-diff.txt:
 * `perf diff d1.data d2.data | head -30`): the same entries give the same lines.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatProfileDiff, profileKey, type Profile, type ProfileEntry } from '../../src/format/profile-diff.js';

function profile(total: number, entries: readonly [string, string, number][]): Profile {
  const m = new Map<string, ProfileEntry>();
  for (const [dso, sym, period] of entries) m.set(profileKey(dso, sym), { dso, sym, period });
  return { event: 'cpu-clock', total, entries: m };
}

const K = '[kernel.kallsyms]';

describe('perf diff layout', () => {
  test('the capture\'s header and first entries, from entries of the same shares', () => {
    // The capture's widths come from entries further down: a 20-character dso, a 43-character symbol.
    const longSym = `[.] ${'x'.repeat(39)}`;
    const base = profile(10000, [[K, '[k] pvm_irq_enable', 3844], [K, '[k] __list_del_entry_valid_or_report', 190], ['ld-linux-x86-64.so.2', longSym, 1]]);
    const other = profile(10000, [['touch', '[.] main', 4710], [K, '[k] pvm_irq_enable', 4155], [K, '[k] __list_del_entry_valid_or_report', 129], ['ld-linux-x86-64.so.2', longSym, 1]]);
    const capture = readFileSync(join(__dirname, '../../fixtures/golden/perf-6.1/perf-diff.txt'), 'utf8').split('\n');
    const ours = formatProfileDiff(base, other).split('\n');
    expect(ours.slice(0, 8)).toEqual(capture.slice(0, 8));
    // The unchanged entry comes last, its delta blank.
    expect(ours[8]).toBe(`     0.01%             ld-linux-x86-64.so.2  ${longSym}`);
  });

  test('sorted by the size of the change, either way; a change under 0.01 % is blank', () => {
    const base = profile(1000, [[K, '[k] a', 500], [K, '[k] b', 300], [K, '[k] c', 200]]);
    const other = profile(1000, [[K, '[k] a', 400], [K, '[k] b', 300], [K, '[k] c', 299], [K, '[k] d', 1]]);
    const rows = formatProfileDiff(base, other).split('\n').slice(5, -1);
    expect(rows.map((r) => r.slice(-1))).toEqual(['a', 'c', 'd', 'b']);
    expect(rows[0]).toMatch(/^ {4}50\.00% {4}-10\.00% /);
    expect(rows[2]).toMatch(/^ {15}\+0\.10% /);
    expect(rows[3]).toMatch(/^ {4}30\.00% {13}\[kernel/);
  });
});
