import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden, ROOT } from '../helpers/golden.js';

const T = 'fixtures/traces';

describe('spfperf script', () => {
  it('prints one line per event in perf script\'s layout (golden)', async () => {
    const a = await spfperf(['script', '-i', `${T}/ebizzy-spf.ndjson`]);
    expect(a.status).toBe(0);
    expect(a.stderr).toBe('');
    expectGolden('script.ebizzy-spf.txt', a.stdout);
    const b = await spfperf(['script', '-i', `${T}/ebizzy-faults.ndjson`]);
    expectGolden('script.ebizzy-faults.txt', b.stdout);
    const samples = readFileSync(join(ROOT, T, 'ebizzy-faults.ndjson'), 'utf8').trim().split('\n').length - 2;
    expect(b.stdout.split('\n').length - 1).toBe(samples);
  });

  it('puts every column where perf script puts it (shared/perf-captures/script.txt)', async () => {
    // perf: "              mt  4048   207.245733:          1                     faults:  ffffffff817554ea ..."
    //       "              mt  4048 [001]   207.246444: exceptions:page_fault_user: address=0x7f0ba6d52b70 ip=... error_code=0x14"
    const lines = (await spfperf(['script', '-i', `${T}/ebizzy-faults.ndjson`])).stdout.split('\n');
    const sw = lines.find((l) => l.endsWith(' faults:'))!;
    const tp = lines.find((l) => l.includes('exceptions:page_fault_user'))!;
    expect(sw).toMatch(/^ {10}ebizzy  \d{4} {3,}\d\.\d{6}: {10}1 {21}faults:$/);
    expect(sw.indexOf('faults:')).toBe('              mt  4048   207.245733:          1                     '.length);
    expect(tp).toMatch(/^ {10}ebizzy  \d{4} \[00\d\] {5}\d\.\d{6}: exceptions:page_fault_user: address=0x[0-9a-f]+ ip=0x[0-9a-f]+ error_code=0x[0-9a-f]+$/);
    expect(tp.indexOf('exceptions:')).toBe('              mt  4048 [001]   207.246444: '.length);
    const spf = (await spfperf(['script', '-i', `${T}/ebizzy-spf.ndjson`])).stdout.split('\n')[0];
    expect(spf).toMatch(/^ {10}ebizzy  \d{4} \[00\d\] {5}\d\.\d{6}: +pagefault:spf_\w+: ip:ffffffff812[0-9a-f]{5} vma:[0-9a-f]+-[0-9a-f]+ address:[0-9a-f]+$/);
  });

  it('reads stdin with -i -, and record\'s output through a pipe', async () => {
    const file = (await spfperf(['script', '-i', `${T}/ebizzy-spf.ndjson`])).stdout;
    expect((await spfperf(['script', '-i', '-'], { stdin: readFileSync(join(ROOT, T, 'ebizzy-spf.ndjson')) })).stdout).toBe(file);
    const run = ['-e', 'faults,pagefault:*', '--cpus', '4', '--config', 'dufour-v9', 'ebizzy', 'threads=4', 'seconds=0.001s'];
    const rec = await spfperf(['record', '-o', '-', ...run]);
    const piped = await spfperf(['script', '-i', '-'], { stdin: rec.stdout });
    expect(piped.status).toBe(0);
    expect(piped.stdout.split('\n').length - 1).toBe(rec.stdout.trim().split('\n').length - 2);
  });

  it('-F chooses the fields (a list, or +field/-field changes to the defaults)', async () => {
    const a = (await spfperf(['script', '-F', 'comm,pid,tid,time,event', '-i', `${T}/ebizzy-faults.ndjson`])).stdout.split('\n')[0];
    expect(a).toMatch(/^ {10}ebizzy  \d{4}\/\d{4} {6}\d\.\d{6}: +faults:$/);
    const b = (await spfperf(['script', '-F', '+ip,+sym,-cpu,-trace', '-i', `${T}/ebizzy-spf.ndjson`])).stdout.split('\n')[0];
    expect(b).toMatch(/^ {10}ebizzy  \d{4} {5}\d\.\d{6}: +pagefault:spf_\w+:  ffffffff812[0-9a-f]{5} \w+\+0x[0-9a-f]+ \(\[kernel\.kallsyms\]\)$/);
    const bad = await spfperf(['script', '-F', 'comm,dso', '-i', `${T}/ebizzy-faults.ndjson`]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^spfperf: -F: unknown field 'dso'/);
  });

  it('prints what a truncated trace holds and says what is wrong with it', async () => {
    const r = await spfperf(['script', '-i', `${T}/truncated.ndjson`]);
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').length - 1).toBe(58);
    expect(r.stderr).toContain(`spfperf: ${T}/truncated.ndjson:60: skipped: truncated line`);
    expect(r.stderr).toContain('no summary line');
  });
});
