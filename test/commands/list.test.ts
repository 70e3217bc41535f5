import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

describe('spfperf list', () => {
  it('prints perf list\'s layout (golden)', () => {
    const r = spfperf(['list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  page-faults OR faults                              [Software event]\n');
    expect(r.stdout).toContain('  pagefault:spf_vma_changed                          [Tracepoint event]\n');
    expectGolden('list.txt', r.stdout);
  });

  it('--json is one parseable document with every event', () => {
    const r = spfperf(['list', '--json']);
    const events = JSON.parse(r.stdout) as { name: string; kind: string }[];
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['page-faults', 'speculative-faults', 'pgfault']));
  });

  it('--workloads names the shipped workloads with their parameters', () => {
    const r = spfperf(['list', '--workloads']);
    expect(r.stdout).toMatch(/^  ebizzy /m);
    expect(r.stdout).toMatch(/^  page_fault1 /m);
    expect(r.stdout).toMatch(/^ +threads=\$ncpus/m);
  });
});
