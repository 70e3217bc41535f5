import { describe, expect, it } from 'vitest';
import { spfperf } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';

describe('spfperf list', () => {
  it('prints perf list\'s layout (golden)', async () => {
    const r = await spfperf(['list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('  page-faults OR faults                              [Software event]\n');
    expect(r.stdout).toContain('  pagefault:spf_vma_changed                          [Tracepoint event]\n');
    expectGolden('list.txt', r.stdout);
  });

  it('--json is one parseable document with every event', async () => {
    const r = await spfperf(['list', '--json']);
    const events = JSON.parse(r.stdout) as { name: string; kind: string }[];
    expect(events.map((e) => e.name)).toEqual(expect.arrayContaining(['page-faults', 'speculative-faults', 'pgfault']));
  });

  it('--configs lists the presets, then every key with its values (the default first) and what it does', async () => {
    const r = await spfperf(['list', '--configs']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Presets \(--config NAME\):\n┌─+┬/);
    expect(r.stdout).toMatch(/^│ base +│ +│ classic page faults only/m);
    expect(r.stdout).toMatch(/^│ dufour-v11 +│ spf +│ Dufour SPF v11/m);
    expect(r.stdout).toContain('\nKeys (--config KEY=VALUE');
    expect(r.stdout).toMatch(/^│ vmacache +│ none, mm, task +│ find_vma's cache/m);
    expect(r.stdout).toMatch(/^│ lazy_tlb +│ skip, ipi +│/m);
    expect(r.stdout).toMatch(/^│ CONFIG_RWSEM_SPIN_ON_OWNER +│ y, n +│/m);
    expect(r.stdout).toMatch(/^│ khugepaged_pages +│ N \(4096\) +│/m);
  });

  it('--configs, --machines and --workloads as tables (golden)', async () => {
    for (const what of ['configs', 'machines', 'workloads']) {
      const r = await spfperf(['list', `--${what}`]);
      expect(r.status).toBe(0);
      expect(r.stderr).toBe('');
      expectGolden(`list.${what}.txt`, r.stdout);
    }
  });

  it('--workloads names the shipped workloads with their parameters', async () => {
    const r = await spfperf(['list', '--workloads']);
    expect(r.stdout).toMatch(/^│ ebizzy +│ ebizzy 0\.3: /m);
    expect(r.stdout).toMatch(/^│ page_fault1 +│/m);
    expect(r.stdout).toMatch(/^│ +│ threads=\$ncpus +│ worker threads/m);
  });
});
