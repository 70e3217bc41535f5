import { describe, expect, it } from 'vitest';
import { formatReportStdio, reportLayout, reportViewModel, ReportAggregator, samplesWithUnit, tableLines, type ReportInfo } from '../../src/format/report.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';

const s = (o: Partial<TraceSample>): TraceSample => ({ type: 'sample', ts: 0, cpu: 0, pid: 1000, tid: 1001, comm: 'mt', event: 'faults', ...o });
const info = (seen: Map<string, number>): ReportInfo => ({
  header: { type: 'header', trace_format: 1, spfperf: '0.1.0', command: 'mt', machine: 'm', arch: 'x86', cpus: 2, config: { label: 'base' }, seeds: [1], events: ['faults', 'pagefault:spf_pte_lock'] },
  summary: { type: 'summary', elapsed: 1, user: 0.5, sys: 0.5, samples: { faults: 4, 'pagefault:spf_pte_lock': 1 } },
  skipped: 0,
  seen,
});

describe('report formatting', () => {
  it('abbreviates sample counts as perf\'s convert_unit does', () => {
    expect(samplesWithUnit(8)).toBe('8 ');
    expect(samplesWithUnit(1000)).toBe('1000 ');
    expect(samplesWithUnit(1001)).toBe('1K');
    expect(samplesWithUnit(491339)).toBe('491K');
    expect(samplesWithUnit(2_500_000)).toBe('2M');
    expect(samplesWithUnit(3_000_000_001)).toBe('3G');
  });

  it('takes -F fields in order and appends the sort keys it does not name, as perf does', () => {
    expect(reportLayout('event,comm')).toEqual({ keys: ['event', 'comm'], columns: ['overhead', 'event', 'comm'] });
    expect(reportLayout('comm', 'sample,overhead,tid')).toEqual({ keys: ['tid', 'comm'], columns: ['sample', 'overhead', 'tid', 'comm'] });
    expect(reportLayout('sym,comm,symbol').keys).toEqual(['sym', 'comm']);
    expect(() => reportLayout('')).toThrow(/--sort needs at least one key/);
    expect(() => reportLayout('parent')).toThrow("unknown --sort key: 'parent'");
  });

  it('groups by the keys, weights by period, sorts biggest first then by key, one table per event in header order', () => {
    const a = new ReportAggregator(['comm', 'cpu']);
    a.add(s({ event: 'pagefault:spf_pte_lock', sym: 'pte_map_lock+0xc0', caller: '0xffffffff812004c0' }));
    a.add(s({ comm: 'b', cpu: 1 }));
    a.add(s({ comm: 'a', cpu: 1 }));
    a.add(s({ comm: 'a', cpu: 0, period: 2 }));
    const t = a.result(['faults', 'pagefault:spf_pte_lock']);
    expect(t.map((x) => [x.event, x.samples, x.period])).toEqual([['faults', 3, 4], ['pagefault:spf_pte_lock', 1, 1]]);
    expect(t[0].rows.map((r) => [r.vals, r.period])).toEqual([[['a', '0'], 2], [['a', '1'], 1], [['b', '1'], 1]]);
    const l = tableLines(t[0], ['comm', 'cpu'], ['overhead', 'comm', 'cpu']);
    expect(l.header).toBe('Overhead  Command  CPU');
    expect(l.dots).toBe('........  .......  ...');
    expect(l.rows).toEqual(['  50.00%  a        000', '  25.00%  a        001', '  25.00%  b        001']);
  });

  it('names the caller of pagefault samples [k] sym, exc_page_fault for exceptions, [unknown] otherwise; vma as start-end', () => {
    const a = new ReportAggregator(['caller', 'vma']);
    a.add(s({ event: 'pagefault:x', sym: 'pte_map_lock+0x4c', caller: '0xffffffff8120044c', vm_start: '0x7f00', vm_end: '0x7f80' }));
    a.add(s({ event: 'exceptions:page_fault_user', address: '0x1', ip: '0x2', error_code: 6 }));
    a.add(s({}));
    expect(a.result().flatMap((t) => t.rows.map((r) => r.vals))).toEqual([['[k] pte_map_lock+0x4c', '7f00-7f80'], ['[k] exc_page_fault', '[unknown]'], ['[unknown]', '[unknown]']]);
  });

  it('prints the whole --stdio text: header block, then each table with two blank lines after it', () => {
    const a = new ReportAggregator(['tid']);
    for (let i = 0; i < 3; i++) a.add(s({}));
    a.add(s({ tid: 1002 }));
    const text = formatReportStdio(info(a.counts()), a.result(), ['tid'], ['overhead', 'tid']);
    expect(text).toBe(
      [
        '# Trace of: mt',
        '# Recorded by spfperf 0.1.0 (trace format 1): machine m (x86), 2 CPUs, config base, seed 1',
        '# Simulated time: 1.000000000 s elapsed, 0.500000000 s user, 0.500000000 s sys',
        '#',
        '#',
        '# Total Lost Samples: 1',
        '# Skipped lines: 0',
        '#',
        "# Samples: 4  of event 'faults'",
        '# Event count (approx.): 4',
        '#',
        '# Overhead      Tid:Command',
        '# ........  ...............',
        '#',
        '    75.00%     1001:mt',
        '    25.00%     1002:mt',
        '',
        '',
        '',
      ].join('\n'),
    );
  });

  it('builds the interactive view\'s model: the same rows, with breakdowns by the other keys', () => {
    const a = new ReportAggregator(['comm'], ['tid', 'cpu']);
    a.add(s({ tid: 1, cpu: 0 }));
    a.add(s({ tid: 2, cpu: 1 }));
    a.add(s({ tid: 2, cpu: 1 }));
    const m = reportViewModel(info(a.counts()), a.result(), ['comm'], ['overhead', 'comm'], ['tid', 'cpu']);
    expect(m.breakdownKeys).toEqual(['tid', 'cpu']);
    expect(m.tables[0].title).toBe("Samples: 3 of event 'faults', Event count (approx.): 3");
    expect(m.tables[0].columns).toBe('Overhead  Command');
    expect(m.tables[0].rows[0].text).toBe(' 100.00%  mt');
    expect(m.tables[0].rows[0].breakdowns).toEqual([['  66.67%        2:mt', '  33.33%        1:mt'], ['  66.67%  001', '  33.33%  000']]);
    expect(m.heading[0]).toBe('Trace of: mt');
  });
});
