import { describe, expect, it } from 'vitest';
import { columnLabels, differences, formatDiff, type DiffColumn } from '../../src/format/diff.js';
import type { RunSummary } from '../../src/stats/save.js';

function summary(label: string, o: { counters?: Record<string, number>; vmstat?: Record<string, number>; metric?: number; cpus?: number; threads?: number; seeds?: number[] } = {}): RunSummary {
  return {
    spfperf: '0.1.0',
    format: 1,
    workload: { name: 'ebizzy', file: 'workloads/ebizzy.spf', args: ['threads=4'], params: { ncpus: o.cpus ?? 4, seed: 1, threads: o.threads ?? 4 } },
    arch: 'x86',
    machine: 'x86-vm16',
    cpus: o.cpus ?? 4,
    config: { label, sources: [label], settings: {} },
    seeds: o.seeds ?? [1],
    elapsed: 0.01,
    user: 0.001,
    sys: 0.02,
    counters: o.counters ?? { 'task-clock': 2e7, 'page-faults': 1000, 'speculative-faults': 0 },
    vmstat: o.vmstat ?? { pgfault: 1000, pgmajfault: 0 },
    metrics: { 'records/s': { value: o.metric ?? 100, unit: '' } },
  };
}

const col = (label: string, alt: string, s: RunSummary): DiffColumn => ({ label, altLabel: alt, file: alt, run: s });

describe('diff table', () => {
  it('labels columns by config (upper case), by file where configs clash', () => {
    expect(columnLabels([col('base', 'a.json', summary('base')), col('dufour-v11', 'b.json', summary('dufour-v11'))])).toEqual(['BASE', 'DUFOUR-V11']);
    expect(columnLabels([col('base', 'a.json', summary('base')), col('base', 'b.json', summary('base')), col('spf', 'c.json', summary('spf'))])).toEqual(['a.json', 'b.json', 'SPF']);
    expect(columnLabels([col('base', 'a.json', summary('base')), col('base', 'a.json', summary('base'))])).toEqual(['a.json#1', 'a.json#2']);
  });

  it('prints one row per nonzero counter, metric and vmstat line, with the delta against the first', () => {
    const a = summary('base', { metric: 100 });
    const b = summary('dufour-v11', { metric: 150, counters: { 'task-clock': 3e7, 'page-faults': 900, 'speculative-faults': 800 }, vmstat: { pgfault: 900, pgmajfault: 0, speculative_pgfault: 800 } });
    const out = formatDiff([col('base', 'a.json', a), col('dufour-v11', 'b.json', b)]);
    const lines = out.split('\n');
    const header = lines.find((l) => !l.startsWith('#') && l.includes('BASE'))!;
    expect(header).toMatch(/^ +BASE +DUFOUR-V11 +delta +ratio$/);
    expect(out).toMatch(/\nworkload:records\/s +100\.00 +150\.00 +\+50\.00% +1\.500\n/);
    expect(out).toMatch(/\ntask-clock \(msec\) +20\.00 +30\.00 +\+50\.00% +1\.500\n/);
    expect(out).toMatch(/\npage-faults +1000 +900 +-10\.00% +0\.900\n/);
    expect(out).toMatch(/\nspeculative-faults +0 +800 +n\/a +n\/a\n/);
    expect(out).toMatch(/\nvmstat:speculative_pgfault +- +800\n/);
    expect(out).not.toContain('pgmajfault');
    expect(out).toMatch(/\nseconds time elapsed +0\.010000 +0\.010000 +\+0\.00% +1\.000\n/);
    expect(out).not.toContain('NOTE');
    // Values right-aligned under their labels.
    const end = (s: string, word: string): number => s.indexOf(word) + word.length;
    const pf = lines.find((l) => l.startsWith('page-faults'))!;
    expect(end(pf, '1000')).toBe(end(header, 'BASE'));
  });

  it('notes what differs besides the config', () => {
    const cols = [col('base', 'a.json', summary('base')), col('spf', 'b.json', summary('spf', { cpus: 16, threads: 16, seeds: [2] }))];
    const d = differences(cols, ['BASE', 'SPF']);
    expect(d).toEqual(['parameter threads: 4 (BASE), 16 (SPF)', 'cpus: 4 (BASE), 16 (SPF)', 'seeds: 1 (BASE), 2 (SPF)']);
    expect(formatDiff(cols)).toContain('# NOTE: the inputs differ in more than the kernel config:\n#   parameter threads: 4 (BASE), 16 (SPF)\n');
  });

  it('takes three or more inputs, each with its delta', () => {
    const out = formatDiff([col('base', 'a', summary('base', { metric: 100 })), col('spf', 'b', summary('spf', { metric: 200 })), col('pvl', 'c', summary('pvl', { metric: 50 }))]);
    expect(out).toMatch(/\n +BASE +SPF +delta +ratio +PVL +delta +ratio\n/);
    expect(out).toMatch(/\nworkload:records\/s +100\.00 +200\.00 +\+100\.00% +2\.000 +50\.00 +-50\.00% +0\.500\n/);
  });

  it('with several runs per input: perf\'s "+- x.xx%" noise after each value, a delta within the noise marked ~', () => {
    /** An input of runs whose records/s are `metrics` and page-faults `faults`. */
    const withRuns = (label: string, metrics: number[], faults: number[]): RunSummary => {
      const runs = metrics.map((m, i) => ({ seed: i + 1, elapsed: 0.01, user: 0.001, sys: 0.02, counters: { 'page-faults': faults[i] }, vmstat: {}, metrics: { 'records/s': { value: m, unit: '' } } }));
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      return { ...summary(label, { metric: mean(metrics), counters: { 'page-faults': mean(faults) }, seeds: [1, 2, 3] }), runs } as RunSummary;
    };
    // records/s: 100 +- 10 % against 105 +- 0 %: +5 % is within the noise; page-faults: 1000 +- 0 % against 1100 +- 0.91 %: +10 % is not.
    const a = withRuns('base', [80, 100, 120], [1000, 1000, 1000]);
    const b = withRuns('spf', [105, 105, 105], [1080, 1100, 1120]);
    const out = formatDiff([col('base', 'a', a), col('spf', 'b', b)]);
    expect(out).toMatch(/\nworkload:records\/s +100\.00 +\+- 11\.55% +105\.00 +\+- 0\.00% +\+5\.00% ~ +1\.050\n/);
    expect(out).toMatch(/\npage-faults +1000 +\+- 0\.00% +1100 +\+- 1\.05% +\+10\.00% +1\.100\n/);
    expect(out).toContain('# a delta marked ~ is within the noise of the two inputs');
    // An input of one run has no noise column; without any, no legend.
    expect(formatDiff([col('base', 'a', summary('base')), col('spf', 'b', summary('spf'))])).not.toMatch(/\+-|~/);
  });
});
