import { describe, expect, test } from 'vitest';
import { measureNames, resolveMeasure } from '../../src/plot/measure.js';
import { loadSweep } from '../../src/plot/sweep.js';
import { ROOT } from '../helpers/golden.js';
import { join } from 'node:path';

const sweep = await loadSweep(join(ROOT, 'fixtures', 'sweep', 'page_fault1'));
const runs = sweep.points.flatMap((p) => p.runs);
const byConfig = (c: string) => sweep.points.filter((p) => p.coords.config === c).flatMap((p) => p.runs);

describe('resolveMeasure', () => {
  test('default: the workload metric stat prints (workload:ops/s)', () => {
    const m = resolveMeasure(undefined, runs);
    expect(m.key).toBe('workload:ops/s');
    expect(m.title).toBe('ops/s');
    expect(runs.map((r) => m.of(r))).toEqual(runs.map((r) => r.metrics['ops/s'].value));
    expect(resolveMeasure('ops/s', runs).key).toBe('workload:ops/s');
  });

  test('events by perf name or alias, tracepoints, workload counters, vmstat lines, times', () => {
    const r = runs[0];
    expect(resolveMeasure('faults', runs)).toMatchObject({ key: 'page-faults', title: 'page-faults' });
    expect(resolveMeasure('faults', runs).of(r)).toBe(r.counters['page-faults']);
    expect(resolveMeasure('spf', runs).key).toBe('speculative-faults');
    expect(resolveMeasure('pagefault:spf_vma_changed', runs).key).toBe('pagefault:spf_vma_changed');
    expect(resolveMeasure('ops', runs).key).toBe('count:ops');
    expect(resolveMeasure('count:ops', runs).of(r)).toBe(r.counts.ops);
    expect(resolveMeasure('pgfault', runs).key).toBe('vmstat:pgfault');
    expect(resolveMeasure('elapsed', runs)).toMatchObject({ key: 'elapsed', title: 'elapsed (s)' });
    expect(resolveMeasure('sys', runs).of(r)).toBe(r.sys);
    const tc = resolveMeasure('task-clock', runs);
    expect(tc.title).toBe('task-clock (msec)');
    expect(tc.of(r)).toBe(r.counters['task-clock'] / 1e6);
  });

  test('a vmstat line only some configs have: a value under them, none under the others', () => {
    const m = resolveMeasure('vmstat:speculative_pgfault', runs);
    expect(byConfig('dufour-v11').every((r) => m.of(r)! > 0)).toBe(true);
    expect(byConfig('base').map((r) => m.of(r))).toEqual(byConfig('base').map(() => undefined));
  });

  test('an unknown name: a usage error that lists what the sweep has', () => {
    expect(() => resolveMeasure('bogus', runs)).toThrow(/^--y: 'bogus' is not counted in this sweep; it has: workload:ops\/s, task-clock, page-faults, .*count:ops, vmstat:pgfault, .*elapsed, user, sys$/);
    expect(() => resolveMeasure('vmstat:page-faults', runs)).toThrow(/--y: 'vmstat:page-faults' is not counted/);
    expect(measureNames(runs)).toContain('vmstat:speculative_pgfault');
  });
});
