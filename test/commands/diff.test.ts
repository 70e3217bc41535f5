import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

const EB = ['ebizzy', 'threads=2', 'seconds=0.002s', '--cpus', '2'];

async function save(dir: string, name: string, args: readonly string[]): Promise<Record<string, unknown>> {
  const r = await spfperf(['stat', '--save', name, '-e', 'faults', ...args], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;
}

describe('stat --save', () => {
  it('writes one JSON document: description, config, seeds, times, counters, vmstat, metrics, counts, runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-save-'));
    const doc = await save(dir, 'run.json', ['-r', '2', '--config', 'spf', ...EB]);
    expect(Object.keys(doc)).toEqual(['spfperf', 'format', 'workload', 'arch', 'machine', 'cpus', 'config', 'seeds', 'elapsed', 'user', 'sys', 'counters', 'vmstat', 'metrics', 'counts', 'runs']);
    expect(doc).toMatchObject({
      format: 1,
      workload: { name: 'ebizzy', args: ['threads=2', 'seconds=0.002s'], params: { threads: 2, ncpus: 2, seconds: 2000000 } },
      arch: 'x86',
      machine: 'x86-vm16',
      cpus: 2,
      config: { label: 'dufour-v11', sources: ['spf'], settings: { design: 'dufour' } },
      seeds: [1, 2],
    });
    const runs = doc.runs as { seed: number; counters: Record<string, number> }[];
    expect(runs.map((r) => r.seed)).toEqual([1, 2]);
    const counters = doc.counters as Record<string, number>;
    expect(counters['page-faults']).toBe((runs[0].counters['page-faults'] + runs[1].counters['page-faults']) / 2);
    expect((doc.vmstat as Record<string, number>).speculative_pgfault).toBeGreaterThan(0);
    expect((doc.metrics as Record<string, { value: number }>)['records/s'].value).toBeGreaterThan(0);
    // The workload's counters: each run's, and their mean; records/s is records per second.
    const counts = runs.map((r) => (r as unknown as { counts: Record<string, number> }).counts.records);
    expect(counts[0]).toBeGreaterThan(0);
    expect((doc.counts as Record<string, number>).records).toBe((counts[0] + counts[1]) / 2);
  });
});

describe('spfperf diff', () => {
  it('compares two --save files: a column per config, the delta, a note on other differences (golden)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-diff-'));
    await save(dir, 'base.json', EB);
    await save(dir, 'spf.json', ['--config', 'dufour-v11', '--cpus', '2', 'ebizzy', 'threads=4', 'seconds=0.002s']);
    const r = await spfperf(['diff', 'base.json', 'spf.json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden('diff/base-vs-spf.txt', r.stdout);
    expect(r.stdout).toMatch(/\n +BASE +DUFOUR-V11 +delta +ratio\n/);
    expect(r.stdout).toContain('# NOTE: the inputs differ in more than the kernel config:\n#   parameter threads: 2 (BASE), 4 (DUFOUR-V11)\n');
    expect(r.stdout).toMatch(/\nspeculative-faults +0 +\d+ +n\/a +n\/a\n/);
    expect(r.stdout).toMatch(/\npage-faults +\d+ +\d+ +[+-]\d+\.\d\d% +\d\.\d{3}\n/);
  });

  it('labels columns by file name when the configs are the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-diff-'));
    await save(dir, 'one.json', EB);
    await save(dir, 'two.json', ['--seed', '2', ...EB]);
    const r = await spfperf(['diff', 'one.json', 'two.json'], { cwd: dir });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\n +one\.json +two\.json +delta +ratio\n/);
    expect(r.stdout).toContain('#   seeds: 1 (one.json), 2 (two.json)');
  });

  it('reads a record trace: its header line and its final summary line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-diff-'));
    const saved = await save(dir, 'base.json', EB);
    const { runs: _r, elapsed, user, sys, counters, vmstat, metrics, ...description } = saved;
    const trace = [
      { type: 'header', trace_format: 1, ...description, config: { label: 'lespinasse', sources: ['lespinasse'], settings: {} } },
      { type: 'sample', ts: 100, cpu: 0, pid: 1000, tid: 1001, comm: 'ebizzy', event: 'faults' },
      { type: 'sample', ts: 200, cpu: 1, pid: 1000, tid: 1002, comm: 'ebizzy', event: 'faults' },
      { type: 'summary', seed: 1, elapsed: (elapsed as number) / 2, user, sys, counters: { ...(counters as object), 'page-faults': 2 * (counters as Record<string, number>)['page-faults'] }, vmstat, metrics },
    ];
    writeFileSync(join(dir, 'trace.ndjson'), trace.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const r = await spfperf(['diff', 'base.json', 'trace.ndjson'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\n +BASE +LESPINASSE +delta +ratio\n/);
    expect(r.stdout).toMatch(/\npage-faults +\d+ +\d+ +\+100\.00% +2\.000\n/);
    expect(r.stdout).toMatch(/\nseconds time elapsed +[\d.]+ +[\d.]+ +-50\.00% +0\.500\n/);
    expect(r.stdout).toContain('#   LESPINASSE   trace.ndjson: config lespinasse\n');
    expect(r.stdout).not.toContain('NOTE');
  });

  it('a missing, unreadable or foreign file: one line naming it, exit 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-diff-'));
    await save(dir, 'a.json', EB);
    writeFileSync(join(dir, 'notes.txt'), 'not a run\n');
    writeFileSync(join(dir, 'cut.ndjson'), JSON.stringify({ type: 'header', trace_format: 1, ...JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) }) + '\n');
    for (const [file, msg] of [
      ['nope.json', "spfperf: cannot read 'nope.json': no such file\n"],
      ['notes.txt', "spfperf: 'notes.txt' is not an spfperf --save file or record trace\n"],
      ['cut.ndjson', "spfperf: 'cut.ndjson' has no summary line (the recording did not finish)\n"],
    ]) {
      const r = await spfperf(['diff', 'a.json', file], { cwd: dir });
      expect(r.status, file).toBe(1);
      expect(r.stderr).toBe(msg);
      expect(r.stdout).toBe('');
    }
    const one = await spfperf(['diff', 'a.json'], { cwd: dir });
    expect(one.status).toBe(1);
    expect(one.stderr).toBe('spfperf: diff needs at least two files to compare\n');
  });
});

describe('stat --compare', () => {
  it('runs the workload under each config and prints the table to stdout (golden)', async () => {
    const r = await spfperf(['stat', '--compare', 'base,dufour-v11', 'ebizzy', 'threads=4', '--cpus', '4', 'seconds=0.005s']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden('stat/ebizzy.compare.txt', r.stdout);
    expect(r.stdout).toMatch(/\n +BASE +DUFOUR-V11 +delta +ratio\n/);
    // 3 seeds per config by default: each value with its noise, the delta, the ratio.
    expect(r.stdout).toMatch(/^# spfperf diff: .*, seeds 1\.\.3\n/);
    expect(r.stdout).toMatch(/\nworkload:records\/s +\d+\.\d\d +\+- +\d+\.\d\d% +\d+\.\d\d +\+- +\d+\.\d\d% +[+-]\d+\.\d\d%( ~)? +\d\.\d{3}\n/);
    expect(r.stdout).toMatch(/\nspeculative-faults +0 +\+- 0\.00% +[\d.]+ +\+- +[\d.]+% +n\/a +n\/a\n/);
    expect(r.stdout).not.toContain('NOTE');
    // -r 1: one run per config, no noise.
    const one = await spfperf(['stat', '-r', '1', '--compare', 'base,dufour-v11', ...EB]);
    expect(one.stdout).toMatch(/, seed 1\n/);
    expect(one.stdout).not.toContain('+-');
  });

  it('--save PREFIX writes one document per config, which diff reads back to the same table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-compare-'));
    const r = await spfperf(['stat', '--compare', 'base,dufour-v11', '--save', join(dir, 'eb'), ...EB]);
    expect(r.status, r.stderr).toBe(0);
    const d = await spfperf(['diff', join(dir, 'eb.base.json'), join(dir, 'eb.dufour-v11.json')]);
    expect(d.status, d.stderr).toBe(0);
    // The same table but for the legend's file names.
    const body = (t: string): string => t.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(body(d.stdout)).toBe(body(r.stdout));
    expect((JSON.parse(readFileSync(join(dir, 'eb.base.json'), 'utf8')) as { runs: unknown[] }).runs).toHaveLength(3);
  });

  it('applies the other --config values to every compared config', async () => {
    const r = await spfperf(['stat', '-r', '1', '--config', 'CONFIG_DEBUG_TLBFLUSH=n', '--compare', 'base,spf', ...EB]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('#   BASE         config base (CONFIG_DEBUG_TLBFLUSH=n base)\n');
    expect(r.stdout).toContain('#   DUFOUR-V11   config dufour-v11 (CONFIG_DEBUG_TLBFLUSH=n spf)\n');
    expect(r.stdout).not.toContain('nr_tlb');
  });
});
