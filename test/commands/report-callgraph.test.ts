import { describe, expect, it } from 'vitest';
import { formatReportStdio, ReportAggregator, reportViewModel, type ReportInfo } from '../../src/format/report.js';
import type { TraceSample } from '../../src/trace/ndjson-reader.js';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

/** report of a cpu-clock recording with call chains (src/format/report.ts, src/format/callgraph.ts). */
const PF1 = ['--cpus', '4', 'page_fault1', 'threads=4', 'size=1M', 'seconds=0.001s'];

async function recording(): Promise<string> {
  const r = await spfperf(['record', '-g', '-e', 'cpu-clock', '-c', '50000', '-o', '-', ...PF1]);
  expect(r.status).toBe(0);
  return r.stdout;
}

/** The entry lines of a report: their percentage columns and symbol. */
function entries(text: string): { pcts: number[]; sym: string }[] {
  return text
    .split('\n')
    .filter((l) => /^ +\d+\.\d+%/.test(l))
    .map((l) => ({ pcts: [...l.matchAll(/(\d+\.\d+)%/g)].map((m) => Number(m[1])), sym: l.replace(/^.*\[[k.]\] /, '') }));
}

describe('spfperf report of call chains', () => {
  it('--no-children: each sampled function, its callers drawn under it as perf draws them (golden)', async () => {
    const trace = await recording();
    const r = await spfperf(['report', '--stdio', '--no-children', '-i', '-'], { stdin: trace });
    expect(r.status).toBe(0);
    expectGolden('report.page_fault1-cpu-clock-g.no-children.txt', r.stdout);
    const e = entries(r.stdout);
    expect(e.reduce((a, x) => a + x.pcts[0], 0)).toBeCloseTo(100, 0);
    // Every graph starts at the entry's own function (a single root covering the entry).
    const lines = r.stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^ +\d+\.\d+%/.test(lines[i])) continue;
      const sym = lines[i].replace(/^.*\[[k.]\] /, '');
      expect(lines[i + 1]).toBe('            |');
      expect(lines[i + 2]).toBe(`            ---${sym}`);
    }
  });

  it('--children (perf\'s default): every function of a chain is an entry, Children = its own and its callees\' (golden)', async () => {
    const trace = await recording();
    const r = await spfperf(['report', '--stdio', '-g', '-i', '-'], { stdin: trace });
    expect(r.status).toBe(0);
    expect((await spfperf(['report', '--stdio', '-i', '-'], { stdin: trace })).stdout).toBe(r.stdout);
    expectGolden('report.page_fault1-cpu-clock-g.children.txt', r.stdout);
    expect(r.stdout).toContain('# Children      Self  Command      Shared Object');
    const e = entries(r.stdout);
    expect(e.reduce((a, x) => a + x.pcts[1], 0)).toBeCloseTo(100, 0);
    for (const x of e) expect(x.pcts[0]).toBeGreaterThanOrEqual(x.pcts[1]);
    // Sorted by Children; the outermost frames come first: the fault entry covers the fault path.
    const pct = (sym: string): number => e.find((x) => x.sym === sym)!.pcts[0];
    expect(e.map((x) => x.pcts[0])).toEqual([...e.map((x) => x.pcts[0])].sort((a, b) => b - a));
    expect(pct('asm_exc_page_fault')).toBeGreaterThanOrEqual(pct('do_anonymous_page'));
    expect(pct('do_anonymous_page')).toBeGreaterThanOrEqual(pct('clear_page_erms'));
    // Equal Children: callers above their callees (perf's __hpp__sort_acc()), the idle task's chain in order.
    const idle = e.filter((x) => x.pcts[0] === pct('default_idle')).map((x) => x.sym);
    expect(idle).toEqual(['common_startup_64', 'start_secondary', 'cpu_startup_entry', 'do_idle', 'default_idle_call', 'default_idle']);
  });

  it('the interactive view expands a row into its call graph first (the breakdown `callchain`), as --stdio draws it', () => {
    const a = new ReportAggregator(['comm', 'dso', 'sym'], ['cpu']);
    const k = (fn: string, off = 0x10): { ip: string; sym: string } => ({ ip: '0xffffffff81000000', sym: `${fn}+0x${off.toString(16)}` });
    const user = { ip: '0x401480', sym: 'page_fault1.spf:72', dso: 'workloads/page_fault1.spf' };
    const s = (chain: TraceSample['callchain'], cpu: number): TraceSample => ({ type: 'sample', ts: 0, cpu, pid: 1000, tid: 1001, comm: 'page_fault1', event: 'cpu-clock', period: 250000, ip: chain![0].ip, sym: chain![0].sym, callchain: chain });
    for (let i = 0; i < 3; i++) a.add(s([k('clear_page_erms'), k('do_anonymous_page'), k('do_user_addr_fault'), user], i));
    a.add(s([k('down_read'), k('do_user_addr_fault'), user], 1));
    const info: ReportInfo = { header: { type: 'header', trace_format: 1, events: ['cpu-clock'] }, summary: null, skipped: 0, seen: a.counts() };
    const tables = a.result(['cpu-clock']);
    const m = reportViewModel(info, tables, ['comm', 'dso', 'sym'], ['overhead', 'comm', 'dso', 'sym'], ['cpu']);
    expect(m.breakdownKeys).toEqual(['callchain', 'cpu']);
    const stdio = formatReportStdio(info, tables, ['comm', 'dso', 'sym'], ['overhead', 'comm', 'dso', 'sym']).split('\n');
    expect(m.tables[0].columns).toMatch(/^Children {6}Self {2}Command/);
    for (const row of m.tables[0].rows) {
      const at = stdio.indexOf(`  ${row.text}`);
      expect(at).toBeGreaterThan(0);
      expect(row.breakdowns[0]).toEqual(stdio.slice(at + 1, at + 1 + row.breakdowns[0].length));
      expect(row.breakdowns[0][0]).toBe('            |');
    }
  });
});
