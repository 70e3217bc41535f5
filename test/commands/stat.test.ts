import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

const PF1 = ['stat', '-e', 'faults,minor-faults,major-faults', '--cpus', '1', 'page_fault1', 'threads=1', 'iterations=1'];

/** The count printed on the line of `event`. */
function countOf(out: string, event: string): number {
  const line = out.split('\n').find((l) => l.trim().split(/\s+/)[1] === event);
  if (line === undefined) throw new Error(`no line for ${event} in:\n${out}`);
  return Number(line.trim().split(/\s+/)[0]);
}

describe('spfperf stat', () => {
  it('prints perf stat\'s human layout to stderr (golden)', async () => {
    const r = await spfperf(PF1);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('');
    expectGolden('page_fault1.stat.txt', r.stderr);
  });

  it('counts 4 x 32768 faults for page_fault1 threads=1 iterations=4, from the model', async () => {
    const r = await spfperf(['stat', '-e', 'faults,minor-faults,major-faults', 'page_fault1', 'threads=1', 'iterations=4']);
    expect(r.status).toBe(0);
    expect(countOf(r.stderr, 'faults')).toBe(131072);
    expect(countOf(r.stderr, 'minor-faults')).toBe(131072);
    expect(countOf(r.stderr, 'major-faults')).toBe(0);
    expect(r.stderr).toContain(" Performance counter stats for 'page_fault1 threads=1 iterations=4':");
  });

  it('matches the captured perf layout: 91-column counter lines, 18-column values, elapsed/user/sys', async () => {
    const out = (await spfperf(PF1)).stderr;
    const lines = out.split('\n');
    expect(lines[0]).toBe('');
    expect(lines[2]).toBe('');
    for (const l of lines.slice(3, 6)) {
      expect(l).toHaveLength(91);
      expect(l.slice(0, 18)).toMatch(/^ *\d+$/);
      expect(l.slice(18, 24)).toBe('      ');
    }
    expect(out).toMatch(/\n {7}\d\.\d{9} seconds time elapsed\n\n {7}\d\.\d{9} seconds user\n {7}\d\.\d{9} seconds sys\n\n\n$/);
  });

  it('is deterministic: the same command twice prints byte-identical output', async () => {
    const a = await spfperf(['stat', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=0.005s']);
    const b = await spfperf(['stat', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=0.005s']);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe(b.stderr);
  });

  it('--check: a hang is the violation no-task-waits-forever, exit 4 with a one-line head; a clean run is unchanged', async () => {
    const hang = await spfperf(['stat', '--check', '--config', 'kamezawa', '--cpus', '4', 'kamezawa-race', 'threads=4']);
    expect(hang.status).toBe(4);
    const lines = hang.stderr.split('\n');
    expect(lines[0]).toMatch(/^spfperf: invariant violated: no-task-waits-forever by kamezawa-race\/\d+ in invalidate_vma_before_free \(\d+ ns\): workload 'kamezawa-race' cannot finish: /);
    expect(lines[1]).toMatch(/^ {2}kamezawa-race\/\d+ \(blocked\) waiting on vma->wait_queue/);
    // The checks change no count and no time: the same output, byte for byte.
    const run = ['-e', 'faults,task-clock', 'page_fault1', 'threads=2', 'iterations=1', 'size=1M'];
    const plain = await spfperf(['stat', ...run]);
    const checked = await spfperf(['stat', '--check', ...run]);
    expect(checked.status).toBe(0);
    expect(checked.stderr).toBe(plain.stderr);
  });

  it('--seed changes timings, not counts', async () => {
    const a = (await spfperf([...PF1, '--seed', '1'])).stderr;
    const b = (await spfperf([...PF1, '--seed', '2'])).stderr;
    for (const e of ['faults', 'minor-faults', 'major-faults']) expect(countOf(a, e)).toBe(countOf(b, e));
    const elapsed = (s: string): string => s.match(/([\d.]+) seconds time elapsed/)![1];
    expect(elapsed(a)).not.toBe(elapsed(b));
  });

  it('ends with the workload\'s headline metric as a workload: line (golden for ebizzy)', async () => {
    const r = await spfperf(['stat', '-e', 'faults,spf', '--cpus', '4', 'ebizzy', 'threads=4', 'seconds=0.01s']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/\n +\d+\.\d\d      workload:records\/s +\n/);
    expect(countOf(r.stderr, 'spf')).toBe(0);
    expectGolden('ebizzy.stat.txt', r.stderr);
  });

  it('writes to -o FILE instead of stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spfperf-'));
    const file = join(dir, 'out.txt');
    const r = await spfperf([...PF1, '-o', file]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(countOf(readFileSync(file, 'utf8'), 'faults')).toBe(32768);
  });

  it('reports a SIGSEGV the workload took, and still prints the counters', async () => {
    const r = await spfperf(['stat', '-e', 'faults', '--cpus', '1', 'fixtures/workloads/segv.spf']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^segv: process segv\/\d+: Segmentation fault \(write to [0-9a-f]+-[0-9a-f]+ r--p at 0x[0-9a-f]+\)\n/);
    // 16 read faults map the zero page, then the first write faults and is refused.
    expect(countOf(r.stderr, 'faults')).toBe(17);
  });
});

describe('spfperf stat errors', () => {
  const noStack = (s: string): void => expect(s).not.toMatch(/^\s+at /m);

  it('an unknown event: perf\'s message, exit 1', async () => {
    const r = await spfperf(['stat', '-e', 'faults,faultz', 'page_fault1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("event syntax error: 'faults,faultz'\n                            \\___ parser error\nRun 'spfperf list' for a list of all symbolic event names\n");
  });

  it('a malformed workload: one file:line:col error with the line and a caret, exit 2', async () => {
    const r = await spfperf(['stat', 'fixtures/workloads/bad-syntax.spf']);
    expect(r.status).toBe(2);
    noStack(r.stderr);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/^fixtures\/workloads\/bad-syntax\.spf:4:3: .*'tuch'.*did you mean 'touch'\?/);
    expect(lines[1]).toBe('  tuch buf write');
    expect(lines[2]).toBe('  ^');
  });

  it('an unknown parameter, workload or option value: one line, exit 1', async () => {
    for (const args of [
      ['stat', 'page_fault1', 'thread=4'],
      ['stat', 'no_such_workload'],
      ['stat', '--cpus', 'many', 'page_fault1'],
      ['stat', '--arch', 'sparc', 'page_fault1'],
    ]) {
      const r = await spfperf(args);
      expect(r.status, args.join(' ')).toBeGreaterThan(0);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(/^spfperf: /);
      noStack(r.stderr);
    }
  });

  it('each kind of mistake has one exit status (README): bad values and option values 1, a bad kernel config 2', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['stat', '--machine', 'nope', 'page_fault1'], 1, /^spfperf: option '--machine': unknown machine 'nope'/],
      [['stat', '--arch', 'sparc', 'page_fault1'], 1, /^spfperf: option '--arch': unknown arch 'sparc'/],
      [['stat', '-e', '', 'page_fault1'], 1, /^event syntax error: ''/],
      [['stat', '-e', 'faults,,minor-faults', 'page_fault1'], 1, /^event syntax error: /],
      [['stat', 'page_fault1', 'threads=0'], 1, /'threads' must be at least 1/],
      [['stat', 'page_fault1', 'threads=-5'], 1, /'threads' must be at least 1/],
      [['stat', 'page_fault1', 'threads=2.5'], 1, /'threads' takes a whole number/],
      [['stat', 'page_fault1', 'seconds=-1'], 1, /'seconds' cannot be negative/],
      [['stat', 'page_fault1', 'threads=1', 'threads=2'], 1, /'threads' of workload 'page_fault1' is given twice/],
      [['record', '-o', '-', 'page_fault1', 'threads=0'], 1, /'threads' must be at least 1/],
      [['stat', '--config', 'nope', 'page_fault1'], 2, /^spfperf: --config 'nope'/],
    ];
    for (const [args, status, msg] of cases) {
      const r = await spfperf(args);
      expect(r.status, args.join(' ')).toBe(status);
      expect(r.stdout, args.join(' ')).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(msg);
      if (!r.stderr.startsWith('event syntax error')) expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      noStack(r.stderr);
    }
  });

  it('--version and --help', async () => {
    const v = await spfperf(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await spfperf(['stat', '--help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toContain('Usage: spfperf stat [options] <workload> [params...]');
  });
});

describe('spfperf stat: perf\'s event modifiers and <not supported> (fixtures/golden/perf-6.1/stat-modifiers-csv.txt)', () => {
  const EB = ['ebizzy', 'threads=2', 'seconds=0.002s', '--cpus', '2'];
  /** event -> [value field, metric unit field] of a -x, run. */
  async function csv(events: string): Promise<Map<string, string[]>> {
    const r = await spfperf(['stat', '-x,', '-e', events, ...EB]);
    expect(r.status, r.stderr).toBe(0);
    return new Map(r.stderr.trimEnd().split('\n').map((l) => l.split(',')).map((f) => [f[2], f]));
  }

  it(':u counts what the kernel counts with user regs (every fault the model takes), :k what it counts with its own (switches, tracepoints)', async () => {
    const m = await csv('faults,faults:u,faults:k,faults:uk,cs,cs:u,cs:k,cpu-migrations:u,task-clock,task-clock:u,exceptions:page_fault_user:u,exceptions:page_fault_user:k');
    const v = (e: string): number => Number(m.get(e)![0]);
    expect(v('faults')).toBeGreaterThan(0);
    expect(v('faults:u')).toBe(v('faults'));
    expect(v('faults:uk')).toBe(v('faults'));
    expect(v('faults:k')).toBe(0);
    expect(v('cs')).toBeGreaterThan(0);
    expect(v('cs:u')).toBe(0);
    expect(v('cs:k')).toBe(v('cs'));
    expect(v('cpu-migrations:u')).toBe(0);
    expect(v('task-clock:u')).toBe(v('task-clock'));
    // A tracepoint is printed without its modifier (two rows of the same name, :u first), as perf prints it.
    const r = await spfperf(['stat', '-x,', '-e', 'exceptions:page_fault_user:u,exceptions:page_fault_user:k', ...EB]);
    const tp = r.stderr.split('\n').filter((l) => l.includes(',exceptions:page_fault_user,'));
    expect(tp.map((l) => l.split(',')[0])).toEqual(['0', String(v('faults'))]);
    // The zero counts carry perf's 0 rate, as cs:u in the capture.
    expect(m.get('faults:k')!.slice(5)).toEqual(['0.000', '/sec']);
  });

  it('a hardware event perf knows prints <not supported> in every format, as perf on a machine without that PMU', async () => {
    const m = await csv('cycles,faults,instructions:u');
    expect(m.get('cycles')!.join(',')).toBe('<not supported>,,cycles,0,100.00,,');
    expect(m.get('instructions:u')![0]).toBe('<not supported>');
    const human = await spfperf(['stat', '-e', 'cycles,faults', ...EB]);
    expect(human.status).toBe(0);
    expect(human.stderr).toContain('\n   <not supported>      cycles' + ' '.repeat(25 - 6 + 35) + '\n');
    const json = await spfperf(['stat', '-j', '-e', 'cycles', ...EB]);
    expect(JSON.parse(json.stderr.split('\n')[0])).toMatchObject({ 'counter-value': '<not supported>', event: 'cycles', 'event-runtime': 0, 'metric-unit': '' });
    // In every interval too.
    const iv = await spfperf(['stat', '-I', '1', '-x,', '-e', 'cycles,faults', ...EB]);
    const rows = iv.stderr.trimEnd().split('\n');
    expect(rows.filter((l) => l.includes(',cycles,')).length).toBe(rows.filter((l) => l.includes(',faults,')).length);
    // --per-thread: one <not supported> row per thread.
    const pt = await spfperf(['stat', '--per-thread', '-x,', '-e', 'cycles', ...EB]);
    expect(pt.stderr.split('\n').filter((l) => /^ebizzy-\d+,<not supported>,,cycles,0,/.test(l)).length).toBe(3);
  });

  it('record: refuses a not-supported event and a modifier that records nothing, in one line (exit 1)', async () => {
    for (const e of ['cycles', 'faults:k']) {
      const r = await spfperf(['record', '-e', e, '-o', '-', ...EB]);
      expect(r.status, e).toBe(1);
      expect(r.stderr.trim().split('\n'), e).toHaveLength(1);
    }
  });
});

describe('--cpus above the machine (issue 16)', () => {
  it('is one line naming the machine, its shape and the reshaping flags, exit 1; the flags make it run', async () => {
    const r = await spfperf(['stat', '-e', 'faults', '--machine', 'skl-4s192', '--cpus', '200', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("spfperf: option '--cpus': 200 is more than the 192 CPUs of skl-4s192 (4 sockets x 24 cores x 2 threads); give --sockets, --cores-per-socket, --threads-per-core to reshape it\n");
    const ok = await spfperf(['stat', '-e', 'faults', '--machine', 'skl-4s192', '--sockets', '5', '--cpus', '200', 'page_fault1', 'threads=1', 'iterations=1', 'size=64K']);
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/faults/);
  });
});
