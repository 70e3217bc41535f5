import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkSweepIndex, loadSweep, readSweepIndex } from '../../src/plot/sweep.js';
import { ROOT } from '../helpers/golden.js';
import { FACETS, makeSweep, PF1 } from '../helpers/sweep-fixture.js';

const FIXTURES = join(ROOT, 'fixtures', 'sweep');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('the sweep fixtures', () => {
  // They are real runs: made again here, they are the same bytes (UPDATE_GOLDEN=1 writes them).
  test.each([
    ['page_fault1', PF1],
    ['facets', FACETS],
  ] as const)('fixtures/sweep/%s is what its runs give', async (name, f) => {
    const want = join(FIXTURES, name);
    if (process.env.UPDATE_GOLDEN === '1') {
      rmSync(want, { recursive: true, force: true });
      await makeSweep(want, f);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-sweep-'));
    await makeSweep(dir, f);
    expect(files(dir)).toEqual(files(want));
    for (const file of files(dir)) expect(readFileSync(join(dir, file), 'utf8'), file).toBe(readFileSync(join(want, file), 'utf8'));
  }, 120_000);
});

describe('checkSweepIndex', () => {
  const good = (): Record<string, unknown> => JSON.parse(readFileSync(join(FIXTURES, 'page_fault1', 'sweep.json'), 'utf8'));
  const problem = (edit: (d: any) => void): string => {
    const d = good();
    edit(d);
    try {
      checkSweepIndex(d, 'S');
      return 'accepted';
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
      return (e as Error).message;
    }
  };

  test('the fixture is a sweep index: its axes and points as written', () => {
    const s = checkSweepIndex(good(), 'S');
    expect(s.axes.map((a) => [a.name, a.kind, a.values])).toEqual([
      ['machine', 'machine', ['x86-vm16']],
      ['config', 'config', ['base', 'dufour-v11', 'per-vma-lock']],
      ['cpus', 'cpus', [1, 2, 4, 8]],
      ['size', 'param', ['256K']],
    ]);
    expect(s.points[5]).toEqual({ index: 5, coords: { machine: 'x86-vm16', config: 'dufour-v11', cpus: 2, size: '256K' }, file: 'points/0005-x86-vm16-dufour-v11-2-256K.json' });
  });

  test('each bad field by its JSON path', () => {
    expect(problem((d) => delete d.spfperf_sweep)).toBe('S: spfperf_sweep: missing: not a sweep index (spfperf sweep writes sweep.json)');
    expect(problem((d) => (d.spfperf_sweep = 2))).toBe('S: spfperf_sweep: format 2, newer than this spfperf reads (1)');
    expect(problem((d) => (d.workload.args = ['a', 3]))).toBe('S: workload.args[1]: expected a string, found number 3');
    expect(problem((d) => (d.repeats = 0))).toBe('S: repeats: expected a whole number of runs, 1 or more, found number 0');
    expect(problem((d) => (d.axes[1].kind = 'design'))).toBe('S: axes[1].kind: expected one of machine, config, cpus, param, found the string "design"');
    expect(problem((d) => (d.axes[2].values = [1, 2, 2]))).toBe('S: axes[2].values[2]: 2 given twice');
    expect(problem((d) => (d.axes[2].values = [1, 0.5]))).toBe('S: axes[2].values[1]: expected a CPU count, found number 0.5');
    expect(problem((d) => (d.axes[3].name = 'cpus'))).toBe("S: axes[3].name: axis 'cpus' given twice");
    expect(problem((d) => delete d.points[7].coords.config)).toBe("S: points[7].coords.config: expected one of the axis' values (\"base\", \"dufour-v11\", \"per-vma-lock\"), found missing");
    expect(problem((d) => (d.points[7].coords.threads = 2))).toBe('S: points[7].coords.threads: not an axis of the sweep');
    expect(problem((d) => (d.points[1].coords = d.points[0].coords))).toBe('S: points[1].coords: the same coordinates as points[0]');
    expect(problem((d) => (d.points[2].file = ''))).toBe('S: points[2].file: expected a non-empty string, found the string ""');
    expect(problem((d) => (d.points = {}))).toBe('S: points: expected an array, found an object');
  });

  test('readSweepIndex: a directory is its sweep.json; a missing file exits 1', () => {
    expect(readSweepIndex(join(FIXTURES, 'facets')).file).toBe(join(FIXTURES, 'facets', 'sweep.json'));
    expect(() => readSweepIndex(join(FIXTURES, 'nowhere'))).toThrow(`cannot read '${join(FIXTURES, 'nowhere')}': No such file or directory`);
  });

  test('loadSweep: each point with each seed\'s run; a point whose document does not match is refused', async () => {
    const s = await loadSweep(join(FIXTURES, 'page_fault1', 'sweep.json'));
    expect(s.points).toHaveLength(12);
    expect(s.points[0].runs.map((r) => [r.seeds, r.cpus, r.config.label])).toEqual([
      [[1], 1, 'base'],
      [[2], 1, 'base'],
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-sweep-'));
    cpSync(join(FIXTURES, 'page_fault1'), dir, { recursive: true });
    const d = good() as { points: { file: string }[] };
    // Point 1 (2 CPUs) given the document of point 0 (1 CPU).
    d.points[1].file = d.points[0].file;
    writeFileSync(join(dir, 'sweep.json'), JSON.stringify(d));
    await expect(loadSweep(dir)).rejects.toThrow(`${join(dir, 'sweep.json')}: points[1] (${d.points[0].file}): a run on 1 CPUs, not on 2`);
  });
});
