import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

/**
 * record -e cpu-clock [-F|-c] [-g] (src/commands/record.ts) and what script prints of it. The
 * sampler itself is tested in test/trace/cpu-clock.test.ts.
 */
const PF1 = ['--cpus', '4', 'page_fault1', 'threads=4', 'size=1M', 'seconds=0.001s'];
const parse = (text: string): Record<string, unknown>[] => text.trim().split('\n').map((l) => JSON.parse(l));

/** perf script's call-chain output folded as flame-graph tools fold it: `comm;outer;...;inner count`. */
function fold(script: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const block of script.split('\n\n')) {
    const [head, ...frames] = block.split('\n').filter((l) => l !== '');
    if (head === undefined) continue;
    const syms = frames.map((l) => /^\t *[0-9a-f]+ (.+) \(.+\)$/.exec(l)![1].replace(/\+0x[0-9a-f]+$/, ''));
    const key = [head.split(' ')[0], ...syms.reverse()].join(';');
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

describe('spfperf record -e cpu-clock', () => {
  it('-g: each sample carries its call chain, innermost first; script prints it in perf script\'s layout (golden)', async () => {
    const r = await spfperf(['record', '-g', '-e', 'cpu-clock', '-c', '100000', '-o', '-', ...PF1]);
    expect(r.status).toBe(0);
    const lines = parse(r.stdout);
    const samples = lines.filter((l) => l.type === 'sample');
    const summary = lines[lines.length - 1] as { samples: Record<string, number>; elapsed: number };
    expect(summary.samples['cpu-clock']).toBe(samples.length);
    // Every CPU once per period up to the end: 4 CPUs.
    expect(samples.length).toBe(4 * (Math.ceil((summary.elapsed * 1e9) / 100000) - 1));
    for (const s of samples) {
      expect(s.event).toBe('cpu-clock');
      expect(s.period).toBe(100000);
      const chain = s.callchain as { ip: string; sym: string; dso?: string }[];
      expect(Array.isArray(chain)).toBe(true);
      if (chain.length > 0) expect(s.ip).toBe(chain[0].ip);
      for (const f of chain) expect(f.dso === undefined ? /^0xffffffff8[0-9a-f]{7}$/.test(f.ip) && /^[\w.()>-]+\+0x[0-9a-f]+$/.test(f.sym) : f.sym === `page_fault1.spf:${Number.parseInt(f.ip, 16) / 16 - 0x40100}`).toBe(true);
    }
    const script = await spfperf(['script', '-i', '-'], { stdin: r.stdout });
    expect(script.status).toBe(0);
    expectGolden('script.page_fault1-cpu-clock-g.txt', script.stdout);
    // A folded-stack conversion of it sums to the sample count.
    const folded = fold(script.stdout);
    expect([...folded.values()].reduce((a, b) => a + b, 0)).toBe(samples.length);
    expect([...folded.keys()].some((k) => k.startsWith('swapper;common_startup_64;start_secondary;cpu_startup_entry;do_idle;default_idle_call;default_idle'))).toBe(true);
    expect([...folded.keys()].some((k) => k.startsWith('page_fault1;page_fault1.spf:') && k.endsWith(';do_anonymous_page;clear_page_erms'))).toBe(true);
  });

  it('without -g: the sample\'s ip and symbol only; -F sets the rate (perf\'s default 4000 Hz)', async () => {
    const g = parse((await spfperf(['record', '-g', '-e', 'cpu-clock', '-o', '-', ...PF1])).stdout).filter((l) => l.type === 'sample');
    const plain = parse((await spfperf(['record', '-e', 'cpu-clock', '-o', '-', ...PF1])).stdout).filter((l) => l.type === 'sample');
    expect(plain.length).toBe(g.length);
    expect(plain.every((s) => s.callchain === undefined && s.period === 250000)).toBe(true);
    expect(plain.map((s) => `${s.ts} ${s.cpu} ${s.tid} ${s.ip}`)).toEqual(g.map((s) => `${s.ts} ${s.cpu} ${s.tid} ${s.ip}`));
    const f = parse((await spfperf(['record', '-e', 'cpu-clock', '-F', '10000', '-o', '-', ...PF1])).stdout).filter((l) => l.type === 'sample');
    expect(f.every((s) => s.period === 100000)).toBe(true);
    expect(f.length).toBeGreaterThan(2 * g.length);
  });

  it('with other events: both are recorded, the counts of the others unchanged', async () => {
    const both = parse((await spfperf(['record', '-g', '-e', 'faults,cpu-clock', '-o', '-', ...PF1])).stdout);
    const faults = parse((await spfperf(['record', '-e', 'faults', '-o', '-', ...PF1])).stdout);
    const n = (ls: Record<string, unknown>[], e: string): number => ls.filter((l) => l.event === e).length;
    expect(n(both, 'faults')).toBe(n(faults, 'faults'));
    expect(n(both, 'cpu-clock')).toBeGreaterThan(0);
  });

  it('--off-cpu: an offcpu-time sample per sleep, its length as the period; the header and summary name it', async () => {
    const lines = parse((await spfperf(['record', '-g', '--off-cpu', '-e', 'cpu-clock', '-o', '-', ...PF1])).stdout);
    const header = lines[0] as { events: string[] };
    const summary = lines[lines.length - 1] as { samples: Record<string, number> };
    expect(header.events).toEqual(['cpu-clock', 'offcpu-time']);
    const off = lines.filter((l) => l.event === 'offcpu-time');
    expect(off.length).toBe(summary.samples['offcpu-time']);
    expect(off.length).toBeGreaterThan(0);
    for (const s of off) {
      expect(s.period).toBeGreaterThan(0);
      expect((s.callchain as { sym: string }[])[0].sym).toMatch(/^__schedule\+0x/);
    }
    const report = await spfperf(['report', '--stdio', '--no-children', '-i', '-'], { stdin: lines.map((l) => JSON.stringify(l)).join('\n') + '\n' });
    expect(report.stdout).toContain("# Samples: ");
    expect(report.stdout).toContain("of event 'offcpu-time'");
  });

  it('bad options: a one-line error, exit 1', async () => {
    const cases: [string[], string][] = [
      [['-e', 'cpu-clock', '-F', '200000'], "option '-F': maximum frequency rate (100,000 Hz) exceeded"],
      [['-e', 'cpu-clock', '-F', '0'], "option '-F': '0' is not a positive whole number"],
      [['-e', 'cpu-clock', '-c', '1x'], "option '-c': '1x' is not a positive whole number"],
      [['-e', 'cpu-clock', '-c', '5000'], "option '-c': 5000 ns is shorter than the maximum rate allows (100000 Hz: 10000 ns)"],
      [['-e', 'cpu-clock', '-c', '100000', '-F', '100'], "options '-F' and '-c' cannot be used together (a frequency or a period)"],
      [['-g'], "option '-g': the model samples only cpu-clock (record -e cpu-clock)"],
      [['-e', 'faults', '-F', '100'], "option '-F': the model samples only cpu-clock (record -e cpu-clock)"],
      [['--off-cpu'], "option '--off-cpu': the model samples only cpu-clock (record -e cpu-clock)"],
    ];
    for (const [args, msg] of cases) {
      const r = await spfperf(['record', '-o', '-', ...args, ...PF1]);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`spfperf: ${msg}\n`);
    }
  });
});
