import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parsePerfStat, parsePerfStatLine, perfTotals } from '../../src/calibrate/perf-stat.js';
import { ROOT } from '../helpers/golden.js';

/** Captures of real perf 6.1 (fixtures/perf-captures/README.md). */
const CAPTURES = join(ROOT, 'fixtures', 'perf-captures');
function capture(name: string): string {
  return readFileSync(join(CAPTURES, name), 'utf8');
}

describe('perf stat -x, captures', () => {
  test('stat-csv.txt: three software events', () => {
    const cs = parsePerfStat(capture('stat-csv.txt'));
    expect(cs.map((c) => c.event)).toEqual(['faults', 'minor-faults', 'major-faults']);
    expect(cs[0]).toEqual({ event: 'faults', value: 25651, unit: '', runtimeNs: 36693208, runningPct: 100 });
    expect(cs[2].value).toBe(0);
  });

  test('stat-rates-csv.txt: task-clock in msec and the rate columns', () => {
    const t = perfTotals(parsePerfStat(capture('stat-rates-csv.txt')));
    expect(t.get('task-clock')).toBeCloseTo(271.74, 2);
    expect(t.get('page-faults')).toBe(25650);
    expect(t.get('context-switches')).toBe(3);
    const tc = parsePerfStat(capture('stat-rates-csv.txt'))[0];
    expect(tc.unit).toBe('msec');
  });

  test('stat-interval-csv.txt: the timestamp is taken off and the intervals sum', () => {
    const cs = parsePerfStat(capture('stat-interval-csv.txt'));
    expect(cs).toHaveLength(14);
    expect(cs[0].intervalSec).toBeCloseTo(0.100303073, 9);
    expect(cs[0].event).toBe('faults');
    const sum = cs.filter((c) => c.event === 'faults').reduce((a, c) => a + c.value!, 0);
    expect(perfTotals(cs).get('faults')).toBe(sum);
    expect(sum).toBe(25962 + 25824 + 25824 + 25823 + 23803 + 25083 + 2770);
  });

  test('stat-rates-interval-csv.txt: task-clock per interval', () => {
    const cs = parsePerfStat(capture('stat-rates-interval-csv.txt'));
    expect(cs.filter((c) => c.event === 'task-clock')).toHaveLength(18);
    expect(cs.every((c) => c.intervalSec !== undefined)).toBe(true);
  });

  test('the human layout has no counter lines in CSV terms', () => {
    expect(parsePerfStat(capture('stat-human.txt'))).toEqual([]);
  });
});

describe('perf stat lines', () => {
  test('<not supported> and <not counted> have no value', () => {
    expect(parsePerfStatLine('<not supported>,,page-faults,0,100.00,,')).toEqual({ event: 'page-faults', value: null, unit: '', runtimeNs: 0, runningPct: 100, missing: 'not supported' });
    expect(parsePerfStatLine('<not counted>,msec,task-clock,0,0.00,,')?.missing).toBe('not counted');
    expect(perfTotals([parsePerfStatLine('<not counted>,,faults,0,0.00,,')!]).has('faults')).toBe(false);
  });

  test('another separator', () => {
    expect(parsePerfStatLine('248;;page-faults;2483295;100.00;19.329;K/sec', ';')?.value).toBe(248);
  });

  test('comments, blank lines and perf errors are not counters', () => {
    expect(parsePerfStat('# started on Sun\n\nError:\nAccess to performance monitoring and observability operations is limited.\n')).toEqual([]);
  });
});
