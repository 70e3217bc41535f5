import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

const T = 'fixtures/traces';
const tmp = (): string => mkdtempSync(join(tmpdir(), 'spfperf-report-'));

describe('spfperf report --stdio', () => {
  it('prints perf report\'s plain layout, one table per event (golden)', async () => {
    const r = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '--sort', 'comm,tid,caller']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expectGolden('report.ebizzy-spf.comm-tid-caller.txt', r.stdout);
  });

  it('default sort is perf\'s comm,dso,sym: one table per event, the abort site\'s function as the symbol (golden)', async () => {
    const spf = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`]);
    expect(spf.status).toBe(0);
    expect(spf.stdout).toBe((await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'comm,dso,sym'])).stdout);
    expectGolden('report.ebizzy-spf.default.txt', spf.stdout);
    const lines = spf.stdout.split('\n');
    const at = lines.indexOf("# Samples: 51  of event 'pagefault:spf_vma_changed'");
    expect(lines[at + 3]).toMatch(/^# Overhead  Command  Shared Object {6}Symbol +$/);
    // The trace's own abort sites, grouped by function: __handle_speculative_fault+0x5c and +0x1f8,
    // pte_map_lock+0x4c and +0xf2 (see the comm-tid-caller golden).
    expect(lines.slice(at + 6, at + 8)).toEqual(['    50.98%  ebizzy   [kernel.kallsyms]  [k] pte_map_lock', '    49.02%  ebizzy   [kernel.kallsyms]  [k] __handle_speculative_fault']);
    const a = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-faults.ndjson`]);
    expect(a.status).toBe(0);
    expectGolden('report.ebizzy-faults.txt', a.stdout);
  });

  it('-F with sample and period columns (golden)', async () => {
    const b = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'cpu', '-F', 'overhead,sample,period,vma']);
    expect(b.status).toBe(0);
    expectGolden('report.ebizzy-spf.cpu-vma.txt', b.stdout);
  });

  it('takes perf\'s keys as perf means them: pid is the thread (Pid:Command), tgid the process, symoff the site', async () => {
    const r = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'pid,tgid,symoff,cpu']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf("# Samples: 1  of event 'pagefault:spf_vma_notsup'");
    expect(lines.slice(at + 3, at + 7)).toEqual([
      '# Overhead      Pid:Command     Tgid:Command  Symbol Offset                         CPU',
      '# ........  ...............  ...............  ....................................  ...',
      '#',
      '   100.00%     1002:ebizzy      1000:ebizzy   [k] __handle_speculative_fault+0x1a0  002',
    ]);
    // pid and tid group alike; symbol is perf's full name of sym.
    const pid = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'pid,symbol']);
    const tid = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'tid,sym']);
    expect(tid.stdout.replaceAll('Tid:Command', 'Pid:Command')).toBe(pid.stdout);
  });

  it('counts faults by how they completed (path, retry, major), from the fields fault samples carry', async () => {
    // The faults fixture with the completion fields of newer traces added: every third fault went
    // the mmap path, one of those retried and major.
    let n = 0;
    const lines = readFileSync(join(ROOT, T, 'ebizzy-faults.ndjson'), 'utf8').split('\n').map((l) => {
      if (!l.includes('"event":"faults"')) return l;
      const i = n++;
      const path = i % 3 === 0 ? 'mmap' : 'spec';
      const slow = i === 3;
      return l.replace(/}$/, `,"path":"${path}","retry":${slow},"major":${slow},"latency_ns":${500 + i}}`);
    });
    const dir = tmp();
    writeFileSync(join(dir, 't.ndjson'), lines.join('\n'));
    const r = await spfperf(['report', '--stdio', '-i', join(dir, 't.ndjson'), '-s', 'path,retry,major']);
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    const at = out.indexOf("# Samples: 29  of event 'faults'");
    // 29 faults: 10 mmap (one of them retried and major), 19 spec.
    expect(out.slice(at + 3, at + 9)).toEqual([
      '# Overhead  Path  Retry  Major',
      '# ........  ....  .....  .....',
      '#',
      '    65.52%  spec  no     no',
      '    31.03%  mmap  no     no',
      '     3.45%  mmap  yes    yes',
    ]);
    expect(r.stdout).toContain('   100.00%  N/A   N/A    N/A'); // exceptions:page_fault_user
  });

  it('has perf\'s header, column and row layout', async () => {
    const out = (await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '--sort', 'comm,tid,caller'])).stdout;
    const lines = out.split('\n');
    const at = lines.indexOf("# Samples: 51  of event 'pagefault:spf_vma_changed'");
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toBe('# Event count (approx.): 51');
    expect(lines[at + 2]).toBe('#');
    expect(lines[at + 3]).toMatch(/^# Overhead  Command {6}Tid:Command  Symbol +$/);
    expect(lines[at + 4]).toMatch(/^# \.{8}  \.{7}  \.{15}  \.+$/);
    expect(lines[at + 3].length).toBe(lines[at + 4].length);
    expect(lines[at + 5]).toBe('#');
    expect(lines[at + 6]).toMatch(/^ {4}\d\d\.\d\d%  ebizzy {6}\d{4}:ebizzy   \[k\] \w+\+0x[0-9a-f]+$/);
    // Overheads of a table add up to 100%, biggest first.
    const rows = lines.slice(at + 6, lines.indexOf('', at + 6)).map((l) => Number(l.trim().split('%')[0]));
    expect(rows.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 1);
    expect([...rows].sort((a, b) => b - a)).toEqual(rows);
    expect(lines.slice(0, 8)).toEqual([
      '# Trace of: ebizzy threads=4 seconds=0.001s',
      '# Recorded by spfperf 0.1.0 (trace format 1): machine x86-vm16 (x86), 4 CPUs, config dufour-v9, seed 1',
      expect.stringMatching(/^# Simulated time: \d\.\d{9} s elapsed, \d\.\d{9} s user, \d\.\d{9} s sys$/),
      '#',
      '#',
      '# Total Lost Samples: 0',
      '# Skipped lines: 0',
      '#',
    ]);
  });

  it('reads a trace from stdin (-i -) with the same result as from the file', async () => {
    const file = (await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`, '-s', 'tid,caller'])).stdout;
    const pipe = await spfperf(['report', '--stdio', '-i', '-', '-s', 'tid,caller'], { stdin: readFileSync(join(ROOT, T, 'ebizzy-spf.ndjson')) });
    expect(pipe.status).toBe(0);
    expect(pipe.stdout).toBe(file);
  });

  it('works on record\'s output read from stdin (record -o - | report -i -) as through a file', async () => {
    const dir = tmp();
    const run = ['-e', 'faults,pagefault:*', '--cpus', '4', '--config', 'dufour-v9', 'ebizzy', 'threads=4', 'seconds=0.002s'];
    const rec = await spfperf(['record', '-o', '-', ...run]);
    expect(rec.status).toBe(0);
    const piped = await spfperf(['report', '-i', '-', '--sort', 'comm,caller'], { stdin: rec.stdout });
    expect(piped.status).toBe(0);
    expect((await spfperf(['record', '-o', `${dir}/t.ndjson`, ...run])).status).toBe(0);
    const viaFile = await spfperf(['report', '-i', `${dir}/t.ndjson`, '--sort', 'comm,caller']);
    expect(piped.stdout).toBe(viaFile.stdout);
    expect(piped.stdout).toContain("of event 'faults'");
    expect(piped.stdout).toContain("of event 'pagefault:spf_pte_lock'");
    expect(piped.stdout).toContain('# Total Lost Samples: 0');
  });

  it('reports a trace cut mid-line with the line number, and still summarises it', async () => {
    const r = await spfperf(['report', '--stdio', '-i', `${T}/truncated.ndjson`, '-s', 'caller']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(
      `spfperf: ${T}/truncated.ndjson:60: skipped: truncated line (the file ends in the middle of it)\n` +
        `spfperf: ${T}/truncated.ndjson: no summary line: the trace is incomplete (the recording was cut short)\n`,
    );
    expect(r.stdout).toContain('# Total Lost Samples: unknown (no summary line: the trace is incomplete)\n# Skipped lines: 1\n');
    const counts = [...r.stdout.matchAll(/# Samples: (\d+) +of event/g)].map((m) => Number(m[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(58); // lines 2..59
    expectGolden('report.truncated.txt', r.stdout);
  });

  it('skips corrupt lines, naming each, and counts them and the samples lost', async () => {
    const r = await spfperf(['report', '--stdio', '-i', `${T}/corrupt.ndjson`]);
    expect(r.status).toBe(0);
    expect(r.stderr.split('\n').filter(Boolean).map((l) => l.replace(/ \(.*\)$/, ''))).toEqual([
      `spfperf: ${T}/corrupt.ndjson:11: skipped: not valid JSON`,
      `spfperf: ${T}/corrupt.ndjson:21: skipped: not a trace record`,
      `spfperf: ${T}/corrupt.ndjson:31: skipped: sample without an 'event'`,
      `spfperf: ${T}/corrupt.ndjson:41: skipped: unknown record type 'frobnicate'`,
    ]);
    expect(r.stdout).toContain('# Total Lost Samples: 3\n# Skipped lines: 4\n');
  });

  it('fails on a missing header, an unknown trace format, an empty or missing file (exit 1)', async () => {
    const dir = tmp();
    const lines = readFileSync(join(ROOT, T, 'ebizzy-spf.ndjson'), 'utf8').split('\n');
    writeFileSync(join(dir, 'nohdr.ndjson'), lines.slice(1).join('\n'));
    writeFileSync(join(dir, 'v2.ndjson'), [lines[0].replace('"trace_format":1', '"trace_format":2'), ...lines.slice(1)].join('\n'));
    writeFileSync(join(dir, 'empty.ndjson'), '');
    const cases: [string, string][] = [
      ['nohdr.ndjson', `spfperf: ${dir}/nohdr.ndjson:1: not an spfperf trace: no header line (the first record is a 'sample')\n`],
      ['v2.ndjson', `spfperf: ${dir}/v2.ndjson: trace format 2 is not one this spfperf reads (it reads format 1)\n`],
      ['empty.ndjson', `spfperf: ${dir}/empty.ndjson: not an spfperf trace: no header line (the input is empty)\n`],
      ['missing.ndjson', `spfperf: cannot open '${dir}/missing.ndjson': No such file or directory\n`],
    ];
    for (const [f, msg] of cases) {
      const r = await spfperf(['report', '--stdio', '-i', join(dir, f)]);
      expect(r.status, f).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(msg);
    }
  });

  it('reads spfperf.ndjson by default and rejects unknown sort keys and fields', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'spfperf.ndjson'), readFileSync(join(ROOT, T, 'ebizzy-faults.ndjson')));
    expect((await spfperf(['report', '--stdio'], { cwd: dir })).stdout).toBe((await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-faults.ndjson`])).stdout);
    const k = await spfperf(['report', '--stdio', '-s', 'comm,parent', '-i', `${T}/ebizzy-faults.ndjson`]);
    expect(k.status).toBe(1);
    expect(k.stderr).toBe("spfperf: unknown --sort key: 'parent' (keys: comm, dso, sym, pid, tgid, cpu, symoff, event, tid, caller, vma, path, retry, major)\n");
    const f = await spfperf(['report', '--stdio', '-F', 'overhead,bogus', '-i', `${T}/ebizzy-faults.ndjson`]);
    expect(f.status).toBe(1);
    expect(f.stderr).toMatch(/^spfperf: unknown -F key: 'bogus'/);
  });

  it('prints the plain layout when stdout is not a terminal, even without --stdio', async () => {
    const a = await spfperf(['report', '-i', `${T}/ebizzy-spf.ndjson`]);
    const b = await spfperf(['report', '--stdio', '-i', `${T}/ebizzy-spf.ndjson`]);
    expect(a.stdout).toBe(b.stdout);
  });
});
