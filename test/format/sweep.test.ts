import { describe, expect, it } from 'vitest';
import { formatSweepCsv, formatSweepHuman, formatSweepJson, type SweepPointView, type SweepReport } from '../../src/format/sweep.js';

/** Two machines x two sizes x two CPU counts under one config; a point not done, one with no value. */
function report(): SweepReport {
  const points: SweepPointView[] = [];
  let index = 0;
  for (const machine of ['m1', 'm2']) {
    for (const size of ['1M', '2M']) {
      for (const cpus of [1, 4]) {
        const coords = { machine, config: 'base', cpus, size };
        const i = index++;
        if (i === 5) points.push({ index: i, coords, done: false });
        else if (i === 6) points.push({ index: i, coords, done: true, value: null, file: `points/${i}.json` });
        else points.push({ index: i, coords, done: true, value: 1000 * (i + 1) + 0.125, noisePct: i === 0 ? 12.5 : 0.5, file: `points/${i}.json` });
      }
    }
  }
  return {
    command: 'w iterations=1',
    metric: 'workload:ops/s',
    unit: '',
    repeats: 3,
    seeds: [1, 2, 3],
    axes: [
      { name: 'machine', kind: 'machine', values: ['m1', 'm2'] },
      { name: 'config', kind: 'config', values: ['base'] },
      { name: 'cpus', kind: 'cpus', values: [1, 4] },
      { name: 'size', kind: 'param', values: ['1M', '2M'] },
    ],
    points,
  };
}

describe('sweep formatters', () => {
  it('the table: one per machine and parameter values, a row per CPU count; - for a point not done', () => {
    const text = formatSweepHuman(report());
    expect(text.split('\n').slice(0, 4)).toEqual([
      "# spfperf sweep: 'w iterations=1', 8 points, 3 runs each (seeds 1..3)",
      '# workload:ops/s, the mean of the runs; +- x%: its noise (stddev of the mean, in % of the mean, as perf stat -r)',
      '#',
      '# machine m1, size=1M',
    ]);
    expect(text).toContain('│    1 │ 1000.12  +- 12.50% │');
    expect(text).toContain('│    4 │ 2000.12   +- 0.50% │');
    expect(text).toContain('# machine m2, size=2M');
    expect(text).toMatch(/│ +4 │ +- +│/);
    expect(text).toMatch(/│ +1 │ +nan +│/);
    expect(text.match(/^# machine/gm)).toHaveLength(4);
  });

  it('one run a point: no noise column', () => {
    const r = { ...report(), repeats: 1, seeds: [5], points: report().points.map((p) => ({ ...p, noisePct: undefined })) };
    const text = formatSweepHuman(r);
    expect(text.split('\n').slice(0, 2)).toEqual(["# spfperf sweep: 'w iterations=1', 8 points, 1 run each (seed 5)", '# workload:ops/s, the mean of the runs']);
    expect(text).toContain('│    1 │ 1000.12 │');
  });

  it('CSV: a header of the axes, then a line a point, every point', () => {
    const lines = formatSweepCsv('\t')(report()).split('\n');
    expect(lines[0]).toBe('machine\tconfig\tcpus\tsize\tworkload:ops/s\tnoise\tfile');
    expect(lines[1]).toBe('m1\tbase\t1\t1M\t1000.125\t12.50%\tpoints/0.json');
    expect(lines[6]).toBe('m2\tbase\t4\t1M\t<not counted>\t\t');
    expect(lines[7]).toBe('m2\tbase\t1\t2M\tnan\t\tpoints/6.json');
    expect(lines).toHaveLength(10);
  });

  it('JSON: an object a point', () => {
    const objs = formatSweepJson(report()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toEqual({ index: 0, coords: { machine: 'm1', config: 'base', cpus: 1, size: '1M' }, event: 'workload:ops/s', value: 1000.125, unit: '', runs: 3, noise_pct: 12.5, done: true, file: 'points/0.json' });
    expect(objs[5]).toMatchObject({ value: null, noise_pct: null, done: false, file: null });
    expect(objs[6]).toMatchObject({ value: null, done: true });
  });
});
