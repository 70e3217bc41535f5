/**
 * spfperf diff of two cpu-clock recordings (src/commands/diff.ts, src/stats/profile.ts): perf
 * diff's output, from the samples of the model's runs; and the refusals.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spfperf } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'spfperf-diffprof-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUN = ['--cpus', '4', 'page_fault1', 'threads=4', 'iterations=1', 'size=1M'];

describe('spfperf diff of two profiles', () => {
  const base = join(dir, 'base.ndjson');
  const pvl = join(dir, 'pvl.ndjson');
  beforeAll(async () => {
    expect((await spfperf(['record', '-o', base, '-e', 'cpu-clock', '-c', '20000', '-g', ...RUN])).status).toBe(0);
    expect((await spfperf(['record', '-o', pvl, '-e', 'cpu-clock', '-c', '20000', '-g', '--config', 'per-vma-lock', ...RUN])).status).toBe(0);
  });

  test('perf diff\'s header and entries: the mmap lock\'s line under base goes, the VMA lock\'s comes', async () => {
    const r = await spfperf(['diff', base, pvl]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 2)).toEqual(["# Event 'cpu-clock'", '#']);
    expect(lines[2]).toMatch(/^# Baseline {2}Delta Abs {2}Shared Object +Symbol *$/);
    expect(lines[4]).toBe('#');
    const rows = lines.slice(5).filter((l) => l !== '');
    for (const l of rows) expect(l).toMatch(/^ {2}( {8}| *\d+\.\d\d%) {2}( {9}| *[+-]\d+\.\d\d%) {2}\S.* {2}\[[k.]\] \S/);
    // Sorted by the size of the change.
    const delta = (l: string): number => Math.abs(Number.parseFloat(l.slice(12, 21)) || 0);
    for (let i = 1; i < rows.length; i++) expect(delta(rows[i - 1])).toBeGreaterThanOrEqual(delta(rows[i]));
    expect(rows.some((l) => /^ +\d+\.\d\d% +-\d+\.\d\d% +\[kernel\.kallsyms\] +\[k\] cacheline\(mmap_lock\)$/.test(l))).toBe(true);
  });

  test('a profile is compared with a profile, two at a time', async () => {
    const saved = join(dir, 'run.json');
    expect((await spfperf(['stat', '--save', saved, ...RUN])).status).toBe(0);
    const mixed = await spfperf(['diff', base, saved]);
    expect(mixed.status).toBe(1);
    expect(mixed.stderr).toMatch(/^spfperf: diff: .*run\.json is not a cpu-clock recording like .*base\.ndjson: a profile is compared with a profile\n/);
    const three = await spfperf(['diff', base, pvl, base]);
    expect(three.status).toBe(1);
    expect(three.stderr).toMatch(/^spfperf: diff of cpu-clock recordings compares two/);
  });
});
