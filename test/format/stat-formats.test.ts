import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/golden.js';
import { cfixed, rateMetric, type StatBlock, type StatReport, type StatRow } from '../../src/format/stat-common.js';
import { formatCounterLine, formatStatHuman } from '../../src/format/stat-human.js';
import { formatStatCsv } from '../../src/format/stat-csv.js';
import { formatStatJson } from '../../src/format/stat-json.js';

/**
 * The formatters against what perf 6.1 printed (fixtures/golden/perf-6.1, copies of
 * shared/perf-captures): each capture is parsed back into data, formatted, and must come out
 * byte for byte.
 */

const capture = (name: string): string => readFileSync(join(ROOT, 'fixtures', 'golden', 'perf-6.1', name), 'utf8');

const row = (event: string, value: number | null, extra: Partial<StatRow> = {}): StatRow => ({ event, value, unit: '', fractional: false, runtimeNs: 0, ...extra });

function report(blocks: StatBlock[], extra: Partial<StatReport> = {}): StatReport {
  return { command: './touch 100', runs: 1, perThread: false, interval: false, blocks, elapsedSec: 0, elapsedStddevSec: 0, userSec: 0, sysSec: 0, ...extra };
}

/** "  value  event" lines of a human capture. */
function humanRows(text: string): StatRow[] {
  return text
    .split('\n')
    .filter((l) => /^ {2,}\d+ {6}\S/.test(l))
    .map((l) => {
      const [v, e] = l.trim().split(/\s+/);
      return row(e, Number(v));
    });
}

function seconds(text: string, what: string): number {
  return Number(new RegExp(`([\\d.]+) seconds ${what}`).exec(text)![1]);
}

describe('human layout (stat-human.txt, stat-tp.txt)', () => {
  for (const name of ['stat-human.txt', 'stat-tp.txt']) {
    it(`reproduces ${name}`, () => {
      const text = capture(name);
      const out = formatStatHuman(report([{ rows: humanRows(text) }], {
        elapsedSec: seconds(text, 'time elapsed'),
        userSec: seconds(text, 'user'),
        sysSec: seconds(text, 'sys'),
      }));
      expect(out).toBe(text);
    });
  }

  it('puts task-clock\'s metric where perf does: "# %8.3f CPUs utilized" in the 35-column metric area', () => {
    const l = formatCounterLine(row('task-clock', 36.46, { unit: 'msec', fractional: true, metric: { value: 0.994, unit: 'CPUs utilized', width: 8, precision: 3 } }), 1);
    expect(l).toBe('             36.46 msec task-clock                       #    0.994 CPUs utilized          ');
    expect(l).toHaveLength(91);
  });

  it('pads long event names as printf does (no truncation, 35 blanks after)', () => {
    const long = 'pagefault:spf_vma_changed_and_some_more_x';
    expect(formatCounterLine(row(long, 1), 1)).toBe(`${'1'.padStart(18)}      ${long}${' '.repeat(35)}`);
  });
});

describe('-r (stat-repeat.txt)', () => {
  it('reproduces the (N runs) header, the noise column and the elapsed +- line', () => {
    const text = capture('stat-repeat.txt');
    const rows = humanRows(text).map((r) => ({ ...r, noisePct: r.value === 0 ? 0 : 0.004 }));
    // 0.05884 +- 0.020788 prints as 0.0588 +- 0.0208 ( +- 35.33% ), as perf printed.
    expect(formatStatHuman(report([{ rows }], { runs: 5, elapsedSec: 0.05884, elapsedStddevSec: 0.020788 }))).toBe(text);
  });

  it('prints no noise when it is zero (a deterministic count), as perf\'s print_noise_pct does', () => {
    expect(formatCounterLine(row('faults', 5, { noisePct: 0 }), 3)).toHaveLength(91);
    expect(formatCounterLine(row('faults', 5, { noisePct: 1.5 }), 3)).toMatch(/ {2}\( \+- {2}1\.50% \)$/);
  });
});

describe('-x (stat-csv.txt, stat-interval-csv.txt)', () => {
  const parseCsv = (text: string): { time?: number; row: StatRow }[] =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => {
        const f = l.split(',');
        const time = f.length === 8 ? Math.round(Number(f.shift()) * 1e9) : undefined;
        return { time, row: row(f[2], Number(f[0]), { runtimeNs: Number(f[3]) }) };
      });

  it('reproduces stat-csv.txt', () => {
    const text = capture('stat-csv.txt');
    expect(formatStatCsv(',')(report([{ rows: parseCsv(text).map((p) => p.row) }]))).toBe(text);
    for (const l of text.trimEnd().split('\n')) expect(l).toMatch(/^\d+,,[a-z-]+,\d+,100\.00,,$/);
  });

  it('reproduces stat-interval-csv.txt (time padded to 6 digits of seconds, as perf 6.1 does)', () => {
    const text = capture('stat-interval-csv.txt');
    const blocks: StatBlock[] = [];
    for (const p of parseCsv(text)) {
      const last = blocks[blocks.length - 1];
      if (last !== undefined && last.timeNs === p.time) (last.rows as StatRow[]).push(p.row);
      else blocks.push({ timeNs: p.time, rows: [p.row] });
    }
    expect(formatStatCsv(',')(report(blocks, { interval: true }))).toBe(text);
  });

  it('adds perf\'s noise column after the event with -r, and task-clock\'s metric as value,unit', () => {
    const tc = row('task-clock', 36.46, { unit: 'msec', fractional: true, runtimeNs: 36464878, noisePct: 0.5, metric: { value: 0.9941, unit: 'CPUs utilized', width: 8, precision: 3 } });
    expect(formatStatCsv(';')(report([{ rows: [tc] }], { runs: 3 }))).toBe('36.46;msec;task-clock;0.50%;36464878;100.00;0.994;CPUs utilized\n');
  });
});

describe('-j (stat-json.txt, stat-interval-json.txt)', () => {
  const parseJson = (text: string): { time?: number; row: StatRow }[] =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => {
        const o = JSON.parse(l) as Record<string, string | number>;
        const time = o.interval !== undefined ? Math.round(Number(o.interval) * 1e9) : undefined;
        return { time, row: row(String(o.event), Number(o['counter-value']), { runtimeNs: Number(o['event-runtime']) }) };
      });

  it('reproduces stat-json.txt: keys, order, spacing, number formats', () => {
    const text = capture('stat-json.txt');
    expect(formatStatJson(report([{ rows: parseJson(text).map((p) => p.row) }]))).toBe(text);
  });

  it('reproduces stat-interval-json.txt (the "interval" key first)', () => {
    const text = capture('stat-interval-json.txt');
    const blocks: StatBlock[] = [];
    for (const p of parseJson(text)) {
      const last = blocks[blocks.length - 1];
      if (last !== undefined && last.timeNs === p.time) (last.rows as StatRow[]).push(p.row);
      else blocks.push({ timeNs: p.time, rows: [p.row] });
    }
    expect(formatStatJson(report(blocks, { interval: true }))).toBe(text);
  });

  it('adds "variance" after "event" with -r, and "thread" with --per-thread', () => {
    const r = row('faults', 10, { runtimeNs: 5, noisePct: 1.25, thread: { comm: 'mt', tid: 7 } });
    const line = formatStatJson(report([{ rows: [r] }], { runs: 2, perThread: true })).trimEnd();
    expect(Object.keys(JSON.parse(line))).toEqual(['thread', 'counter-value', 'unit', 'event', 'variance', 'event-runtime', 'pcnt-running', 'metric-value', 'metric-unit']);
    expect(line).toContain('"thread" : "mt-7", "counter-value" : "10.000000"');
    expect(line).toContain('"variance" : 1.25, ');
  });
});

describe('-I human (stat-interval-human.txt)', () => {
  it('reproduces the header and the time column', () => {
    const text = capture('stat-interval-human.txt');
    const blocks: StatBlock[] = [];
    for (const l of text.split('\n').slice(1)) {
      if (l === '') continue;
      const [t, v, e] = l.trim().split(/\s+/);
      const ns = Math.round(Number(t) * 1e9);
      const last = blocks[blocks.length - 1];
      if (last !== undefined && last.timeNs === ns) (last.rows as StatRow[]).push(row(e, Number(v)));
      else blocks.push({ timeNs: ns, rows: [row(e, Number(v))] });
    }
    expect(formatStatHuman(report(blocks, { interval: true }))).toBe(text);
  });

  it('prints the column header again every 25 intervals, as perf does', () => {
    const blocks = Array.from({ length: 60 }, (_, i) => ({ timeNs: (i + 1) * 1e6, rows: [row('faults', i)] }));
    const lines = formatStatHuman(report(blocks, { interval: true })).split('\n');
    expect(lines.map((l, i) => (l.startsWith('#') ? i : -1)).filter((i) => i >= 0)).toEqual([0, 26, 52]);
  });

  it('-I printed one interval at a time (firstBlock) gives the same text as all at once, in every layout', () => {
    const blocks = Array.from({ length: 60 }, (_, i) => ({ timeNs: (i + 1) * 1e6, rows: [row('faults', i), row('task-clock', i / 3, { unit: 'msec', fractional: true })] }));
    for (const f of [formatStatHuman, formatStatCsv(','), formatStatJson]) {
      const whole = f(report(blocks, { interval: true }));
      const parts = blocks.map((b, i) => f(report([b], { interval: true, firstBlock: i }))).join('');
      expect(parts).toBe(whole);
    }
  });
});

describe('--per-thread (stat-per-thread.txt)', () => {
  it('reproduces the comm-tid column and <not counted> lines', () => {
    const text = capture('stat-per-thread.txt');
    const lines = text.split('\n');
    const counters = lines.filter((l) => /^ +\S+-\d+ /.test(l));
    const rows = counters.map((l) => {
      const m = /^ *(\S+)-(\d+) +(<not counted>|\d+) +(\S+)/.exec(l)!;
      return row(m[4], m[3] === '<not counted>' ? null : Number(m[3]), { thread: { comm: m[1], tid: Number(m[2]) } });
    });
    const out = formatStatHuman(report([{ rows }], { perThread: true })).split('\n');
    expect(out.slice(3, 3 + counters.length)).toEqual(counters);
  });

  it('gives a whole-run row (the workload metric) a blank comm-tid column', () => {
    const out = formatStatHuman(report([{ rows: [row('workload:ops/s', 12.5, { fractional: true })] }], { perThread: true })).split('\n');
    expect(out[3]).toBe(' '.repeat(26) + '12.50'.padStart(18) + '      workload:ops/s' + ' '.repeat(32 - 14 + 35));
  });
});

describe('rates (stat-rates-*.txt): "#   68.818 K/sec" on every counter when task-clock is counted', () => {
  const cpus = (value: number): StatRow['metric'] => ({ value, unit: 'CPUs utilized', width: 8, precision: 3 });
  /** A counter row of a capture: the rate computed from the count and task-clock's ns. */
  const counter = (event: string, value: number, clockNs: number, runtimeNs = clockNs): StatRow => row(event, value, { runtimeNs, metric: rateMetric(value, clockNs) });

  it('reproduces stat-rates-human.txt (the rate from task-clock\'s msec, K/sec and /sec)', () => {
    const text = capture('stat-rates-human.txt');
    const tcLine = /^ +([\d.]+) msec task-clock +# +([\d.]+) CPUs/m.exec(text)!;
    const clockNs = Number(tcLine[1]) * 1e6;
    const rows = [row('task-clock', Number(tcLine[1]), { unit: 'msec', fractional: true, metric: cpus(Number(tcLine[2])) }), ...humanRows(text).map((r) => counter(r.event, r.value!, clockNs))];
    const out = formatStatHuman(report([{ rows }], { elapsedSec: seconds(text, 'time elapsed'), userSec: seconds(text, 'user'), sysSec: seconds(text, 'sys') }));
    expect(out).toBe(text);
  });

  /** CSV fields of a rates capture, without the interval column. */
  const csvRows = (lines: string[][]): StatRow[] => {
    const clockNs = Number(lines.find((f) => f[2] === 'task-clock')![3]);
    return lines.map((f) =>
      f[2] === 'task-clock'
        ? row('task-clock', Number(f[0]), { unit: 'msec', fractional: true, runtimeNs: Number(f[3]), metric: cpus(Number(f[5])) })
        : counter(f[2], Number(f[0]), clockNs, Number(f[3])),
    );
  };

  it('reproduces stat-rates-csv.txt (metric value and unit in the last two fields)', () => {
    const text = capture('stat-rates-csv.txt');
    const rows = csvRows(text.trimEnd().split('\n').map((l) => l.split(',')));
    expect(formatStatCsv(',')(report([{ rows }]))).toBe(text);
  });

  it('reproduces stat-rates-interval-csv.txt; each interval\'s rate is its count over that interval\'s task-clock', () => {
    const text = capture('stat-rates-interval-csv.txt');
    const byTime = new Map<string, string[][]>();
    for (const l of text.trimEnd().split('\n')) {
      const f = l.split(',');
      const t = f.shift()!;
      byTime.set(t, [...(byTime.get(t) ?? []), f]);
    }
    const blocks = [...byTime].map(([t, ls]) => {
      const rows = csvRows(ls);
      // perf reads task-clock and the counter a few microseconds apart, so its rate is the
      // count over task-clock to 2e-4 (not to the last digit, as in one read without -I).
      const clock = rows.find((r) => r.event === 'task-clock')!;
      return {
        timeNs: Math.round(Number(t) * 1e9),
        rows: rows.map((r, i) => {
          if (r.event === 'task-clock') return r;
          const printed = Number(ls[i][5]) * 1e3;
          expect(Math.abs(printed - (1e9 * r.value!) / clock.runtimeNs) / printed).toBeLessThan(2e-4);
          return { ...r, metric: { ...r.metric!, value: Number(ls[i][5]) } };
        }),
      };
    });
    expect(byTime.size).toBe(18);
    expect(formatStatCsv(',')(report(blocks, { interval: true }))).toBe(text);
  });

  it('reproduces stat-rates-json.txt ("metric-value" : %f, "metric-unit" : "K/sec")', () => {
    const text = capture('stat-rates-json.txt');
    const objs = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, string | number>);
    const clockNs = Number(objs.find((o) => o.event === 'task-clock')!['event-runtime']);
    const rows = objs.map((o) =>
      o.event === 'task-clock'
        ? row('task-clock', Number(o['counter-value']), { unit: 'msec', fractional: true, runtimeNs: Number(o['event-runtime']), metric: cpus(Number(o['metric-value'])) })
        : counter(String(o.event), Number(o['counter-value']), clockNs, Number(o['event-runtime'])),
    );
    expect(formatStatJson(report([{ rows }]))).toBe(text);
  });

  it('scales as convert_unit_double does: above 1000 it is K, M, G; 0 task-clock gives 0 /sec', () => {
    expect(rateMetric(1000, 1e9)).toMatchObject({ value: 1000, unit: '/sec' });
    expect(rateMetric(1001, 1e9)).toMatchObject({ value: 1.001, unit: 'K/sec' });
    expect(rateMetric(5e6, 1e9).unit).toBe('M/sec');
    expect(rateMetric(5e9, 1e9).unit).toBe('G/sec');
    expect(rateMetric(5e12, 1e9)).toMatchObject({ value: 5000, unit: 'G/sec' });
    expect(rateMetric(7, 0)).toMatchObject({ value: 0, unit: '/sec' });
  });
});

describe('<not supported> (stat-not-supported*.txt: perf 6.1 on this VM, which has no PMU)', () => {
  // perf stat -e cycles,faults:u,instructions:u,faults:k ./touch 100; -j -e cycles,faults:u
  const notSupported = (event: string): StatRow => row(event, null, { notSupported: true });

  it('reproduces the human capture (the value column says <not supported>, the event padded as <not counted>)', () => {
    const text = capture('stat-not-supported.txt');
    const rows = text
      .split('\n')
      .filter((l) => /^ {2,}(\d+|<not supported>) {6}\S/.test(l))
      .map((l) => {
        const m = /^ +(<not supported>|\d+) +(\S+)/.exec(l)!;
        return m[1] === '<not supported>' ? notSupported(m[2]) : row(m[2], Number(m[1]));
      });
    expect(rows).toHaveLength(4);
    const out = formatStatHuman(report([{ rows }], { elapsedSec: seconds(text, 'time elapsed'), userSec: seconds(text, 'user'), sysSec: seconds(text, 'sys') }));
    expect(out).toBe(text);
  });

  it('reproduces the JSON capture ("counter-value" : "<not supported>", runtime 0, "metric-unit" : "")', () => {
    const text = capture('stat-not-supported-json.txt');
    const rows = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, string | number>)
      .map((o) => (o['counter-value'] === '<not supported>' ? notSupported(String(o.event)) : row(String(o.event), Number(o['counter-value']), { runtimeNs: Number(o['event-runtime']) })));
    expect(formatStatJson(report([{ rows }]))).toBe(text);
  });

  it('CSV: "<not supported>,,cycles,0,100.00,," as in stat-modifiers-csv.txt', () => {
    const perf = capture('stat-modifiers-csv.txt').split('\n')[0];
    expect(formatStatCsv(',')(report([{ rows: [notSupported('cycles')] }]))).toBe(perf + '\n');
  });
});

describe('number formatting (C printf)'

, () => {
  it('rounds exact ties to even, as glibc does, and spells nan/inf as C', () => {
    expect(cfixed(2.5, 0)).toBe('2');
    expect(cfixed(3.5, 0)).toBe('4');
    expect(cfixed(0.125, 2)).toBe('0.12');
    expect(cfixed(0.375, 2)).toBe('0.38');
    expect(cfixed(-2.5, 0)).toBe('-2');
    expect(cfixed(1.005, 2)).toBe('1.00'); // 1.00499999999999989...
    expect(cfixed(0.1, 9)).toBe('0.100000000');
    expect(cfixed(NaN, 2)).toBe('nan');
    expect(cfixed(Infinity, 2)).toBe('inf');
  });
});
