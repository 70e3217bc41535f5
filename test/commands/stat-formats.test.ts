import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

/**
 * stat's output formats end to end, each against a golden file and against the layout perf 6.1
 * printed (fixtures/golden/perf-6.1: column positions, separators, keys, number formats).
 */

const PF1 = ['--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1', 'size=4M'];
const EB = ['ebizzy', 'threads=2', 'seconds=0.002s', '--cpus', '2'];
const EVENTS = ['-e', 'faults,minor-faults,major-faults'];

const capture = (name: string): string => readFileSync(join(ROOT, 'fixtures', 'golden', 'perf-6.1', name), 'utf8');

async function stat(args: readonly string[]): Promise<string> {
  const r = await spfperf(['stat', ...args]);
  expect(r.stderr === '' ? r.stdout : r.stderr, `spfperf stat ${args.join(' ')}`).not.toMatch(/^spfperf: /);
  expect(r.status).toBe(0);
  expect(r.stdout).toBe('');
  return r.stderr;
}

const lines = (s: string): string[] => s.replace(/\n$/, '').split('\n');

/** The keys of a JSON line, in order. */
const keysOf = (l: string): string[] => Object.keys(JSON.parse(l) as object);

describe('stat -x (CSV)', () => {
  it('prints perf\'s seven fields per counter, then the workload metric record and its counters (golden)', async () => {
    const out = await stat(['-x,', ...EVENTS, ...PF1]);
    expectGolden('stat/page_fault1.csv.txt', out);
    const ls = lines(out);
    expect(ls).toHaveLength(5);
    for (const l of ls.slice(0, 3)) expect(l).toMatch(/^\d+,,[a-z-]+,\d+,100\.00,,$/);
    expect(ls[0]).toMatch(/^\d+,,faults,\d+,100\.00,,$/);
    expect(ls[3]).toMatch(/^\d+\.\d\d,,workload:ops\/s,\d+,100\.00,,$/);
    // page_fault1's `touch ... count ops`: one access per page of 4M, as a whole count.
    expect(ls[4]).toMatch(/^1024,,count:ops,\d+,100\.00,,$/);
    // The same field count as every line perf printed.
    const perfFields = capture('stat-csv.txt').split('\n')[0].split(',').length;
    for (const l of ls) expect(l.split(',')).toHaveLength(perfFields);
  });

  it('gives task-clock perf\'s msec value and "CPUs utilized" metric fields', async () => {
    const out = await stat(['-x,', '-e', 'task-clock', ...PF1]);
    expect(lines(out)[0]).toMatch(/^\d+\.\d\d,msec,task-clock,\d+,100\.00,\d+\.\d{3},CPUs utilized$/);
  });

  it('pipes into the same awk as perf\'s CSV: event name, then value', async () => {
    const csv = await stat(['-x,', '-e', 'faults,spf', ...PF1]);
    const ours = spawnSync('awk', ['-F,', '{print $3, $1}'], { input: csv, encoding: 'utf8' });
    expect(ours.status).toBe(0);
    const perfs = spawnSync('awk', ['-F,', '{print $3, $1}', join(ROOT, 'fixtures', 'golden', 'perf-6.1', 'stat-csv.txt')], { encoding: 'utf8' });
    expect(lines(perfs.stdout)).toEqual(['faults 25651', 'minor-faults 25651', 'major-faults 0']);
    const ls = lines(ours.stdout);
    expect(ls.map((l) => l.split(' ')[0])).toEqual(['faults', 'spf', 'workload:ops/s', 'count:ops']);
    expect(ls[0]).toBe('faults 1024');
    expect(ls[1]).toBe('spf 0');
    for (const l of ls) expect(l).toMatch(/^\S+ [\d.]+$/);
  });

  it('takes any separator, and with -r adds perf\'s noise column after the event (golden)', async () => {
    const semi = await stat(['-x', ';', ...EVENTS, ...PF1]);
    expect(lines(semi)[0]).toMatch(/^\d+;;faults;\d+;100\.00;;$/);
    const out = await stat(['-x,', '-r', '3', ...EVENTS, ...PF1]);
    expectGolden('stat/page_fault1.repeat.csv.txt', out);
    for (const l of lines(out)) expect(l).toMatch(/^[\d.]+,,[a-z:/-]+,\d+\.\d\d%,\d+,100\.00,,$/);
    expect(lines(out)[0]).toMatch(/^1024,,faults,0\.00%,/);
  });

  it('writes CSV to -o FILE, nothing to stderr', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'spfperf-')), 'out.csv');
    const r = await spfperf(['stat', '-x,', '-o', file, ...EVENTS, ...PF1]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(file, 'utf8')).toMatch(/^\d+,,faults,\d+,100\.00,,\n/);
  });

  it('--vmstat: one record per /proc/vmstat line, named vmstat:<name>, after the workload metric and counters', async () => {
    const ls = lines(await stat(['-x,', '--vmstat', '-e', 'faults', ...PF1]));
    expect(ls[1]).toMatch(/^[\d.]+,,workload:ops\/s,/);
    expect(ls[2]).toMatch(/^1024,,count:ops,/);
    expect(ls[3]).toMatch(/^1024,,vmstat:pgfault,\d+,100\.00,,$/);
    for (const l of ls.slice(3)) expect(l).toMatch(/^\d+,,vmstat:[a-z_]+,\d+,100\.00,,$/);
  });
});

describe('stat -j (JSON lines)', () => {
  const perfKeys = keysOf(capture('stat-json.txt').split('\n')[0]);

  it('prints one JSON object per line with perf\'s keys in perf\'s order (golden)', async () => {
    const out = await stat(['-j', ...EVENTS, '-e', 'task-clock', ...PF1]);
    expectGolden('stat/page_fault1.json.txt', out);
    const ls = lines(out);
    expect(ls).toHaveLength(6);
    for (const l of ls) expect(keysOf(l)).toEqual(perfKeys);
    expect(perfKeys).toEqual(['counter-value', 'unit', 'event', 'event-runtime', 'pcnt-running', 'metric-value', 'metric-unit']);
    const faults = JSON.parse(ls[0]) as Record<string, unknown>;
    // With task-clock counted, faults carry perf's rate (stat-rates-json.txt).
    expect(faults).toMatchObject({ 'counter-value': '1024.000000', unit: '', event: 'faults', 'pcnt-running': 100, 'metric-unit': 'M/sec' });
    expect(ls[0]).toMatch(/^\{"counter-value" : "1024\.000000", "unit" : "", "event" : "faults", "event-runtime" : \d+, "pcnt-running" : 100\.00, "metric-value" : \d+\.\d{6}, "metric-unit" : "M\/sec"\}$/);
    // The workload metric is not a counter: perf's empty metric.
    expect(ls[4]).toMatch(/"metric-value" : 0\.000000, "metric-unit" : "\(null\)"\}$/);
    const tc = JSON.parse(ls[3]) as Record<string, unknown>;
    expect(tc).toMatchObject({ unit: 'msec', event: 'task-clock', 'metric-unit': 'CPUs utilized' });
    expect(JSON.parse(ls[4])).toMatchObject({ event: 'workload:ops/s' });
    expect(JSON.parse(ls[5])).toMatchObject({ 'counter-value': '1024.000000', event: 'count:ops', 'metric-unit': '(null)' });
  });

  it('adds "variance" after "event" with -r (golden)', async () => {
    const out = await stat(['-j', '-r', '2', ...EVENTS, ...PF1]);
    expectGolden('stat/page_fault1.repeat.json.txt', out);
    for (const l of lines(out)) expect(keysOf(l)).toEqual(['counter-value', 'unit', 'event', 'variance', ...perfKeys.slice(3)]);
  });
});

describe('stat -r (human)', () => {
  it('says (N runs), gives the noise column where it is not zero, and elapsed +- (golden)', async () => {
    const out = await stat(['-r', '3', ...EVENTS, '-e', 'task-clock', ...PF1]);
    expectGolden('stat/page_fault1.repeat.txt', out);
    expect(out).toContain(" Performance counter stats for 'page_fault1 threads=1 iterations=1 size=4M' (3 runs):\n");
    const ls = lines(out);
    // Deterministic counts: no noise, the 91 columns of perf's line.
    expect(ls[3]).toHaveLength(91);
    expect(ls.find((l) => l.includes('task-clock'))).toMatch(/ {2}\( \+- +\d+\.\d\d% \)$/);
    expect(ls.find((l) => l.includes('workload:ops/s'))).toMatch(/ {2}\( \+- +\d+\.\d\d% \)$/);
    expect(out).toMatch(/\n +\d\.\d+ \+- \d\.\d+ seconds time elapsed {2}\( \+- +\d+\.\d\d% \)\n\n$/);
    expect(out).not.toContain('seconds user');
  });

  it('runs seeds seed..seed+N-1 (-r 2 --seed 5 is the mean of seeds 5 and 6)', async () => {
    const elapsed = (s: string): number => Number(/(\d\.\d+) (\+- [\d.]+ )?seconds time elapsed/.exec(s)![1]);
    const a = elapsed(await stat(['-e', 'faults', '--seed', '5', ...PF1]));
    const b = elapsed(await stat(['-e', 'faults', '--seed', '6', ...PF1]));
    const m = elapsed(await stat(['-e', 'faults', '-r', '2', '--seed', '5', ...PF1]));
    expect(Math.abs(m - (a + b) / 2)).toBeLessThan(1e-8);
  });
});

describe('rates: perf\'s "# x K/sec" on every counter when task-clock is counted (stat-rates-*.txt)', () => {
  const RATES = ['-e', 'task-clock,page-faults,minor-faults,major-faults,context-switches'];
  const rate = (count: number, clockMsec: number): number => count / clockMsec;
  const UNIT: Record<string, number> = { '/sec': 1, 'K/sec': 1e3, 'M/sec': 1e6 };

  it('human: the rate in the metric area of every counter but task-clock (golden)', async () => {
    const out = await stat([...RATES, ...EB]);
    expectGolden('stat/ebizzy.rates.txt', out);
    const ls = lines(out);
    const perf = capture('stat-rates-human.txt').split('\n');
    expect(ls[3]).toMatch(/^ +[\d.]+ msec task-clock +# +[\d.]+ CPUs utilized {10}$/);
    const clock = Number(ls[3].trim().split(/\s+/)[0]);
    for (const [i, ev] of ['page-faults', 'minor-faults', 'major-faults', 'context-switches'].entries()) {
      const l = ls[4 + i];
      expect(l).toHaveLength(perf[4 + i].length);
      const m = new RegExp(`^ +(\\d+) {6}${ev} +# +([\\d.]+) ([KM]?/sec) +$`).exec(l)!;
      expect(m, l).not.toBeNull();
      const perSec = Number(m[2]) * UNIT[m[3]];
      // task-clock is printed to 0.01 msec and the rate to 4 digits: equal to 0.3 %.
      const want = rate(Number(m[1]), clock) * 1000;
      expect(Math.abs(perSec - want)).toBeLessThanOrEqual(want * 3e-3);
    }
  });

  it('-x: the rate and its unit in the last two fields (golden)', async () => {
    const out = await stat(['-x,', ...RATES, ...EB]);
    expectGolden('stat/ebizzy.rates.csv.txt', out);
    const ls = lines(out).map((l) => l.split(','));
    const clockNs = Number(ls[0][3]);
    for (const f of ls.slice(1, 5)) {
      expect(f[6]).toMatch(/^[KM]?\/sec$/);
      const want = (Number(f[0]) * 1e9) / clockNs;
      expect(Math.abs(Number(f[5]) * UNIT[f[6]] - want)).toBeLessThanOrEqual(want * 5e-4);
    }
    // The workload metric is not a counter: no rate.
    expect(ls[5].slice(2, 3)).toEqual(['workload:records/s']);
    expect(ls[5].slice(5)).toEqual(['', '']);
  });

  it('-j: "metric-value" and "metric-unit" as perf (golden)', async () => {
    const out = await stat(['-j', ...RATES, ...EB]);
    expectGolden('stat/ebizzy.rates.json.txt', out);
    const perf = capture('stat-rates-json.txt').split('\n').map((l) => (l === '' ? '' : keysOf(l).join()));
    const objs = lines(out).map((l) => JSON.parse(l) as Record<string, string | number>);
    for (const l of lines(out)) expect(keysOf(l).join()).toBe(perf[0]);
    expect(objs[1]).toMatchObject({ event: 'page-faults', 'metric-unit': 'M/sec' });
    expect(Number(objs[1]['metric-value'])).toBeCloseTo((Number(objs[1]['counter-value']) * 1e3) / Number(objs[0]['event-runtime']), 5);
    expect(objs[3]).toMatchObject({ event: 'major-faults', 'metric-value': 0, 'metric-unit': '/sec' });
  });

  it('no task-clock, no rate (as perf)', async () => {
    for (const l of lines(await stat(['-x,', '-e', 'faults', ...EB]))) expect(l).toMatch(/,,$/);
  });
});

describe('stat -I (intervals of simulated time)', () => {
  it('human: perf\'s header and a leading time column; the metric in every interval; the last one partial (golden)', async () => {
    const out = await stat(['-I', '1', '-e', 'faults,minor-faults', ...EB]);
    expectGolden('stat/ebizzy.interval.txt', out);
    const ls = lines(out);
    expect(ls[0]).toBe(capture('stat-interval-human.txt').split('\n')[0]);
    expect(ls[1]).toMatch(/^ {5}0\.001000000 +\d+ {6}faults +$/);
    for (const l of ls.slice(1)) expect(l).toHaveLength(108);
    expect(ls[ls.length - 2]).toMatch(/^ {5}0\.00\d{7} +\d+\.\d\d {6}workload:records\/s +$/);
    // The workload's counters: what each interval added, adding up to the whole run's.
    const records = ls.filter((l) => l.includes('count:records')).map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(records.length).toBe(ls.filter((l) => l.includes('workload:records/s')).length);
    const whole = Number(/(\d+) +count:records/.exec(await stat(['-e', 'faults', ...EB]))![1]);
    expect(records.reduce((a, b) => a + b, 0)).toBe(whole);
    expect(new Set(records).size).toBeGreaterThan(1);
    // Per-interval counts add up to the whole run's.
    const total = Number(/(\d+) +faults/.exec(await stat(['-e', 'faults', ...EB]))![1]);
    const sum = ls.filter((l) => / faults /.test(l)).reduce((s, l) => s + Number(l.trim().split(/\s+/)[1]), 0);
    expect(sum).toBe(total);
  });

  it('-x: the time first, padded as perf 6.1 pads it (golden)', async () => {
    const out = await stat(['-I', '1', '-x,', '-e', 'faults', ...EB]);
    expectGolden('stat/ebizzy.interval.csv.txt', out);
    for (const l of lines(out)) expect(l).toMatch(/^ {5}0\.\d{9},[\d.]+,,[a-z:/-]+,\d+,100\.00,,$/);
  });

  it('-j: the "interval" key first (golden)', async () => {
    const out = await stat(['-I', '1', '-j', '-e', 'faults', ...EB]);
    expectGolden('stat/ebizzy.interval.json.txt', out);
    const perf = keysOf(capture('stat-interval-json.txt').split('\n')[0]);
    for (const l of lines(out)) expect(keysOf(l)).toEqual(perf);
    // event-runtime is the counter's running time in the interval (the workload's task-clock), not its length.
    const first = JSON.parse(lines(out)[0]) as Record<string, number>;
    expect(first).toMatchObject({ interval: 0.001, event: 'faults' });
    expect(first['event-runtime']).toBeGreaterThan(0);
    expect(first['event-runtime']).not.toBe(1000000);
  });
});

/**
 * How pmu-tools reads perf's interval CSV: csv_formats.py names the fields of a row by trying its
 * list of layouts (the first whose every predicate holds), and interval-normalize.py groups the
 * rows by timestamp into one line per interval, one column per event, so every interval must
 * carry the same events in the same order, each with a number.
 */
const PMU = {
  isVal: (n: string) => /^(-?[0-9.]+%?|<.*>)/.test(n),
  isCpu: (n: string) => /^((CPU)|(S\d+(-C\d+)?)|C\d+|all)/.test(n),
  isSocket: (n: string) => /^S\d+/.test(n),
  isEvent: (n: string) => /^[a-zA-Z.-]+/.test(n),
  isNumber: (n: string) => /^\s*[0-9]+/.test(n),
  isTs: (n: string) => /^\s*[0-9.]+/.test(n) || n === 'SUMMARY',
  isUnit: (n: string) => /^(% )?[a-zA-Z]*( <)?/.test(n),
};
const { isVal, isCpu, isSocket, isEvent, isNumber, isTs, isUnit } = PMU;
/** csv_formats.py's `formats`, in its order (is_running and is_enabled are is_number). */
const PMU_FORMATS: { fmt: ((n: string) => boolean)[]; ev: number; val: number }[] = [
  { fmt: [isTs, isCpu, isVal, isUnit, isEvent, isNumber, isNumber], ev: 4, val: 2 },
  { fmt: [isTs, isVal, isEvent], ev: 2, val: 1 },
  { fmt: [isTs, isCpu, isVal, isEvent], ev: 3, val: 2 },
  { fmt: [isTs, isVal, isUnit, isEvent], ev: 3, val: 1 },
  { fmt: [isTs, isCpu, isVal, isUnit, isEvent], ev: 4, val: 2 },
  { fmt: [isTs, isVal, isUnit, isEvent, isNumber, isNumber], ev: 3, val: 1 },
  { fmt: [isTs, isCpu, isEvent, isVal, isUnit], ev: 2, val: 3 },
  { fmt: [isTs, isCpu, isVal, isUnit, isEvent, isNumber, isNumber], ev: 4, val: 2 },
  { fmt: [isTs, isSocket, isNumber, isVal, isUnit, isEvent, isNumber, isNumber], ev: 5, val: 3 },
  { fmt: [isTs, isSocket, isNumber, isVal, isUnit, isEvent], ev: 5, val: 3 },
  { fmt: [isTs, isEvent, isVal], ev: 1, val: 2 },
];

/** csv_formats.parse_csv_row(): the layout that reads the row, or null (its PARSE-ERROR). */
function pmuParse(row: string[]): { ev: string; val: string } | null {
  for (const f of PMU_FORMATS) {
    if (f.fmt.every((p, i) => i >= row.length || p(row[i].trim()))) return { ev: row[f.ev], val: row[f.val] };
  }
  return null;
}

/** interval-normalize.py's grouping: per timestamp, the row keys (every field but the numbers) in order. */
function intervalsOf(csv: string, perThread: boolean): { ts: string; keys: string[]; values: string[] }[] {
  const out: { ts: string; keys: string[]; values: string[] }[] = [];
  for (const l of lines(csv)) {
    const f = l.split(',');
    const key = perThread ? `${f[1]} ${f[4]}` : f[3];
    const value = perThread ? f[2] : f[1];
    const last = out[out.length - 1];
    if (last !== undefined && last.ts === f[0]) {
      last.keys.push(key);
      last.values.push(value);
    } else out.push({ ts: f[0], keys: [key], values: [value] });
  }
  return out;
}

describe('stat -I: the interval contract of perf\'s interval CSV (pmu-tools)', () => {
  for (const extra of [[], ['--vmstat'], ['--per-thread'], ['--per-thread', '--vmstat']]) {
    it(`every interval carries the same rows, in the same order, each with a number (${extra.join(' ') || 'plain'})`, async () => {
      const perThread = extra.includes('--per-thread');
      const out = await stat(['-I', '0.5', '-x,', '-e', 'task-clock,faults,cs', ...extra, ...EB]);
      const ivs = intervalsOf(out, perThread);
      expect(ivs.length).toBeGreaterThan(3);
      for (const iv of ivs) {
        expect(iv.keys, iv.ts).toEqual(ivs[0].keys);
        for (const v of iv.values) expect(v, iv.ts).toMatch(/^\d+(\.\d+)?$/);
      }
      if (extra.includes('--vmstat')) expect(ivs[0].keys.some((k) => k.endsWith('vmstat:pgfault'))).toBe(true);
      // The workload's metric: in every interval, or (per thread, where it belongs to no thread) in none.
      const withMetric = ivs.filter((iv) => iv.keys.some((k) => k.includes('workload:'))).length;
      expect(withMetric).toBe(perThread ? 0 : ivs.length);
    });
  }

  it('csv_formats.py reads every row, with and without --per-thread (no whole-run row without a thread)', async () => {
    for (const extra of [[], ['--per-thread']]) {
      const out = await stat(['-I', '1', '-x,', '-e', 'task-clock,faults', ...extra, ...EB]);
      for (const l of lines(out)) {
        const r = pmuParse(l.split(','));
        expect(r, l).not.toBeNull();
        expect(isVal(r!.val.trim()), l).toBe(true);
      }
    }
  });

  it('task-clock counts what ran in each interval; event-runtime is that task-clock; the intervals add up to the run (golden)', async () => {
    const RATES = ['-e', 'task-clock,page-faults'];
    const out = await stat(['-I', '0.5', '-x,', ...RATES, ...EB]);
    expectGolden('stat/ebizzy.rates.interval.csv.txt', out);
    const whole = lines(await stat(['-x,', ...RATES, ...EB]))[0].split(',');
    const rows = lines(out).map((l) => l.split(','));
    const clocks = rows.filter((f) => f[3] === 'task-clock');
    let sumNs = 0;
    for (const [i, f] of clocks.entries()) {
      const ns = Number(f[4]);
      sumNs += ns;
      const len = (Number(f[0]) - (i === 0 ? 0 : Number(clocks[i - 1][0]))) * 1e9;
      // Never more CPUs than the machine has (--cpus 2), and something ran in every interval.
      expect(ns, f[0]).toBeGreaterThan(0);
      expect(ns, f[0]).toBeLessThanOrEqual(2 * len + 1);
      expect(Number(f[1])).toBeCloseTo(ns / 1e6, 2);
      expect(Number(f[6])).toBeCloseTo(ns / len, 2);
      const pf = rows.find((g) => g[0] === f[0] && g[3] === 'page-faults')!;
      expect(Number(pf[4])).toBe(ns);
      expect(Number(pf[6]) * (pf[7] === 'M/sec' ? 1e6 : pf[7] === 'K/sec' ? 1e3 : 1)).toBeCloseTo((Number(pf[1]) * 1e9) / ns, -3);
    }
    expect(Math.abs(sumNs - Number(whole[3]))).toBeLessThanOrEqual(clocks.length);
  });
});

describe('stat --per-thread', () => {
  it('human: perf\'s comm-tid column, threads by count within each event (golden)', async () => {
    const out = await stat(['--per-thread', '-e', 'faults,minor-faults', ...EB]);
    expectGolden('stat/ebizzy.per-thread.txt', out);
    const rows = lines(out).filter((l) => /^ +ebizzy-\d+ /.test(l));
    expect(rows).toHaveLength(6);
    for (const l of rows) {
      expect(l).toHaveLength(117);
      expect(l.slice(0, 26)).toMatch(/^ {10}ebizzy-\d{4} {5}$/);
    }
    const faults = rows.filter((l) => l.endsWith('faults'.padEnd(67)) && !l.includes('minor')).map((l) => Number(l.trim().split(/\s+/)[1]));
    expect(faults).toEqual([...faults].sort((a, b) => b - a));
    expect(out).toMatch(/\n {26} +\d+\.\d\d {6}workload:records\/s +\n/);
  });

  it('-x and -j: the thread first ("comm-tid," / "thread")', async () => {
    const csv = lines(await stat(['--per-thread', '-x,', '-e', 'faults', ...EB]));
    expectGolden('stat/ebizzy.per-thread.csv.txt', csv.join('\n') + '\n');
    // The metric and the counters belong to no thread: an empty thread field.
    for (const l of csv.slice(0, -2)) expect(l).toMatch(/^ebizzy-\d+,\d+,,faults,\d+,100\.00,,$/);
    expect(csv[csv.length - 2]).toMatch(/^,[\d.]+,,workload:records\/s,/);
    expect(csv[csv.length - 1]).toMatch(/^,\d+,,count:records,/);
    const json = lines(await stat(['--per-thread', '-j', '-e', 'faults', ...EB]));
    expectGolden('stat/ebizzy.per-thread.json.txt', json.join('\n') + '\n');
    for (const l of json.slice(0, -2)) expect(keysOf(l)[0]).toBe('thread');
    expect(keysOf(json[json.length - 1])[0]).toBe('counter-value');
  });

  it('with -I: perf\'s comm-pid header', async () => {
    const ls = lines(await stat(['--per-thread', '-I', '1', '-e', 'faults', ...EB]));
    expect(ls[0]).toBe('#           time             comm-pid                  counts unit events');
    expect(ls[1]).toMatch(/^ {5}0\.001000000 {11}ebizzy-\d{4} {5} +\d+ {6}faults/);
  });
});

describe('stat option errors', () => {
  it('bad values and combinations: one line, exit 1', async () => {
    for (const args of [
      ['-r', '0'],
      ['-r', 'x'],
      ['-I', '0'],
      ['-I', 'soon'],
      ['-x,', '-j'],
      ['-I', '1', '-r', '2'],
      ['--compare', 'base'],
      ['--compare', 'base,spf', '-j'],
    ]) {
      const r = await spfperf(['stat', ...args, ...PF1]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^spfperf: /);
    }
  });
});

describe('phases (phase "name" { ... }) in every format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spfperf-phases-'));
  const file = join(dir, 'phases.spf');
  writeFileSync(file, [
    'metric "ops/s" = ops / elapsed',
    'process {',
    '  heap = mmap 256K',
    '  phase "warm-up" {',
    '    touch heap write',
    '  }',
    '  phase "measured" {',
    '    threads 2 {',
    '      touch heap read random 50 count ops',
    '    }',
    '  }',
    '}',
    '',
  ].join('\n'));
  const P = ['-e', 'faults', '--cpus', '2', file];

  it('human: after the metric and counters, each phase\'s time, events and counters (golden)', async () => {
    const out = await stat(P);
    expectGolden('stat/phases.txt', out.replace(file, 'phases.spf'));
    const ls = lines(out);
    const at = (ev: string): string[] => ls.filter((l) => l.trimEnd().endsWith(` ${ev}`)).map((l) => l.trim().split(/\s+/)[0]);
    expect(ls.map((l) => l.trim().split(/\s+/).pop()).filter((e) => e?.includes(':') && !e.includes('phases.spf'))).toEqual([
      'workload:ops/s', 'count:ops',
      'phase:warm-up:duration_time', 'phase:warm-up:faults', 'phase:warm-up:count:ops',
      'phase:measured:duration_time', 'phase:measured:faults', 'phase:measured:count:ops',
    ]);
    // The warm-up faults every page of 256K in; the measured reads then take none.
    expect(at('phase:warm-up:faults')).toEqual(['64']);
    expect(at('phase:measured:faults')).toEqual(['0']);
    expect(at('phase:measured:count:ops')).toEqual(['100']);
    expect(at('phase:warm-up:count:ops')).toEqual(['0']);
    expect(ls.find((l) => l.includes('phase:warm-up:duration_time'))).toMatch(/^ +\d+ ns +phase:warm-up:duration_time +$/);
  });

  it('-x and -j: the same records, one per line', async () => {
    const csv = lines(await stat(['-x,', ...P]));
    expect(csv.filter((l) => l.includes(',phase:'))).toHaveLength(6);
    expect(csv.find((l) => l.includes('phase:measured:count:ops'))).toMatch(/^100,,phase:measured:count:ops,\d+,100\.00,,$/);
    expect(csv.find((l) => l.includes('phase:warm-up:duration_time'))).toMatch(/^\d+,ns,phase:warm-up:duration_time,\d+,100\.00,,$/);
    const json = lines(await stat(['-j', ...P])).map((l) => JSON.parse(l) as Record<string, string>);
    expect(json.filter((o) => o.event.startsWith('phase:')).map((o) => o.event)).toEqual(csv.filter((l) => l.includes(',phase:')).map((l) => l.split(',')[2]));
  });

  it('-r: means with noise; --save keeps each run\'s phases and their means', async () => {
    const out = await stat(['-r', '2', ...P]);
    expect(out).toMatch(/\n +\d+ ns +phase:measured:duration_time/);
    const save = join(dir, 'run.json');
    const r = await spfperf(['stat', '-r', '2', '--save', save, ...P]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(readFileSync(save, 'utf8')) as { phases: Record<string, { elapsed: number; counters: Record<string, number>; counts: Record<string, number> }>; runs: { phases: Record<string, { counters: Record<string, number> }> }[] };
    expect(Object.keys(doc.phases)).toEqual(['warm-up', 'measured']);
    expect(doc.phases['warm-up'].counters['page-faults']).toBe(64);
    expect(doc.phases.measured.counts.ops).toBe(100);
    expect(doc.phases.measured.elapsed).toBeGreaterThan(0);
    expect(doc.runs.map((x) => x.phases['warm-up'].counters['page-faults'])).toEqual([64, 64]);
  });

  it('-I: the intervals carry no phase rows (a phase is a part of the run, an interval another)', async () => {
    const ls = lines(await stat(['-I', '1', ...P]));
    expect(ls.some((l) => l.includes('phase:'))).toBe(false);
  });
});
